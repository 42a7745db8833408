import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { badRequest, FhirError, FhirErrorCode } from '../../errors.js';
import { listOutbox, OUTBOX_STATES, replayDead, type OutboxRow, type OutboxState } from '../../delivery/outbox.js';
import { ADMIN_SCOPE, isAdmin } from '../../security/admin.js';
import type { FhirRequest } from '../fhir-request.js';
import type { Handler, InteractionContext } from './context.js';

/**
 * Operators' view of outbound delivery (src/delivery): `GET [base]/$outbox?state=dead` lists
 * messages (by id; `partner`, `topic`, `_count`, and `after` = the last id seen, for the next
 * page), `POST [base]/$outbox-replay` sends dead ones again (Parameters `id`, one or more, or
 * `?id=`). Both need the stepwise/admin scope when authentication is on; the answers are
 * Parameters, one `message` per row (payloads are not shown: they are patient data).
 */
export const listOutboxOperation: Handler = async (ctx, req) => {
  requireAdmin(ctx, req);
  const query = new Map<string, string>();
  for (const [k, v] of req.query) {
    if (!['state', 'partner', 'topic', '_count', 'after'].includes(k)) throw badRequest(`Unknown parameter '${k}' for $outbox; use state, partner, topic, _count, after`, k);
    if (query.has(k)) throw badRequest(`Parameter '${k}' is given more than once`, k);
    query.set(k, v);
  }
  const state = query.get('state');
  if (state !== undefined && !OUTBOX_STATES.includes(state as OutboxState)) throw badRequest(`state must be one of ${OUTBOX_STATES.join(', ')}, not '${state}'`, 'state');
  const count = query.get('_count');
  if (count !== undefined && !/^([1-9]\d{0,2}|1000)$/.test(count)) throw badRequest(`_count must be a whole number from 1 to 1000, not '${count}'`, '_count');
  const after = query.get('after');
  if (after !== undefined && !/^\d{1,18}$/.test(after)) throw badRequest(`after must be an outbox id (digits), not '${after}'`, 'after');
  const rows = await listOutbox(ctx.store.queryable, { state: state as OutboxState | undefined, partner: query.get('partner'), topic: query.get('topic'), after, limit: count ? Number(count) : 100 });
  const body: Parameters = { resourceType: 'Parameters', parameter: rows.map(messageParameter) };
  return { status: 200, body, headers: {} };
};

export const replayOutboxOperation: Handler = async (ctx, req) => {
  requireAdmin(ctx, req);
  const ids = replayIds(req);
  const now = ctx.store.clock.now();
  const missing: string[] = [];
  for (const id of ids) if (!(await replayDead(ctx.store.queryable, id, now))) missing.push(id);
  if (missing.length) {
    throw new FhirError(
      FhirErrorCode.NOT_FOUND,
      missing.map((id) => ({ message: `No dead outbox message ${id} (only a dead message is replayed; see GET $outbox?state=dead)`, expression: `Parameters.parameter.where(name = 'id' and value = '${id}')` })),
    );
  }
  const body: Parameters = { resourceType: 'Parameters', parameter: ids.map((id) => ({ name: 'replayed', valueString: id })) };
  return { status: 200, body, headers: {} };
};

function requireAdmin(ctx: InteractionContext, req: FhirRequest): void {
  if (!isAdmin(ctx.principal)) throw new FhirError(FhirErrorCode.FORBIDDEN, `${req.method} /${req.path} needs the ${ADMIN_SCOPE} scope`);
}

function replayIds(req: FhirRequest): string[] {
  const ids = req.query.filter(([k]) => k === 'id').map(([, v]) => v);
  const body = req.body as Parameters | undefined;
  if (body !== undefined) {
    if (!body || typeof body !== 'object' || body.resourceType !== 'Parameters') throw badRequest('The body of $outbox-replay must be a Parameters resource', 'resourceType');
    (body.parameter ?? []).forEach((p, i) => {
      if (p.name !== 'id' || typeof p.valueString !== 'string') throw badRequest("Each parameter must be 'id' with a valueString (an outbox id)", `Parameters.parameter[${i}]`);
      ids.push(p.valueString);
    });
  }
  if (ids.length === 0) throw new FhirError(FhirErrorCode.INVALID, { message: 'Name the dead messages to replay: Parameters id (valueString), or ?id=', expression: "Parameters.parameter.where(name = 'id')", code: 'required' });
  ids.forEach((id) => {
    if (!/^\d{1,18}$/.test(id)) throw badRequest(`'${id}' is not an outbox id (digits)`, `Parameters.parameter.where(name = 'id')`);
  });
  return [...new Set(ids)];
}

function messageParameter(row: OutboxRow): ParametersParameter {
  const part: ParametersParameter[] = [
    { name: 'id', valueString: row.id },
    { name: 'topic', valueString: row.topic },
    { name: 'partner', valueString: row.partner },
    { name: 'state', valueCode: row.state },
    { name: 'idempotencyKey', valueString: row.idempotencyKey },
    { name: 'attempts', valueInteger: row.attempts },
    { name: 'createdAt', valueInstant: row.createdAt },
    { name: 'nextAttemptAt', valueInstant: row.nextAttemptAt },
  ];
  if (row.orderingKey) part.push({ name: 'orderingKey', valueString: row.orderingKey });
  if (row.lastStatus !== null) part.push({ name: 'lastStatus', valueInteger: row.lastStatus });
  if (row.lastError) part.push({ name: 'lastError', valueString: row.lastError });
  if (row.deliveredAt) part.push({ name: 'deliveredAt', valueInstant: row.deliveredAt });
  return { name: 'message', part };
}
