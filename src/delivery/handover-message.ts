import type { Bundle, BundleEntry, MessageHeader, Reference, Resource, Task } from '@medplum/fhirtypes';
import { partnerForTeam, type Partner } from '../config/partners.js';
import { HANDOVER_EVENT, writeBars } from '../mapping/bars/bars-format.js';
import { stepwiseUuid } from '../fhir/name-based-uuid.js';
import { ReferencedResources } from '../fhir/referenced-resources.js';
import { BARS } from '../messaging/bars.js';
import { isHandover } from '../pathway/handover/policies.js';
import { localId } from '../pathway/referral-context.js';
import { teamOf } from '../pathway/tasks/team.js';
import type { PolicyContext, WritePolicy } from '../pathway/write-policies.js';
import type { ResourceStore } from '../store/resource-store.js';
import { enqueue, type OutboxMessage } from './outbox.js';

/**
 * The step-down handover, sent (issue 14: "BaRS JSON messages … for the step-down handover from
 * crisis team to CMHT, with the transition plan and checklist carried in the message"). A handover
 * Task asking a receiving team that Stepwise reaches through a partner (STEPWISE_PARTNERS `teams`)
 * becomes the `bars` format's handover-request message (mappings/bars/maps/fhir-to-bars-handover.map),
 * queued in the outbox in the write's transaction. The crisis team stays accountable until the
 * CMHT accepts (pathway/handover); the acceptance comes back as the partner's own write.
 */

export const HANDOVER_TOPIC = 'bars-handover';

export interface HandoverMessageOptions {
  partners: readonly Partner[];
  /** Our BaRS service (DoS id) the handover leaves from: the message's source. */
  dosId: string;
}

/** The policy's name, as it appears in the configured set. */
export const HANDOVER_MESSAGE_POLICY = 'a step-down handover to a team reached through a partner is sent to it as a BaRS handover message (outbox)';

/**
 * The write policy: a handover Task at `requested` (asking the receiving team) whose team is a
 * partner's queues its message once; the X-Request-ID is named by the handover, so writing the
 * Task again (or a retry) never queues a second one. Messages about one person are delivered in
 * order (ordering key the Patient).
 */
export function handoverMessagePolicy(opts: HandoverMessageOptions): WritePolicy {
  return {
    name: HANDOVER_MESSAGE_POLICY,
    types: ['Task'],
    applies: (r) => isHandover(r as Task) && (r as Task).status === 'requested',
    after: async (written, ctx) => {
      const message = await handoverMessage(ctx, written as Task, opts);
      if (message) await enqueue(ctx.store.queryable, [message], ctx.now);
    },
  };
}

/** The receiving team: the team the Task belongs to (task-team), else its owner. */
function receivingTeam(task: Task): string | undefined {
  return (teamOf(task) ?? task.owner)?.reference;
}

/** The outbox row for a handover to a partner's team; none when the team is one of ours. */
export async function handoverMessage(ctx: Pick<PolicyContext, 'store' | 'now'>, task: Task, opts: HandoverMessageOptions): Promise<OutboxMessage | undefined> {
  const team = receivingTeam(task);
  const partner = team ? partnerForTeam(opts.partners, team) : undefined;
  if (!partner) return undefined;
  const carried = await carriedResources(ctx.store, task, team!);
  const destination = dosAddress(carried.find((r) => `${r.resourceType}/${r.id}` === team)) ?? partner.addresses[0];
  const key = stepwiseUuid(`handover|Task/${task.id}`);
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    eventCoding: { ...HANDOVER_EVENT },
    source: { name: 'Stepwise', software: 'Stepwise', endpoint: `${BARS.dosServiceId}|${opts.dosId}` },
  };
  // the writer's warnings name defects in what the handover says (a checklist code outside its
  // system): the message goes as written, as a referral is never held back for its content
  const { result } = writeBars(asMessageSource(header, carried, ctx.now));
  const message = JSON.parse(result as string) as Bundle;
  message.id = key;
  routeTo(message, destination);
  const patient = localId(task.for, 'Patient');
  const bar = destination.indexOf('|');
  return {
    topic: HANDOVER_TOPIC,
    partner: partner.id,
    idempotencyKey: key,
    orderingKey: patient ? `Patient/${patient}` : `Task/${task.id}`,
    contentType: 'application/fhir+json',
    payload: JSON.stringify(message),
    headers: {
      'X-Correlation-ID': stepwiseUuid(`handover-correlation|Task/${task.id}`),
      ...(bar > 0 ? { 'NHSD-Target-Identifier': Buffer.from(JSON.stringify({ system: destination.slice(0, bar), value: destination.slice(bar + 1) }), 'utf8').toString('base64') } : {}),
    },
  };
}

