import type { Organization, Practitioner, Reference, Resource } from '@medplum/fhirtypes';
import type { Context } from 'hono';
import { auditEvent } from '../audit/audit-event.js';
import { FhirError, FhirErrorCode } from '../errors.js';
import { parseSearch } from '../fhir/search/parse.js';
import { PATHWAY } from '../pathway/codes.js';
import type { TaskOperationInput, TaskOperationName } from '../pathway/tasks/operation-parameters.js';
import { runTaskOperation, type TaskOperationResult } from '../pathway/tasks/operations.js';
import type { WriteOrigin, WritePipeline } from '../pipeline/write-pipeline.js';
import { ALL_TEAMS } from '../security/compartments.js';
import { requestorOf, type Principal } from '../security/principal.js';
import { allows, type Permission } from '../security/scopes.js';
import type { ResourceStore } from '../store/resource-store.js';

/** What the pages need of the server: present once start-up is done. */
export interface WebServices {
  store: ResourceStore;
  pipeline: WritePipeline;
}

/** A team a person may work for: its identifier value (`cmht`), its Organization id and name. */
export interface Team {
  code: string;
  id: string;
  name: string;
}

/** Who is signed in to the pages, worked out from the session on every request. */
export interface PageUser {
  /** What the store and the write pipeline see: the same principal a bearer token would give. */
  principal: Principal;
  /** `Practitioner/[id]`: who claims and decides (the token's fhirUser, or the development choice). */
  practitioner?: string;
  name: string;
  /** The teams the user works for, and the one whose queue is shown. */
  teams: Team[];
  team?: Team;
  csrf: string;
}

/** The FHIR API's scope rules (security/access.ts) for what a page does: 403 when not granted. */
export function requireScope(principal: Principal, type: string, permission: Permission): void {
  if (allows(principal.scopes, type, permission)) return;
  throw new FhirError(FhirErrorCode.FORBIDDEN, { code: 'forbidden', message: `Your sign-in does not allow this: it needs the scope ${type}.${permission}`, expression: type });
}

/**
 * Whether the user's scopes allow a read a page makes for detail (a name, the risk flags, an
 * include), as the API's route table would for the same read; a page leaves out what they do not.
 */
export function may(user: PageUser | Principal, type: string, permission: Permission): boolean {
  const principal = 'principal' in user ? user.principal : user;
  return allows(principal.scopes, type, permission);
}

/** The store of the signed-in user: every read confined to their compartment, in SQL. */
export function storeOf(services: WebServices, user: PageUser): ResourceStore {
  return services.store.for(user.principal);
}

/**
 * The teams (Organizations with a team identifier) the principal works for. Which teams a
 * principal has is the server's own look-up, as the compartment's SQL resolves its team keys
 * (store/compartment.ts), not a read on the user's behalf: it needs no scope.
 */
export async function teamsOf(store: ResourceStore, principal: Principal): Promise<Team[]> {
  const page = await store.search(parseSearch('Organization', [['identifier', `${PATHWAY.teamId}|`], ['_count', '100'], ['_sort', 'name']]));
  const all = (page.matches as Organization[]).map((o) => ({ code: o.identifier?.find((i) => i.system === PATHWAY.teamId)?.value ?? o.id!, id: o.id!, name: o.name ?? o.id! }));
  if (principal.kind === 'development' || principal.teams.includes(ALL_TEAMS)) return all;
  return all.filter((t) => principal.teams.includes(t.code));
}

/** "Asha Rao" from a Practitioner's or Patient's first name; an Organization's name as it is. */
export function nameOf(r: Resource | undefined): string | undefined {
  const names = (r as Practitioner | Organization | undefined)?.name;
  if (typeof names === 'string') return names;
  const name = names?.[0];
  if (!name) return undefined;
  return name.text ?? ([...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(' ') || undefined);
}

/** Where a page's write comes from, as its AuditEvent and Provenance record it. */
export function pageOrigin(c: Context, user: PageUser, fhirBase: string, activity?: string): WriteOrigin {
  const requestor = requestorOf(user.principal);
  return {
    route: 'page',
    baseUrl: fhirBase,
    requestId: c.get('requestId') as string | undefined,
    // in development mode the principal is nobody in particular: say who chose to act
    requestor: user.principal.kind === 'development' && user.practitioner ? { ...requestor, name: `${user.name} (${user.practitioner}), signed in to the pages in development mode (STEPWISE_AUTH=off)` } : requestor,
    principal: user.principal,
    ...(activity ? { activity } : {}),
  };
}

/**
 * A Task operation ($claim, $release, $accept, $reject, $complete) as the signed-in person, run
 * by pathway/tasks/operations.ts in one transaction holding the Task's row lock, every version
 * through the write pipeline: the same code as `POST Task/[id]/$name`.
 */
export async function runPageOperation(
  c: Context,
  services: WebServices,
  user: PageUser,
  fhirBase: string,
  name: TaskOperationName,
  taskId: string,
  input: Omit<TaskOperationInput, 'practitioner'> = { outputs: [] },
): Promise<TaskOperationResult> {
  requireScope(user.principal, 'Task', 'u');
  if (!user.practitioner) {
    throw new FhirError(FhirErrorCode.FORBIDDEN, { code: 'forbidden', message: 'Your sign-in does not say which Practitioner you are (the fhirUser claim), so you cannot work a queue', expression: 'Task.owner' });
  }
  const practitioner = { ref: { reference: user.practitioner } as Reference, expression: 'practitioner' };
  const origin = pageOrigin(c, user, fhirBase, name);
  return runTaskOperation(storeOf(services, user), name, { taskId, input: { ...input, practitioner } }, (store, next, version) =>
    services.pipeline.update(store, next, origin, { ifMatch: version }),
  );
}

/**
 * A page that shows a person's records leaves an AuditEvent, as a FHIR read or search would (BALP):
 * who (the user, as a write's origin names them), what page, the resources shown and the person.
 * The queue's own polling for changes shows no one's records and leaves none.
 */
export async function auditPageView(c: Context, services: WebServices, user: PageUser, fhirBase: string, seen: { interaction: 'read' | 'search-type'; focus?: string[]; patient?: string; query?: string }): Promise<void> {
  const origin = pageOrigin(c, user, fhirBase);
  await services.store.appendAuditEvent(
    auditEvent({
      interaction: seen.interaction,
      action: seen.interaction === 'read' ? 'R' : 'E',
      recorded: services.store.clock.now(),
      status: 200,
      requestor: origin.requestor!,
      observer: fhirBase,
      request: { name: `page ${c.req.path}`, details: { 'X-Request-ID': origin.requestId, route: 'page' } },
      focus: (seen.focus ?? []).map((reference) => ({ reference })),
      ...(seen.patient ? { patient: { reference: seen.patient } } : {}),
      ...(seen.query !== undefined ? { query: seen.query } : {}),
    }),
  );
}
