import { STEPWISE_CANONICAL_BASE } from '../../fhir/canonical.js';
import { readTaskOperationParameters, type TaskOperationName } from '../../pathway/tasks/operation-parameters.js';
import { runTaskOperation } from '../../pathway/tasks/operations.js';
import { parseVersionTag, requiredVersion } from '../etag.js';
import { checkId, type Handler } from './context.js';
import { writeResponse } from './representation.js';

/**
 * The canonical URL of a Task operation's definition. The OperationDefinitions are not published
 * yet (profiles/); the URLs are stable under our base, as canonical URLs need be.
 */
export const taskOperationDefinition = (name: TaskOperationName): string => `${STEPWISE_CANONICAL_BASE}/OperationDefinition/Task-${name}`;

/**
 * POST Task/[id]/$claim, $release, $accept, $reject, $complete (http://hl7.org/fhir/R4/operations.html):
 * a Parameters body in, the Task as it now is out (the single resource result is returned as
 * itself), with its ETag. The work is pathway/tasks/operations.ts.
 */
export const taskOperation =
  (name: TaskOperationName): Handler =>
  async (ctx, req, { id }) => {
    checkId(id);
    const input = readTaskOperationParameters(name, req.body);
    const ifMatch = requiredVersion(parseVersionTag(req.headers.ifMatch, 'If-Match'), `Task/${id}`);
    // the next version goes through the write pipeline (validation, policies, audit) in the operation's transaction
    const result = await runTaskOperation(ctx.store, name, { taskId: id, ifMatch, input }, (store, next, version) => ctx.pipeline.update(store, next, ctx.origin, { ifMatch: version }));
    return writeResponse(req, ctx.baseUrl, 200, result.task, result.changed ? `$${name} done` : `Task/${id} already was as $${name} asks; nothing changed`);
  };
