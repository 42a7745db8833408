import { readFile, stat, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../errors.js';
import { DEFAULT_MAX_BYTES, formatFhirJson, formatFhirXml, parseFhirJson, parseFhirXml } from '../fhir/xml/index.js';

export interface CommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/** Exit codes: 0 done; 1 the input is not a FHIR R4 resource we accept; 2 usage or file error. */
export const ExitCode = { OK: 0, INVALID_INPUT: 1, USAGE: 2 } as const;

const USAGE = `Usage: stepwise convert <input.xml|input.json> --to json|xml [--out <file>] [--compact]

Converts one FHIR R4 resource between XML and JSON. The input format is read from the content.
Output goes to stdout, or to --out. Output is indented unless --compact.
Exit codes: 0 converted, 1 input refused (reason on stderr), 2 usage or file error.
`;

/** `stepwise convert in.xml --to json` and `stepwise convert in.json --to xml [--out file]`. */
export async function runConvert(args: string[], io: CommandIo): Promise<number> {
  let values: { to?: string; out?: string; compact?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        to: { type: 'string' },
        out: { type: 'string' },
        compact: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return usageError(io, err instanceof Error ? err.message : String(err));
  }
  if (values.help) {
    io.stdout(USAGE);
    return ExitCode.OK;
  }
  if (positionals.length !== 1) return usageError(io, 'Expected exactly one input file');
  if (values.to !== 'json' && values.to !== 'xml') return usageError(io, '--to must be json or xml');
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
    const resource = parseInput(text);
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

/** XML starts with `<` (declaration, comment or root), JSON with `{`; anything else is neither. */
function parseInput(text: string): Resource {
  const first = /^\uFEFF?\s*(\S)/.exec(text)?.[1];
  if (first === '<') return parseFhirXml(text);
  if (first === '{') return parseFhirJson(text.replace(/^\uFEFF/, ''));
  throw new FhirError(FhirErrorCode.INVALID, 'Input is neither FHIR XML nor FHIR JSON');
}

function refused(io: CommandIo, input: string, err: FhirError): number {
  for (const issue of err.issues) {
    const where = issue.expression?.length ? ` (at ${issue.expression.join(', ')})` : '';
    io.stderr(`stepwise convert: ${input}: ${issue.diagnostics}${where}\n`);
  }
  return ExitCode.INVALID_INPUT;
}

function usageError(io: CommandIo, message: string): number {
  io.stderr(`stepwise convert: ${message}\n${USAGE}`);
  return ExitCode.USAGE;
}
