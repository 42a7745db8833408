import type { Bundle, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../../errors.js';
import { requireFormat } from '../../mapping/formats.js';
import type { Payload } from '../../mapping/format.js';
import { applyRecords } from '../../mapping/ingest/apply-records.js';
import { tolerantOfContentDefects } from '../../mapping/ingest/tolerant-validator.js';
import { WritePipeline } from '../../pipeline/write-pipeline.js';
import '../../mapping/registered-formats.js';
import type { FhirRequest } from '../fhir-request.js';
import type { Handler, InteractionContext } from './context.js';
import { messageHeaders, messagingFor } from './process-message.js';

/** The path of the operation: its body is the partner's payload as sent, read by the handler (fhir-endpoint.ts). */
export const INGEST_PATH = '$ingest';

/**
 * POST [base]/$ingest?format=<format> (issue 14): a partner payload (mhsds-json, mhsds-csv,
 * nhs111-pem, bars, fhir) read by its format (mapping/registered-formats.ts) and routed through the
 * front door on the write pipeline: a FHIR message to the messaging front door as
 * $process-message would take it; records applied in one transaction (mapping/ingest). The answer
 * is an OperationOutcome naming what was created or updated and every defect of the payload; 422
 * when nothing in it could be routed.
 */
export const ingestOperation: Handler = async (ctx, req) => {
  const name = req.query.find(([k]) => k === 'format')?.[1];
  const format = requireFormat(name, 'read', 'format');
  const payload = payloadOf(req, format.name);
  const read = await format.read!(payload);
  let done: OperationOutcomeIssue[];
  try {
    done = read.result.type === 'message' ? await processAsMessage(ctx, req, read.result) : await applyAll(ctx, read.result);
  } catch (err) {
    // refused: the answer names the payload's defects too
    throw err instanceof FhirError ? FhirError.fromIssues(err.code, [...err.issues, ...read.issues]) : err;
  }
  const issues = [...done, ...read.issues];
  const routed = done.some((i) => i.severity === 'information');
  const outcome: OperationOutcome = { resourceType: 'OperationOutcome', issue: issues.length ? issues : [{ severity: 'information', code: 'informational', diagnostics: 'The payload held nothing to ingest' }] };
  return { status: routed ? 200 : 422, body: outcome, headers: {} };
};

/** The body as the partner sent it: text; for mhsds-csv, a JSON object of CSV texts by table, or one CSV with `table=`. */
function payloadOf(req: FhirRequest, format: string): Payload {
  const text = typeof req.body === 'string' ? req.body : req.body === undefined ? '' : JSON.stringify(req.body);
  if (text.trim() === '') throw new FhirError(FhirErrorCode.INVALID, 'The request body is empty: send the partner payload');
  if (format !== 'mhsds-csv') return text;
  const table = req.query.find(([k]) => k === 'table')?.[1];
  if (table) return { [table]: text };
  let tables: unknown;
  try {
    tables = JSON.parse(text);
  } catch {
    throw new FhirError(FhirErrorCode.INVALID, { message: 'An mhsds-csv body is one CSV with table=<table name>, or a JSON object of CSV texts keyed by table name', expression: 'table' });
  }
  if (!tables || typeof tables !== 'object' || Array.isArray(tables) || !Object.values(tables).every((v) => typeof v === 'string')) {
    throw new FhirError(FhirErrorCode.INVALID, 'An mhsds-csv JSON body is an object of CSV texts keyed by table name');
  }
  return tables as Record<string, string>;
}

async function applyAll(ctx: InteractionContext, bundle: Bundle): Promise<OperationOutcomeIssue[]> {
  if (!bundle.entry?.length) return [];
  // the same pipeline (policies, audit) with a validator that accepts what a record says about the person, reported
  const defects: OperationOutcomeIssue[] = [];
  const validator = tolerantOfContentDefects(ctx.validator, (d) => {
    if (d.details?.coding?.[0]?.code !== 'nhs-number') defects.push(d);
  });
  const pipeline = new WritePipeline({ validator, writeValidation: ctx.writeValidation, onInvalidWrite: ctx.onInvalidWrite, policies: ctx.pipeline.policies });
  // each write leaves its AuditEvent in its own statement (the pipeline counts them in origin.audit.wrote): a
  // payload that wrote nothing, or was refused and rolled back, is audited as the request it was
  return [...(await applyRecords({ store: ctx.store, pipeline, origin: ctx.origin }, bundle)), ...defects];
}

/** A payload read as a FHIR message goes to the messaging front door, as $process-message would take it. */
async function processAsMessage(ctx: InteractionContext, req: FhirRequest, message: Bundle): Promise<OperationOutcomeIssue[]> {
  const result = await messagingFor(ctx).process({ body: message, headers: messageHeaders(req), async: false, baseUrl: ctx.baseUrl, requestor: ctx.origin.requestor });
  if (ctx.origin.audit) ctx.origin.audit.recorded++;
  const answer = result.body;
  const accepted = result.status < 300;
  const said = answer?.resourceType === 'OperationOutcome' ? answer.issue : [];
  const text = `The payload was processed as a FHIR message: ${accepted ? 'accepted' : 'refused'} (${result.status})${answer?.resourceType === 'Bundle' ? `, answered by Bundle ${answer.id ?? ''}`.trimEnd() : ''}`;
  return [{ severity: accepted ? 'information' : 'error', code: accepted ? 'informational' : 'processing', diagnostics: text, details: { text } }, ...said];
}
