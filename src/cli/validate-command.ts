import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FhirError } from '../errors.js';
import { isError } from '../fhir/resource-validator.js';
import { parseReferenceString } from '../fhir/search/reference.js';
import { createServerValidator, serverValidator } from '../fhir/server-validator.js';
import type { ValidateOptions } from '../fhir/validation/index.js';
import { ExitCode, type CommandIo } from './convert-command.js';
import { loadDefinitions } from './definitions-from-files.js';
import { parseFhirInput } from './fhir-input.js';

const USAGE = `Usage: stepwise validate <file…> [--profile <url>]… [options]

Validates FHIR R4 resources (JSON or XML, read from the content) against R4 and the Stepwise
profiles, plus every --profile named. Prints each file's issues with their FHIRPath location.
Options, as the HL7 validator's command line names them:
  --profile <url>                  also check this profile (repeatable)
  --ig <file|folder|package.tgz>   load profiles, value sets, code systems, Questionnaires (a
                                   resource, a Bundle, a folder of them or a FHIR NPM package); other
                                   resources in it are what references to them resolve to (repeatable)
  --extension <url prefix>         extensions under this prefix may be used without a definition
  --security-checks                no primitive value but the narrative may contain an HTML-like tag
  --allow-example-urls <true|false> false: URLs in example domains (example.org, acme.com...) are
                                   errors, and example extensions need a definition (default true)
  --html-in-markdown <ignore|warning|error>  how HTML tags in markdown are reported (default ignore)
  --allow-comments                 read JSON with // and /* */ comments (default: not JSON)
  --ignore-contained               do not validate contained resources
  --quiet, -q                      print errors only
Exit codes: 0 no errors, 1 at least one file has errors or cannot be read as FHIR, 2 usage error.
`;

/** `stepwise validate a.json b.xml --profile https://…` for integrators. */
export async function runValidate(args: string[], io: CommandIo): Promise<number> {
  let values: {
    profile?: string[];
    ig?: string[];
    extension?: string[];
    quiet?: boolean;
    help?: boolean;
    'security-checks'?: boolean;
    'allow-example-urls'?: string;
    'html-in-markdown'?: string;
    'allow-comments'?: boolean;
    'ignore-contained'?: boolean;
  };
  let files: string[];
  try {
    ({ values, positionals: files } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        profile: { type: 'string', multiple: true },
        ig: { type: 'string', multiple: true },
        extension: { type: 'string', multiple: true },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
        'security-checks': { type: 'boolean' },
        'allow-example-urls': { type: 'string' },
        'html-in-markdown': { type: 'string' },
        'allow-comments': { type: 'boolean' },
        'ignore-contained': { type: 'boolean' },
      },
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
  const options = validateOptions(values);
  if (typeof options === 'string') {
    io.stderr(`${options}\n${USAGE}`);
    return ExitCode.USAGE;
  }
  let validator = serverValidator();
  if (values.ig?.length) {
    validator = createServerValidator();
    const loaded = await loadDefinitions(validator, values.ig).catch((err: unknown) => `${err instanceof Error ? err.message : String(err)}`);
    if (typeof loaded === 'string') {
      io.stderr(`--ig: ${loaded}\n`);
      return ExitCode.USAGE;
    }
    for (const problem of loaded.problems) io.stderr(`--ig: left out ${problem}\n`);
    options.resolveReference = (reference) => {
      const { type, id } = parseReferenceString(reference);
      return (type && id ? loaded.others.get(`${type}/${id}`) : undefined) as Record<string, unknown> | undefined;
    };
  }
  let failed = 0;
  for (const file of files) {
    let issues: OperationOutcomeIssue[];
    try {
      const resource = parseFhirInput(await readFile(file, 'utf8'), { allowComments: values['allow-comments'] });
      issues = validator.validate(resource, options);
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

/** The validation the flags ask for, or what is wrong with them. */
function validateOptions(values: {
  profile?: string[];
  extension?: string[];
  'security-checks'?: boolean;
  'allow-example-urls'?: string;
  'html-in-markdown'?: string;
  'ignore-contained'?: boolean;
}): ValidateOptions | string {
  const examples = values['allow-example-urls'];
  if (examples !== undefined && examples !== 'true' && examples !== 'false') return `--allow-example-urls takes true or false, not ${examples}`;
  const markdown = values['html-in-markdown'];
  if (markdown !== undefined && !['ignore', 'warning', 'error'].includes(markdown)) return `--html-in-markdown takes ignore, warning or error, not ${markdown}`;
  return {
    profiles: values.profile ?? [],
    extensionDomains: values.extension,
    // the HL7 validator's command line refuses extensions it has no definition for
    unknownExtension: 'error',
    securityChecks: values['security-checks'],
    allowExampleUrls: examples === undefined ? undefined : examples === 'true',
    htmlInMarkdown: markdown === 'warning' || markdown === 'error' ? markdown : undefined,
    containedResources: values['ignore-contained'] ? 'ignore' : undefined,
  };
}
