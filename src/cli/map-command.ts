import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FhirError } from '../errors.js';
import { requireFormat } from '../mapping/formats.js';
import type { Payload } from '../mapping/format.js';
import '../mapping/registered-formats.js';
import { ExitCode, parseCommandArgs, usageError, type CommandIo, type CommandUsage } from './command-args.js';

const USAGE = `Usage: stepwise map --from <format> --to <format> <file|folder> [--out <file|folder>]

Maps a partner payload through FHIR: read as --from, written as --to (fhir gives the FHIR Bundle).
Formats: fhir, bars, mhsds-json, mhsds-csv, nhs111-pem.
mhsds-csv is one CSV per table: in, a folder of <Table>.csv files or one <Table>.csv; out, a folder
(--out) or, without it, each table on stdout after a "# <Table>.csv" line.
Every defect and every field that could not be mapped is written to stderr, with its place in the
source (MHS001MPI[2].NHSNumber); the mapping goes on.
Exit codes: 0 mapped, 1 the payload could not be read (reason on stderr), 2 usage or file error.
`;
const COMMAND: CommandUsage = { name: 'map', usage: USAGE };

/** `stepwise map --from mhsds-json --to fhir records.json` (issue 14). */
export async function runMap(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs(COMMAND, args, { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } }, io);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usageError(COMMAND, io, 'Expected exactly one input file or folder');
  if (!values.from || !values.to) return usageError(COMMAND, io, '--from and --to are both required');
  try {
    const from = requireFormat(values.from, 'read', '--from');
    const to = requireFormat(values.to, 'write', '--to');
    let payload: Payload;
    try {
      payload = await readPayload(positionals[0], from.name);
    } catch (err) {
      io.stderr(`stepwise map: cannot read ${positionals[0]}: ${err instanceof Error ? err.message : String(err)}\n`);
      return ExitCode.USAGE;
    }
    const read = await from.read!(payload);
    const written = await to.write!(read.result);
    for (const issue of [...read.issues, ...written.issues]) io.stderr(issueLine(issue));
    await writeOutput(written.result, values.out, io);
    return ExitCode.OK;
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    for (const issue of err.issues) io.stderr(issueLine(issue));
    // an unknown or unserved format is a usage error; a payload that cannot be read is refused
    return err.issues.some((i) => i.expression?.[0] === '--from' || i.expression?.[0] === '--to') ? ExitCode.USAGE : ExitCode.INVALID_INPUT;
  }
}

/** A file as text; for mhsds-csv a folder of <Table>.csv files, or one <Table>.csv. */
async function readPayload(path: string, format: string): Promise<Payload> {
  if (format !== 'mhsds-csv') return readFile(path, 'utf8');
  if ((await stat(path)).isDirectory()) {
    const files = (await readdir(path)).filter((f) => f.endsWith('.csv')).sort();
    return Object.fromEntries(await Promise.all(files.map(async (f) => [basename(f, '.csv'), await readFile(join(path, f), 'utf8')] as const)));
  }
  return { [basename(path, '.csv')]: await readFile(path, 'utf8') };
}

async function writeOutput(result: Payload, out: string | undefined, io: CommandIo): Promise<void> {
  if (typeof result === 'string') {
    if (out) await writeFile(out, result.endsWith('\n') ? result : `${result}\n`);
    else io.stdout(result.endsWith('\n') ? result : `${result}\n`);
    return;
  }
  if (out) {
    await mkdir(out, { recursive: true });
    for (const [table, csv] of Object.entries(result)) await writeFile(join(out, `${table}.csv`), csv);
    return;
  }
  for (const [table, csv] of Object.entries(result)) io.stdout(`# ${table}.csv\n${csv}`);
}

function issueLine(i: OperationOutcomeIssue): string {
  return `${i.severity}${i.expression?.length ? ` ${i.expression.join(', ')}` : ''}: ${i.diagnostics ?? i.details?.text ?? i.code}\n`;
}
