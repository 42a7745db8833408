import type { ElementDefinition } from '@medplum/fhirtypes';
import type { ValidationContext } from './context.js';

/**
 * What a profile may require of a Narrative (the HL7 validator's "Rules about Narrative", FHIR
 * extensions pack), with two extensions on the element definition:
 * - `narrative-language-control` (repeating): `_no` — the div holds no language sections; `_yes` —
 *   it holds some; `_resource` — one in the resource's own language; any other value is a language
 *   that must have a section. Language sections are the root's child elements when all of them are
 *   divs with a `lang` or `xml:lang` attribute.
 * - `narrative-source-control`: every text must be inside an element whose class says where it came
 *   from (boilerplate, generated, extension, additional; `original` is accepted as well), reported
 *   with the severity the extension gives (error, warning, otherwise information).
 */

const LANGUAGE_CONTROL = 'http://hl7.org/fhir/StructureDefinition/narrative-language-control';
const SOURCE_CONTROL = 'http://hl7.org/fhir/StructureDefinition/narrative-source-control';
const SOURCE_CLASSES = new Set(['boilerplate', 'generated', 'extension', 'additional', 'original']);

type Check = (value: unknown, type: string, path: string, ctx: ValidationContext) => void;

export function narrativeControlChecks(def: ElementDefinition, url: string): Check[] {
  const extensions = def.extension ?? [];
  const languages = extensions.filter((e) => e.url === LANGUAGE_CONTROL && typeof e.valueCode === 'string').map((e) => e.valueCode as string);
  const level = extensions.find((e) => e.url === SOURCE_CONTROL)?.valueCode;
  const checks: Check[] = [];
  if (languages.length > 0) checks.push((value, _type, path, ctx) => checkLanguages(languages, value, path, ctx, url));
  if (level) checks.push((value, _type, path, ctx) => checkSources(level, value, path, ctx, url));
  return checks;
}

interface Parsed {
  /** Languages of the language sections, or undefined when the div is not divided into them. */
  sections: string[] | undefined;
  /** Texts that no ancestor element labels with a source class. */
  unlabelled: string[];
}

const TOKEN = /<!--[\s\S]*?-->|<\/?([A-Za-z][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|[^<]+/g;
const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function parse(div: string): Parsed {
  const stack: Array<{ name: string; labelled: boolean }> = [];
  const rootChildren: Array<{ name: string; lang?: string }> = [];
  const unlabelled: string[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(div); m; m = TOKEN.exec(div)) {
    const token = m[0];
    if (token.startsWith('<!--')) continue;
    if (m[1]) {
      if (token.startsWith('</')) {
        stack.pop();
        continue;
      }
      const attributes = new Map<string, string>();
      ATTRIBUTE.lastIndex = 0;
      for (let a = ATTRIBUTE.exec(m[2] ?? ''); a; a = ATTRIBUTE.exec(m[2] ?? '')) attributes.set(a[1], a[2] ?? a[3] ?? '');
      const classes = (attributes.get('class') ?? '').split(/\s+/);
      // The root div itself labels nothing: the rule is about the content.
      const labelled = stack.length > 0 && (stack.at(-1)?.labelled || classes.some((c) => SOURCE_CLASSES.has(c)));
      if (stack.length === 1) rootChildren.push({ name: m[1], lang: attributes.get('xml:lang') ?? attributes.get('lang') });
      if (m[3] !== '/') stack.push({ name: m[1], labelled: Boolean(labelled) });
      continue;
    }
    const text = token.trim();
    if (text && stack.length > 0 && !stack.at(-1)?.labelled) unlabelled.push(text.replace(/\s+/g, ' '));
  }
  const divided = rootChildren.length > 0 && rootChildren.every((c) => c.name === 'div' && c.lang);
  return { sections: divided ? rootChildren.map((c) => c.lang as string) : undefined, unlabelled };
}

function divOf(value: unknown): string | undefined {
  const div = (value as { div?: unknown } | null)?.div;
  return typeof div === 'string' ? div : undefined;
}

function checkLanguages(rules: string[], value: unknown, path: string, ctx: ValidationContext, url: string): void {
  const div = divOf(value);
  if (div === undefined) return;
  const { sections } = parse(div);
  const found = sections ?? [];
  for (const rule of rules) {
    if (rule === '_no' && sections) {
      ctx.issues.error('business-rule', path, `The xhtml has some language sections (${found.join(', ')}), but language sections are prohibited in this context by the profile ${url}`);
    } else if (rule === '_yes' && !sections) {
      ctx.issues.error('business-rule', path, `The xhtml has no language sections, but language sections are required in this context by the profile ${url}`);
    } else if (!rule.startsWith('_') || rule === '_resource') {
      const language = rule === '_resource' ? (ctx.resource.value as { language?: unknown }).language : rule;
      if (typeof language !== 'string' || found.includes(language)) continue;
      ctx.issues.error(
        'business-rule',
        path,
        `The profile ${url} requires a section in the narrative for the ${rule === '_resource' ? 'resource language' : 'language'} (${language}), but it was not found (found ${found.join(', ') || 'none'})`,
      );
    }
  }
}

function checkSources(level: string, value: unknown, path: string, ctx: ValidationContext, url: string): void {
  const div = divOf(value);
  if (div === undefined) return;
  const severity = level === 'error' ? 'error' : level === 'warning' ? 'warning' : 'information';
  for (const text of parse(div).unlabelled) {
    ctx.issues.add(
      severity,
      'business-rule',
      path,
      `The xhtml node at '${text.slice(0, 60)}' does not have a class attribute to indicate its source (boilerplate, generated, extension, additional), and the profile ${url} requires one`,
    );
  }
}
