import type { ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * A CodeSystem supplement adds designations and properties to another code system; it defines no
 * codes of its own (http://hl7.org/fhir/R4/codesystem.html#supplements: "supplements … SHALL NOT
 * define new concepts"), so a Coding cannot name one as its system. The HL7 validator: "CodeSystem …
 * is a supplement, so can't be used as a value in Coding.system".
 */
export function supplementSystemRule(registry: ConformanceRegistry): ValueCheck {
  return (value, path, ctx) => {
    const system = (value as { system?: unknown } | null)?.system;
    if (typeof system !== 'string') return;
    const cs = registry.getCodeSystem(system);
    if (cs?.content !== 'supplement' && !cs?.supplements) return; // supplements names what it supplements; content may be wrong (then also an error of its own)
    const supplements = cs.supplements ? ` (it supplements ${cs.supplements})` : '';
    ctx.issues.error('code-invalid', `${path}.system`, `CodeSystem ${system} is a supplement, so can't be used as a value in Coding.system${supplements}`);
  };
}
