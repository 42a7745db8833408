import { STEPWISE_CANONICAL_BASE } from '../../fhir/canonical.js';
import { readTaskOperationParameters, type TaskOperationName } from '../../pathway/tasks/operation-parameters.js';
import { runTaskOperation } from '../../pathway/tasks/operations.js';
import { parseVersionTag, requiredVersion } from '../etag.js';
import type { Parameters } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../../errors.js';
import type { Principal } from '../../security/principal.js';
import { checkId, type Handler } from './context.js';
import { writeResponse } from './representation.js';

/**
 * The canonical URL of a Task operation's definition. The OperationDefinitions are not published
 * yet (profiles/); the URLs are stable under our base, as canonical URLs need be.
 */
export const taskOperationDefinition = (name: TaskOperationName): string => `${STEPWISE_CANONICAL_BASE}/OperationDefinition/Task-${name}`;

/**
 * A person signed in acts as themselves: the token's user (its fhirUser) is the practitioner of a
 * queue operation, and naming anyone else is 403. A system's token, or development mode, names the
 * practitioner in the Parameters as before.
 */
function asTheSignedInUser(principal: Principal | undefined, body: unknown): unknown {
  if (principal?.kind !== 'user') return body;
  if (!principal.fhirUser) throw new FhirError(FhirErrorCode.FORBIDDEN, { code: 'forbidden', message: 'The token does not say which Practitioner its user is (fhirUser claim), so it cannot work a queue', expression: 'Parameters' });
  const params = body && typeof body === 'object' && (body as Parameters).resourceType === 'Parameters' ? (body as Parameters) : { resourceType: 'Parameters' as const };
  const named = (params.parameter ?? []).findIndex((p) => p.name === 'practitioner');
  const given = named >= 0 ? params.parameter![named].valueReference?.reference : undefined;
  if (given !== undefined && given !== principal.fhirUser) {
    throw new FhirError(FhirErrorCode.FORBIDDEN, { code: 'forbidden', message: `Signed in as ${principal.fhirUser}, the Task cannot be worked as ${given}`, expression: `Parameters.parameter[${named}].value` });
  }
  if (named >= 0) return params;
  return { ...params, parameter: [...(params.parameter ?? []), { name: 'practitioner', valueReference: { reference: principal.fhirUser } }] };
}

/**
 * POST Task/[id]/$claim, $release, $accept, $reject, $complete (http://hl7.org/fhir/R4/operations.html):
 * a Parameters body in, the Task as it now is out (the single resource result is returned as
 * itself), with its ETag. The work is pathway/tasks/operations.ts.
 */
export const taskOperation =
  (name: TaskOperationName): Handler =>
  async (ctx, req, { id }) => {
    checkId(id);
    const input = readTaskOperationParameters(name, asTheSignedInUser(ctx.principal, req.body));
    const ifMatch = requiredVersion(parseVersionTag(req.headers.ifMatch, 'If-Match'), `Task/${id}`);
    // the next version goes through the write pipeline (validation, policies, audit) in the operation's transaction
    const result = await runTaskOperation(ctx.store, name, { taskId: id, ifMatch, input }, (store, next, version) => ctx.pipeline.update(store, next, { ...ctx.origin, activity: name }, { ifMatch: version }));
    return writeResponse(req, ctx.baseUrl, 200, result.task, result.changed ? `$${name} done` : `Task/${id} already was as $${name} asks; nothing changed`);
  };
