import type { CodeSystem, CodeSystemConcept, MessageDefinition, MessageDefinitionFocus, UsageContext } from '@medplum/fhirtypes';
import { BARS } from './bars.js';
import { barsConformanceResources, barsMessageDefinitions } from './conformance.js';
import type { HostedService } from '../config/bars-services.js';

const WORKFLOW = { system: 'http://terminology.hl7.org/CodeSystem/usage-context-type', code: 'workflow' };
const VARIANT_STATE = 'http://terminology.hl7.org/CodeSystem/variant-state';

/**
 * The DoS service id in useContext, in both forms BaRS receivers are assured against (the pack's
 * old_format_serviceid_present and new_format_serviceid_present rules): the older form puts the id
 * in `code` (system dos-service-id) with a variant-state value; the newer one is a workflow
 * context whose value is the id. The BaRS API's MessageDefinition example (api-1.4.0) uses the
 * older form.
 */
function serviceContexts(service: HostedService): UsageContext[] {
  return [
    { code: { system: BARS.dosServiceId, code: service.dosId, display: service.name }, valueCodeableConcept: { coding: [{ system: VARIANT_STATE, code: 'positive' }] } },
    { code: WORKFLOW, valueCodeableConcept: { coding: [{ system: BARS.dosServiceId, code: service.dosId, display: service.name }] } },
  ];
}

/** The concepts of the BaRS use-case code system, as the package holds them. */
function useCaseConcepts(): CodeSystemConcept[] {
  const cs = barsConformanceResources().find((r): r is CodeSystem => r.resourceType === 'CodeSystem' && r.url === BARS.useCases);
  return cs?.concept ?? [];
}

/** Allowed count of one resource type in a message: the focus rows of a MessageDefinition summed per type. */
export interface FocusRule {
  type: string;
  min: number;
  max: number;
  profiles: string[];
}

/**
 * What each hosted service accepts: the BaRS MessageDefinitions named in its configuration, with
 * useContext naming the service's DoS id and use cases (BaRS API, GET /MessageDefinition).
 */
export class MessageCatalogue {
  private readonly byUrl: Map<string, MessageDefinition>;
  private readonly byDosId: Map<string, HostedService>;
  private readonly useCases: Set<string>;
  private readonly deprecatedUseCases: Set<string>;

  constructor(
    readonly services: HostedService[],
    definitions: MessageDefinition[] = barsMessageDefinitions(),
  ) {
    this.byUrl = new Map(definitions.map((d) => [d.url!, d]));
    this.byDosId = new Map(services.map((s) => [s.dosId, s]));
    const codes = useCaseConcepts();
    this.useCases = new Set(codes.map((c) => c.code));
    this.deprecatedUseCases = new Set(codes.filter((c) => /deprecated/i.test(c.display ?? '')).map((c) => c.code));
  }

  service(dosId: string): HostedService | undefined {
    return this.byDosId.get(dosId);
  }

  definition(url: string): MessageDefinition | undefined {
    return this.byUrl.get(url);
  }

  /** Whether `code` is a use case of BaRS (usecases-categories-bars), current or deprecated. */
  isUseCase(code: string): boolean {
    return this.useCases.has(code);
  }

  /**
   * The MessageDefinitions a service accepts; with use cases given, only if it takes one of them.
   * Each lists every use case the service takes: the filter chooses definitions, it does not
   * rewrite them. A deprecated use case (BaRS keeps `referraltopharmacy` as "Deprecated") does
   * not narrow the search: senders built before the split into a5t1-a5t3 still ask with it.
   */
  forService(service: HostedService, useCases: string[] = []): MessageDefinition[] {
    const current = useCases.filter((u) => !this.deprecatedUseCases.has(u));
    if (current.length && !current.some((u) => service.useCases.includes(u))) return [];
    return service.definitions
      .map((url) => this.byUrl.get(url))
      .filter((d): d is MessageDefinition => d !== undefined)
      .map((d) => ({
        ...d,
        id: `${service.key}-${d.url!.slice(d.url!.lastIndexOf('/') + 1)}`,
        useContext: [...serviceContexts(service), ...service.useCases.map((code) => ({ code: WORKFLOW, valueCodeableConcept: { coding: [{ system: BARS.useCases, code }] } }))],
      }));
  }
}

const rulesByDefinition = new WeakMap<MessageDefinition, ReadonlyMap<string, FocusRule>>();

/**
 * The focus rules of a MessageDefinition, one per resource type (rows of one type are summed).
 * Worked out once per definition: every message checked against it reads them several times.
 */
export function focusRules(md: MessageDefinition): ReadonlyMap<string, FocusRule> {
  let known = rulesByDefinition.get(md);
  if (!known) {
    known = readFocusRules(md);
    rulesByDefinition.set(md, known);
  }
  return known;
}

function readFocusRules(md: MessageDefinition): Map<string, FocusRule> {
  const rules = new Map<string, FocusRule>();
  for (const f of md.focus ?? ([] as MessageDefinitionFocus[])) {
    const max = f.max === undefined || f.max === '*' ? Infinity : Number(f.max);
    const rule = rules.get(f.code) ?? { type: f.code, min: 0, max: 0, profiles: [] };
    rule.min += f.min ?? 0;
    rule.max += max;
    if (f.profile) rule.profiles.push(f.profile);
    rules.set(f.code, rule);
  }
  return rules;
}
