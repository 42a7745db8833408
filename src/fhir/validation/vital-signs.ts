import type { StructureDefinition } from '@medplum/fhirtypes';
import type { ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * "If a resource uses one of the vital signs codes, it SHALL conform to the corresponding vital
 * signs profile" (http://hl7.org/fhir/R4/observation-vitalsigns.html). An Observation whose code
 * has the LOINC code of a vital signs profile (its `Observation.code.coding:…Code.code`, 8310-5 for
 * bodytemp…) is checked against that profile, as the HL7 validator does ("Validate Observation
 * against the … profile (…) which is required by the FHIR specification because the LOINC code …
 * was found"), whether or not it claims it. The obligation is the vital sign's, not its code
 * system's (observation.html#vitals: an Observation that records one of these vital signs uses its
 * profile), so an Observation with none of those LOINC codes but a SNOMED CT code for the same
 * measurement is checked against the profile too, with the HL7 validator's table of SNOMED CT codes
 * (SNOMED_CT_VITAL_SIGNS); the profile then asks for its LOINC code beside the SNOMED CT one.
 * These are profile issues: a message carrying such an Observation is accepted with warnings.
 */

const VITAL_SIGNS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
const LOINC = 'http://loinc.org';
const SNOMED_CT = 'http://snomed.info/sct';
const CORE = 'http://hl7.org/fhir/StructureDefinition/';

/**
 * SNOMED CT codes of the measurement each vital signs profile records, in the HL7 validator's order
 * (the first profile listing a code wins; 271306003, which that table lists under both respiratory
 * and heart rate, is left out as ambiguous).
 */
const SNOMED_CT_VITAL_SIGNS: ReadonlyArray<readonly [profile: string, codes: readonly string[]]> = [
  ['vitalspanel', ['46680005']],
  ['resprate', ['86290005', '271625008']],
  ['heartrate', ['249043002', '444981005', '399017001', '251670001', '429525003', '429614003']],
  ['oxygensat', ['442476006', '431314004']],
  ['bodytemp', ['386725007', '276885007', '300076005', '1222808002', '364246006', '307047009', '708499008', '431598003', '698831002', '698832009', '415882003', '415974002', '415929009', '415945006']],
  ['bodyheight', ['1153637007', '1162419008', '50373000', '1162418000', '1230278008', '1162392001', '1162417005']],
  ['headcircum', ['363812007', '169876006', '1269262007', '363811000']],
  ['bodyweight', ['735395000', '425024002', '424927000', '784399000', '1162416001', '1162415002']],
  ['bmi', ['60621009']],
  ['bp', ['251076008', '163033001', '163035008', '386534000', '386536003', '271649006', '271650006', '407556006', '407554009', '716579001', '399304008']],
];

interface VitalSign {
  url: string;
  title: string;
}

type Coding = { system?: unknown; code?: unknown } | null;

export function vitalSignsRule(registry: ConformanceRegistry): ValueCheck {
  let byCode: VitalSignCodes | undefined;
  return (value, path, ctx) => {
    const observation = value as { code?: { coding?: unknown }; meta?: { profile?: unknown } };
    const codings = observation.code?.coding;
    if (!Array.isArray(codings)) return;
    byCode ??= vitalSignCodes(registry);
    const claimed = Array.isArray(observation.meta?.profile) ? (observation.meta.profile as unknown[]) : [];
    const isClaimed = (sign: VitalSign) => claimed.some((p) => typeof p === 'string' && p.split('|')[0] === sign.url);
    const found = loincVitalSigns(codings as Coding[], byCode.loinc);
    if (found.length === 0) found.push(...snomedVitalSign(codings as Coding[], byCode.snomed));
    const done = new Set<string>();
    for (const { sign, system, code } of found) {
      if (done.has(sign.url) || isClaimed(sign)) continue;
      done.add(sign.url);
      ctx.issues.add(
        'information',
        'informational',
        path,
        `Validate Observation against the ${sign.title} profile (${sign.url}) which is required by the FHIR specification because the ${system} code ${code} was found`,
      );
      ctx.issues.underProfile(() => ctx.engine.checkAgainstProfile(sign.url, value, path, ctx));
    }
  };
}

interface Found {
  sign: VitalSign;
  system: 'LOINC' | 'SNOMED CT';
  code: string;
}

/** Each LOINC coding that is a vital signs profile's code. */
function loincVitalSigns(codings: Coding[], loinc: Map<string, VitalSign>): Found[] {
  const found: Found[] = [];
  for (const coding of codings) {
    if (coding?.system !== LOINC || typeof coding.code !== 'string') continue;
    const sign = loinc.get(coding.code);
    if (sign) found.push({ sign, system: 'LOINC', code: coding.code });
  }
  return found;
}

/** The first vital sign (in the table's order) one of the SNOMED CT codings records. */
function snomedVitalSign(codings: Coding[], snomed: ReadonlyArray<{ sign: VitalSign; codes: readonly string[] }>): Found[] {
  const codes = codings.filter((c) => c?.system === SNOMED_CT && typeof c.code === 'string').map((c) => (c as { code: string }).code);
  for (const { sign, codes: signCodes } of snomed) {
    const code = codes.find((c) => signCodes.includes(c));
    if (code) return [{ sign, system: 'SNOMED CT', code }];
  }
  return [];
}

interface VitalSignCodes {
  loinc: Map<string, VitalSign>;
  snomed: Array<{ sign: VitalSign; codes: readonly string[] }>;
}

/** The LOINC code each vital signs profile fixes on its code slice, and the SNOMED CT codes of the core ones held. */
function vitalSignCodes(registry: ConformanceRegistry): VitalSignCodes {
  const loinc = new Map<string, VitalSign>();
  const byUrl = new Map<string, VitalSign>();
  for (const sd of registry.allStructureDefinitions()) {
    if (sd.baseDefinition !== VITAL_SIGNS || !sd.url) continue;
    const code = magicCode(sd);
    if (!code) continue;
    const sign = { url: sd.url, title: (sd.title ?? sd.name ?? sd.url).replace(/^Observation /, '').replace(/ Profile$/, '') };
    loinc.set(code, sign);
    byUrl.set(sd.url, sign);
  }
  const snomed = SNOMED_CT_VITAL_SIGNS.flatMap(([id, codes]) => {
    const sign = byUrl.get(CORE + id);
    return sign ? [{ sign, codes }] : [];
  });
  return { loinc, snomed };
}

function magicCode(sd: StructureDefinition): string | undefined {
  const elements = sd.snapshot?.element ?? sd.differential?.element ?? [];
  const system = elements.find((e) => /^Observation\.code\.coding:[^.]+\.system$/.test(e.id ?? '') && (e.fixedUri ?? e.patternUri) === LOINC);
  if (!system?.id) return undefined;
  const slice = system.id.slice(0, -'.system'.length);
  const code = elements.find((e) => e.id === `${slice}.code`);
  return code?.fixedCode ?? code?.patternCode;
}

/**
 * The units of a vital sign's components (Observation.component.value[x], bound to Vital Signs Units)
 * are checked as an extensible binding, as the HL7 validator checks them: a component such as an
 * inhaled oxygen flow (L/min) beside an oxygen saturation has no unit in that value set. Returns a
 * copy of the profile; the shared R4 definitions are not changed.
 */
export function withExtensibleComponentUnits(sd: StructureDefinition): StructureDefinition {
  const correct = (elements: StructureDefinition['snapshot'] | undefined) =>
    elements && {
      ...elements,
      element: elements.element.map((e) =>
        e.path === 'Observation.component.value[x]' && e.binding?.strength === 'required' ? { ...e, binding: { ...e.binding, strength: 'extensible' as const } } : e,
      ),
    };
  return { ...sd, snapshot: correct(sd.snapshot), differential: correct(sd.differential) };
}
