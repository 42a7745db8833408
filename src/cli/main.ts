import { runConvert } from './convert-command.js';
import { runMap } from './map-command.js';
import { runOutbox } from './outbox-command.js';
import { runPackage } from './package-command.js';
import { runValidate } from './validate-command.js';

const USAGE = `usage: stepwise <command> [options]

commands:
  convert <file> --to json|xml [--out file]   convert a FHIR resource between JSON and XML
  validate <file…> [--profile url] [--ig path] validate JSON or XML resources against R4, the Stepwise profiles and those loaded with --ig
  package load <tgz…> [--database-url url]    load FHIR NPM packages (UK Core, BaRS) into the database, for validation
  outbox list [--state dead] | replay <id…>   outbound messages to partners: list them, send dead ones again
  map --from <format> --to <format> <file>    map a partner payload through FHIR (fhir, bars, mhsds-json, mhsds-csv, nhs111-pem)
`;

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

const defaultIo: Io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) };

/** Dispatches a CLI command; returns the process exit code. */
export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'convert':
      return runConvert(rest, io);
    case 'validate':
      return runValidate(rest, io);
    case 'map':
      return runMap(rest, io);
    case 'package':
      return runPackage(rest, io);
    case 'outbox':
      return runOutbox(rest, io);
    case undefined:
    case '--help':
    case '-h':
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    default:
      io.stderr(`stepwise: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}
