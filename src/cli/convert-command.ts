import { readFile, stat, writeFile } from 'node:fs/promises';
import { FhirError, FhirErrorCode } from '../errors.js';
import { DEFAULT_MAX_BYTES, formatFhirJson, formatFhirXml } from '../fhir/xml/index.js';
import { ExitCode, parseCommandArgs, usageError, type CommandIo, type CommandUsage } from './command-args.js';
import { parseFhirInput } from './fhir-input.js';

export { ExitCode, type CommandIo } from './command-args.js';

const USAGE = `Usage: stepwise convert <input.xml|input.json> --to json|xml [--out <file>] [--compact]

Converts one FHIR R4 resource between XML and JSON. The input format is read from the content.
Output goes to stdout, or to --out. Output is indented unless --compact.
Exit codes: 0 converted, 1 input refused (reason on stderr), 2 usage or file error.
`;
const COMMAND: CommandUsage = { name: 'convert', usage: USAGE };

/** `stepwise convert in.xml --to json` and `stepwise convert in.json --to xml [--out file]`. */
export async function runConvert(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs(COMMAND, args, { to: { type: 'string' }, out: { type: 'string' }, compact: { type: 'boolean' } }, io);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usageError(COMMAND, io, 'Expected exactly one input file');
  if (values.to !== 'json' && values.to !== 'xml') return usageError(COMMAND, io, '--to must be json or xml');
  const [input] = positionals;

  let text: string;
  try {
    // Refuse before reading a file the parsers would refuse anyway (FhirError below).
    if ((await stat(input)).size > DEFAULT_MAX_BYTES) {
      return refused(io, input, new FhirError(FhirErrorCode.INVALID, `Input is larger than the limit of ${DEFAULT_MAX_BYTES} bytes`));
    }
    text = await readFile(input, 'utf8');
  } catch (err) {
    io.stderr(`stepwise convert: cannot read ${input}: ${err instanceof Error ? err.message : String(err)}\n`);
    return ExitCode.USAGE;
  }

  let output: string;
  try {
    const resource = parseFhirInput(text);
    const pretty = !values.compact;
    output =
      values.to === 'json'
        ? formatFhirJson(resource, { pretty })
        : `<?xml version="1.0" encoding="UTF-8"?>\n${formatFhirXml(resource, { pretty })}`;
  } catch (err) {
    if (err instanceof FhirError) return refused(io, input, err);
    throw err;
  }

  if (values.out === undefined) {
    io.stdout(`${output}\n`);
    return ExitCode.OK;
  }
  try {
    await writeFile(values.out, `${output}\n`, 'utf8');
  } catch (err) {
    io.stderr(`stepwise convert: cannot write ${values.out}: ${err instanceof Error ? err.message : String(err)}\n`);
    return ExitCode.USAGE;
  }
  return ExitCode.OK;
}

function refused(io: CommandIo, input: string, err: FhirError): number {
  for (const issue of err.issues) {
    const where = issue.expression?.length ? ` (at ${issue.expression.join(', ')})` : '';
    io.stderr(`stepwise convert: ${input}: ${issue.diagnostics}${where}\n`);
  }
  return ExitCode.INVALID_INPUT;
}
