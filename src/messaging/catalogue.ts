import type { MessageDefinition, MessageDefinitionFocus } from '@medplum/fhirtypes';
import { BARS } from './bars.js';
import { barsMessageDefinitions } from './conformance.js';
import type { HostedService } from '../config/bars-services.js';

const WORKFLOW = { system: 'http://terminology.hl7.org/CodeSystem/usage-context-type', code: 'workflow' };

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

  constructor(
    readonly services: HostedService[],
    definitions: MessageDefinition[] = barsMessageDefinitions(),
  ) {
    this.byUrl = new Map(definitions.map((d) => [d.url!, d]));
    this.byDosId = new Map(services.map((s) => [s.dosId, s]));
  }

  service(dosId: string): HostedService | undefined {
    return this.byDosId.get(dosId);
  }

  definition(url: string): MessageDefinition | undefined {
    return this.byUrl.get(url);
  }

  /** The MessageDefinitions a service accepts, narrowed to one use case when given. */
  forService(service: HostedService, useCase?: string): MessageDefinition[] {
    if (useCase && !service.useCases.includes(useCase)) return [];
    return service.definitions
      .map((url) => this.byUrl.get(url))
      .filter((d): d is MessageDefinition => d !== undefined)
      .map((d) => ({
        ...d,
        id: `${service.key}-${d.url!.slice(d.url!.lastIndexOf('/') + 1)}`,
        useContext: [
          { code: WORKFLOW, valueCodeableConcept: { coding: [{ system: BARS.dosIdCodeSystem, code: service.dosId, display: service.name }] } },
          ...(useCase ? [useCase] : service.useCases).map((code) => ({ code: WORKFLOW, valueCodeableConcept: { coding: [{ system: BARS.useCases, code }] } })),
        ],
      }));
  }
}

/** The focus rules of a MessageDefinition, one per resource type (rows of one type are summed). */
export function focusRules(md: MessageDefinition): Map<string, FocusRule> {
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
