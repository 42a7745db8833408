import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../errors.js';
import { isError } from '../fhir/resource-validator.js';
import { serverValidator } from '../fhir/server-validator.js';
import { parseFhirJson, parseFhirXml } from '../fhir/xml/index.js';
import { ExitCode, type CommandIo } from './convert-command.js';

const USAGE = `Usage: stepwise validate <file…> [--profile <url>]… [--quiet]

Validates FHIR R4 resources (JSON or XML, read from the content) against R4 and the Stepwise
profiles, plus every --profile named. Prints each file's issues with their FHIRPath location.
Exit codes: 0 no errors, 1 at least one file has errors or cannot be read as FHIR, 2 usage error.
`;

/** `stepwise validate a.json b.xml --profile https://…` for integrators. */
export async function runValidate(args: string[], io: CommandIo): Promise<number> {
  let values: { profile?: string[]; quiet?: boolean; help?: boolean };
  let files: string[];
  try {
    ({ values, positionals: files } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { profile: { type: 'string', multiple: true }, quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    io.stderr(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return ExitCode.USAGE;
  }
  if (values.help) {
    io.stdout(USAGE);
    return ExitCode.OK;
  }
  if (files.length === 0) {
    io.stderr(`No files given.\n${USAGE}`);
    return ExitCode.USAGE;
  }
  const validator = serverValidator();
  let failed = 0;
  for (const file of files) {
    let issues: OperationOutcomeIssue[];
    try {
      const resource = parse(await readFile(file, 'utf8'));
      // the HL7 validator's command line refuses extensions it has no definition for
      issues = validator.validate(resource, { profiles: values.profile ?? [], unknownExtension: 'error' });
    } catch (err) {
      const message = err instanceof FhirError || err instanceof Error ? err.message : String(err);
      issues = [{ severity: 'fatal', code: 'structure', diagnostics: message }];
    }
    const errors = issues.filter(isError);
    if (errors.length) failed++;
    io.stdout(`${file}: ${errors.length ? `${errors.length} error(s)` : 'valid'}${issues.length > errors.length ? `, ${issues.length - errors.length} warning(s)` : ''}\n`);
    for (const i of issues) {
      if (values.quiet && !isError(i)) continue;
      io.stdout(`  ${i.severity.padEnd(7)} ${(i.expression ?? ['-'])[0]}: ${i.diagnostics ?? i.details?.text ?? i.code}\n`);
    }
  }
  return failed ? ExitCode.INVALID_INPUT : ExitCode.OK;
}

function parse(text: string): Resource {
  return text.trimStart().startsWith('<') ? parseFhirXml(text) : parseFhirJson(text);
}