/**
 * What the message carries besides the handover: the plan it hands over and its care team, the
 * person, the sending lead (and their Practitioner and Organization), the receiving team; each as
 * stored, when it is stored here.
 */
async function carriedResources(store: ResourceStore, task: Task, team: string): Promise<Resource[]> {
  const carried = new ReferencedResources((type, id) => store.readOrUndefined(type, id));
  carried.add(task);
  const visit = (ref: Reference | string | undefined) => carried.visit(ref);
  const plan = (await visit(task.focus)) as { careTeam?: Reference[] } | undefined;
  for (const ref of plan?.careTeam ?? []) await visit(ref);
  await visit(task.for);
  const requester = (await visit(task.requester)) as { practitioner?: Reference; organization?: Reference } | undefined;
  if (requester?.practitioner) await visit(requester.practitioner);
  if (requester?.organization) await visit(requester.organization);
  await visit(team);
  return carried.resources;
}

/**
 * The one destination BaRS routes by: the receiving team's DoS id (which the writer finds itself
 * when the team's Organization is carried with one) or the partner's address, with the receiving
 * team as `receiver` (which the handover map sets).
 */
function routeTo(message: Bundle, endpoint: string): void {
  const header = message.entry![0].resource as MessageHeader;
  const receiver = header.destination?.find((d) => d.receiver)?.receiver;
  header.destination = [{ endpoint, ...(receiver ? { receiver } : {}) }];
}

/** The DoS address of a stored team Organization, if it has a DoS service id. */
function dosAddress(team: Resource | undefined): string | undefined {
  const id = (team as { identifier?: { system?: string; value?: string }[] } | undefined)?.identifier?.find((i) => i.system === BARS.dosServiceId && i.value);
  return id ? `${BARS.dosServiceId}|${id.value}` : undefined;
}

/**
 * The Bundle the `bars` writer reads: the header naming source and destination, then the carried
 * resources, each under a urn:uuid fullUrl named by its local id, every reference between them
 * rewritten to it (bundle.html#references), so a receiver resolves them inside the message and
 * gives them ids of its own.
 */
function asMessageSource(header: MessageHeader, carried: Resource[], now: Date): Bundle {
  const urls = new Map(carried.map((r) => [`${r.resourceType}/${r.id}`, `urn:uuid:${stepwiseUuid(`handover-entry|${r.resourceType}/${r.id}`)}`]));
  const entry: BundleEntry[] = [{ fullUrl: `urn:uuid:${stepwiseUuid(`handover-header|${carried[0].id}`)}`, resource: header }];
  for (const r of carried) entry.push({ fullUrl: urls.get(`${r.resourceType}/${r.id}`), resource: rewriteReferences(r, urls) });
  return { resourceType: 'Bundle', type: 'collection', timestamp: now.toISOString(), entry };
}

function rewriteReferences<T>(value: T, urls: Map<string, string>): T {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, urls)) as T;
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === 'reference' && typeof v === 'string' && urls.has(v) ? urls.get(v) : rewriteReferences(v, urls);
  return out as T;
}
