import { createRequire } from 'node:module';
import type { CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';

/**
 * ISO 3166-1 country codes as a CodeSystem the validator holds. FHIR names the system
 * `urn:iso:std:iso:3166` and counts its alpha-2, alpha-3 and numeric codes as codes of it
 * (http://hl7.org/fhir/R4/terminologies-systems.html; R4's value sets iso3166-1-2, iso3166-1-3 and
 * iso3166-1-N select each kind from the one system). jurisdiction, bound to every conformance
 * resource and used by Questionnaires, includes the whole system.
 *
 * The codes and English names come from i18n-iso-countries (pinned in package.json), which follows
 * ISO's changes; R4 itself publishes only the alpha-2 codes with a display each (iso3166-1-2), and
 * no CodeSystem. Every English name either source gives is an accepted display: the package's
 * first name is the concept's display, the rest (its other names, R4's) are designations.
 */
export const ISO_3166 = 'urn:iso:std:iso:3166';

/** R4's list of the alpha-2 codes with their English short names. */
export const ISO_3166_ALPHA2_VALUE_SET = 'http://hl7.org/fhir/ValueSet/iso3166-1-2';

/**
 * ISO 3166-1 leaves some alpha-2 codes to its users: AA, QM–QZ, XA–XZ and ZZ. They are codes of
 * the system to the terminology server the HL7 validator asks (XK is widely used for Kosovo, ZZ for
 * an unknown territory), so they are here, named "User-assigned" unless the package names them;
 * the package's alpha-3 and numeric forms of XK (XKK, 983) are not codes there, nor here.
 */
const USER_ASSIGNED = /^(AA|Q[M-Z]|X[A-Z]|ZZ)$/;

function userAssignedAlpha2(): string[] {
  const letters = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
  return ['AA', ...letters.filter((l) => l >= 'M').map((l) => `Q${l}`), ...letters.map((l) => `X${l}`), 'ZZ'];
}

/** i18n-iso-countries' data: one row per country, `[alpha-2, alpha-3, numeric, …]`. */
type CodeRows = Array<[string, string, string, ...string[]]>;
/** Its English names: one name, or several with the usual one first. */
type EnglishNames = { countries: Record<string, string | string[]> };

/**
 * The package's two data files, read as JSON. Its API (index.js) builds the same lookups from
 * them, but loading it costs 20–30 ms of start-up against 2 ms here, and its Node entry also
 * registers all of its ~80 languages. The version is pinned, so the files' shape is fixed.
 */
function readCountries(): Array<{ codes: string[]; names: string[] }> {
  const require = createRequire(import.meta.url);
  const rows = require('i18n-iso-countries/codes.json') as CodeRows;
  const english = (require('i18n-iso-countries/langs/en.json') as EnglishNames).countries;
  return rows.map(([alpha2, alpha3, numeric]) => {
    const names = english[alpha2] ?? [];
    return { codes: [alpha2, alpha3, numeric], names: Array.isArray(names) ? names : [names] };
  });
}

/**
 * R4's display for each alpha-2 code, from its iso3166-1-2 value set; where it doubles an apostrophe
 * ("Côte d''Ivoire", an escape left in the published list) also the name as written.
 */
function r4Displays(valueSet: ValueSet | undefined): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const include of valueSet?.compose?.include ?? []) {
    if (include.system !== ISO_3166) continue;
    for (const c of include.concept ?? []) if (c.code && c.display) out.set(c.code, [c.display, c.display.replaceAll("''", "'")]);
  }
  return out;
}

/**
 * The CodeSystem urn:iso:std:iso:3166: for each country of ISO 3166-1 its alpha-2, alpha-3 and
 * numeric code, each with the country's English names. `r4AlphaTwo` is R4's iso3166-1-2 value set,
 * whose displays are accepted as well.
 */
export function iso3166CodeSystem(r4AlphaTwo?: ValueSet): CodeSystem {
  const fromR4 = r4Displays(r4AlphaTwo);
  const concept: CodeSystemConcept[] = [];
  const named = new Set<string>();
  const add = (codes: string[], english: string[]): void => {
    const [display, ...others] = english;
    const designation = others.map((value) => ({ language: 'en', value }));
    for (const code of codes) concept.push({ code, display, ...(designation.length ? { designation } : {}) });
  };
  for (const { codes, names } of readCountries()) {
    const alpha2 = codes[0];
    const english = unique([...names, ...(fromR4.get(alpha2) ?? [])]);
    if (english.length === 0) continue;
    add(USER_ASSIGNED.test(alpha2) ? [alpha2] : codes, english);
    named.add(alpha2);
  }
  for (const code of userAssignedAlpha2()) if (!named.has(code)) add([code], ['User-assigned']);
  return {
    resourceType: 'CodeSystem',
    url: ISO_3166,
    name: 'ISO3166Part1',
    title: 'ISO 3166-1 Codes for the representation of names of countries',
    status: 'active',
    content: 'complete',
    caseSensitive: true,
    concept,
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
