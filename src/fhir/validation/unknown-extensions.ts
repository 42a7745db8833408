import type { StructureDefinition } from '@medplum/fhirtypes';
import type { ValidationContext } from './context.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * Extensions whose definition the validator does not hold
 * (http://hl7.org/fhir/R4/extensibility.html#exchange: "the receiver SHALL … ignore or reject").
 * The HL7 validator rejects them, as its command line and `$validate` do by default: "The extension
 * … could not be found so is not allowed here", unless the URL is in a domain it was told to allow
 * (its `-extension` option), an example domain, or one of its own tool extensions. A
 * cross-version extension (`http://hl7.org/fhir/1.0/StructureDefinition/extension-…`) is built
 * by the HL7 validator from another FHIR version's definitions, which Stepwise does not hold: it
 * cannot be checked, so it is a warning; so is an unknown URL in the core namespace
 * (http://hl7.org/fhir/StructureDefinition/), where the HL7 validator also finds the extensions
 * pack published after R4, which Stepwise does not hold. The issue type is `extension` ("an extension was found that
 * was not acceptable, could not be resolved", valueset-issue-type.html; a processing issue, so a
 * refused write is 422, not 400: its content is well-formed).
 */
export type UnknownExtensionSeverity = 'warning' | 'error';

/** URLs the HL7 validator accepts without a definition (its allowUnknownExtension: DICOM's nema.org, its tools; examples when allowed). */
const ALWAYS_ALLOWED = [/nema\.org/, /^http:\/\/hl7\.org\/fhir\/tools\/StructureDefinition\//];
const EXAMPLES = [/example\.org/, /acme\.com/];
const ALWAYS_ALLOWED_URLS = new Set(['http://hl7.org/fhir/StructureDefinition/structuredefinition-expression']);
const CROSS_VERSION = /^http:\/\/hl7\.org\/fhir\/\d\.\d\/StructureDefinition\/extension-/;
const CORE = 'http://hl7.org/fhir/StructureDefinition/';
const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/**
 * Whether an extension without a definition may be used: an allowed domain (a URL prefix), a tool
 * URL, or an example one unless example URLs are not allowed (ValidateOptions.allowExampleUrls).
 */
export function isUnknownExtensionAllowed(url: string, domains: readonly string[] = [], allowExamples = true): boolean {
  if (ALWAYS_ALLOWED_URLS.has(url) || ALWAYS_ALLOWED.some((re) => re.test(url))) return true;
  if (allowExamples && EXAMPLES.some((re) => re.test(url))) return true;
  return domains.some((domain) => url.startsWith(domain));
}

/**
 * Reports an extension (top level, absolute URL) that no definition in the registry describes.
 * Without a severity asked for, only an unknown core URL (probably a typo) is reported, as a
 * warning: other extensions pass unnoticed, as before the option existed.
 */
export function reportUnknownExtension(url: string, path: string, ctx: ValidationContext): void {
  const severity = ctx.unknownExtension;
  if (CROSS_VERSION.test(url)) {
    if (severity) ctx.issues.warning('not-supported', path, `The cross-version extension ${url} cannot be checked: this validator holds no definitions of other FHIR versions`);
    return;
  }
  if (!severity) {
    if (url.startsWith(CORE)) ctx.issues.warning('structure', `${path}.url`, `Extension ${url} is not a known FHIR R4 extension`);
    return;
  }
  if (url.startsWith(CORE)) {
    // the HL7 validator also reads the HL7 extensions pack (hl7.fhir.uv.extensions), published after
    // R4 under this same namespace: an extension from it is known there, and cannot be judged here
    ctx.issues.warning(
      'extension',
      path,
      `The extension ${url} is not an R4 core extension; it cannot be checked (it may be one of the HL7 extensions pack, which this validator does not hold)`,
    );
    return;
  }
  if (severity === 'error' && !isUnknownExtensionAllowed(url, ctx.extensionDomains, ctx.allowExampleUrls !== false)) {
    ctx.issues.error('extension', path, `The extension ${url} could not be found so is not allowed here`);
  } else {
    ctx.issues.warning('extension', path, `Unknown extension ${url}`);
  }
}

/**
 * A part of a complex extension is named by a bare URL that its extension's definition must
 * define, as a slice of Extension.extension fixed to that URL (extensibility.html#url; the HL7
 * validator: "Sub-extension url '…' is not defined by the Extension …"). Unknown parent, no check.
 */
export function checkSubExtensionUrl(url: string, parent: StructureDefinition | undefined, path: string, ctx: ValidationContext): void {
  if (!parent || ABSOLUTE.test(url)) return;
  const elements = parent.snapshot?.element ?? parent.differential?.element ?? [];
  const defined = elements.some((e) => e.path === 'Extension.extension.url' && e.fixedUri === url && e.id?.startsWith('Extension.extension:'));
  if (defined) return;
  // a definition with no slices on Extension.extension says nothing about its parts
  if (!elements.some((e) => e.path === 'Extension.extension' && e.sliceName)) return;
  ctx.issues.underProfile(() => ctx.issues.error('structure', `${path}.url`, `Sub-extension url '${url}' is not defined by the Extension ${parent.url}`));
}

/** The definition of the Extension that holds a part (`host`), if the registry has it. */
export function parentExtensionDefinition(registry: ConformanceRegistry, hostValue: unknown): StructureDefinition | undefined {
  const url = (hostValue as { url?: unknown } | null)?.url;
  if (typeof url !== 'string') return undefined;
  const sd = registry.getStructureDefinition(url);
  return sd?.type === 'Extension' ? sd : undefined;
}
