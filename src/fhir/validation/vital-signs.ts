import type { StructureDefinition } from '@medplum/fhirtypes';
import type { ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * "If a resource uses one of the vital signs codes, it SHALL conform to the corresponding vital
 * signs profile" (http://hl7.org/fhir/R4/observation-vitalsigns.html). An Observation whose code
 * has the LOINC code of a vital signs profile (its `Observation.code.coding:…Code.code`, 8310-5 for
 * bodytemp…) is checked against that profile, as the HL7 validator does ("Validate Observation
 * against the … profile (…) which is required by the FHIR specification because the LOINC code …
 * was found"), whether or not it claims it. The HL7 validator also maps some SNOMED CT codes to
 * these profiles; the specification names only LOINC, and UK records code vital signs in SNOMED
 * CT without the profiles' LOINC codes, so SNOMED CT codes are not mapped here.
 */

const VITAL_SIGNS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
const LOINC = 'http://loinc.org';

interface VitalSign {
  url: string;
  title: string;
}

export function vitalSignsRule(registry: ConformanceRegistry): ValueCheck {
  let byCode: Map<string, VitalSign> | undefined;
  return (value, path, ctx) => {
    const observation = value as { code?: { coding?: unknown }; meta?: { profile?: unknown } };
    const codings = observation.code?.coding;
    if (!Array.isArray(codings)) return;
    byCode ??= vitalSignCodes(registry);
    const claimed = Array.isArray(observation.meta?.profile) ? (observation.meta.profile as unknown[]) : [];
    const done = new Set<string>();
    for (const coding of codings as Array<{ system?: unknown; code?: unknown } | null>) {
      if (coding?.system !== LOINC || typeof coding.code !== 'string') continue;
      const sign = byCode.get(coding.code);
      if (!sign || done.has(sign.url) || claimed.some((p) => typeof p === 'string' && p.split('|')[0] === sign.url)) continue;
      done.add(sign.url);
      ctx.issues.add(
        'information',
        'informational',
        path,
        `Validate Observation against the ${sign.title} profile (${sign.url}) which is required by the FHIR specification because the LOINC code ${coding.code} was found`,
      );
      ctx.issues.underProfile(() => ctx.engine.checkAgainstProfile(sign.url, value, path, ctx));
    }
  };
}

/** The LOINC code each vital signs profile fixes on its code slice. */
function vitalSignCodes(registry: ConformanceRegistry): Map<string, VitalSign> {
  const codes = new Map<string, VitalSign>();
  for (const sd of registry.allStructureDefinitions()) {
    if (sd.baseDefinition !== VITAL_SIGNS || !sd.url) continue;
    const code = magicCode(sd);
    if (code) codes.set(code, { url: sd.url, title: (sd.title ?? sd.name ?? sd.url).replace(/^Observation /, '').replace(/ Profile$/, '') });
  }
  return codes;
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
