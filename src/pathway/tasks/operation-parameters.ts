import type { CodeableConcept, Parameters, ParametersParameter, Reference, TaskOutput } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, badRequest } from '../../errors.js';
import { isPersonReference } from './team.js';

export type TaskOperationName = 'claim' | 'release' | 'accept' | 'reject' | 'complete';

/** What a Task operation was given, each with where it was in the Parameters (for answers). */
export interface TaskOperationInput {
  /** Who claims, or who says they hold the Task (Practitioner or PractitionerRole). */
  practitioner?: { ref: Reference; expression: string };
  /** Why the Task is rejected (Task.statusReason). */
  reason?: CodeableConcept;
  /** Outputs to add to Task.output on completion. */
  outputs: TaskOutput[];
  /** A note added to Task.note. */
  note?: string;
}

/** The parameters each operation takes, and which of them it requires. */
const ACCEPTS: Record<TaskOperationName, { name: string; required?: boolean; repeats?: boolean }[]> = {
  claim: [{ name: 'practitioner', required: true }],
  release: [{ name: 'practitioner' }],
  accept: [{ name: 'practitioner' }],
  reject: [{ name: 'reason', required: true }, { name: 'practitioner' }],
  complete: [{ name: 'output', repeats: true }, { name: 'note' }, { name: 'practitioner' }],
};

/** Where a missing parameter would be (FHIRPath, as the project's other operations name them). */
export const parameterPath = (name: string): string => `Parameters.parameter.where(name = '${name}')`;

/**
 * Reads the Parameters body of a Task operation (http://hl7.org/fhir/R4/operations.html#request).
 * A body that is not a Parameters resource, an unknown or repeated parameter or a value of the
 * wrong type is 400, at `Parameters.parameter[i]`; a required parameter missing is 422, at
 * `Parameters.parameter.where(name = '…')`. No body is no parameters.
 */
export function readTaskOperationParameters(operation: TaskOperationName, body: unknown): TaskOperationInput {
  const params = parametersOf(operation, body);
  const accepts = ACCEPTS[operation];
  const input: TaskOperationInput = { outputs: [] };
  const seen = new Set<string>();
  params.forEach((p, i) => {
    const at = `Parameters.parameter[${i}]`;
    const spec = accepts.find((a) => a.name === p.name);
    if (!spec) throw badRequest(`$${operation} has no parameter '${p.name}'; it takes ${accepts.map((a) => `'${a.name}'`).join(', ')}`, `${at}.name`);
    if (seen.has(p.name!) && !spec.repeats) throw badRequest(`Parameter '${p.name}' is given more than once`, at);
    seen.add(p.name!);
    readParameter(input, p, at);
  });
  const missing = accepts.filter((a) => a.required && !seen.has(a.name));
  if (missing.length) {
    throw new FhirError(
      FhirErrorCode.UNPROCESSABLE,
      missing.map((a) => ({ message: `$${operation} needs parameter '${a.name}': ${WHAT[a.name]}`, expression: parameterPath(a.name), code: 'required' as const })),
    );
  }
  return input;
}

const WHAT: Record<string, string> = {
  practitioner: 'a valueReference to the Practitioner or PractitionerRole who claims the Task',
  reason: 'why the Task is rejected, as a valueCodeableConcept or valueString (it becomes Task.statusReason)',
};

function parametersOf(operation: TaskOperationName, body: unknown): ParametersParameter[] {
  if (body === undefined) return [];
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`The body of $${operation} is a Parameters resource`);
  const rt = (body as { resourceType?: unknown }).resourceType;
  if (rt !== 'Parameters') throw badRequest(`The body of $${operation} is a Parameters resource, not ${typeof rt === 'string' ? `a ${rt}` : 'a resource without resourceType'}`, 'resourceType');
  const params = (body as Parameters).parameter ?? [];
  if (!Array.isArray(params)) throw badRequest('Parameters.parameter is a list', 'Parameters.parameter');
  params.forEach((p, i) => {
    if (!p || typeof p !== 'object' || typeof p.name !== 'string') throw badRequest('Every parameter has a name', `Parameters.parameter[${i}].name`);
  });
  return params;
}

function readParameter(input: TaskOperationInput, p: ParametersParameter, at: string): void {
  switch (p.name) {
    case 'practitioner': {
      if (!isPersonReference(p.valueReference)) {
        throw badRequest("'practitioner' is a valueReference to a Practitioner or PractitionerRole, such as {\"reference\": \"Practitioner/123\"}", `${at}.value`);
      }
      input.practitioner = { ref: p.valueReference!, expression: `${at}.value` };
      return;
    }
    case 'reason': {
      const reason = p.valueCodeableConcept ?? (nonBlank(p.valueString) ? { text: p.valueString } : undefined);
      if (!reason || (!reason.text?.trim() && !reason.coding?.length)) throw badRequest("'reason' is a valueCodeableConcept or a non-blank valueString", `${at}.value`);
      input.reason = reason;
      return;
    }
    case 'note':
      if (!nonBlank(p.valueString)) throw badRequest("'note' is a non-blank valueString", `${at}.value`);
      input.note = p.valueString;
      return;
    case 'output':
      input.outputs.push(readOutput(p, at));
      return;
  }
}

/** An `output` part: `type` (valueCodeableConcept) and `value` (any value[x]), as Task.output has them. */
function readOutput(p: ParametersParameter, at: string): TaskOutput {
  const parts = p.part ?? [];
  const typeAt = parts.findIndex((x) => x.name === 'type');
  const valueAt = parts.findIndex((x) => x.name === 'value');
  const type = parts[typeAt]?.valueCodeableConcept;
  if (!type?.coding?.length && !type?.text) throw badRequest("An 'output' has a part 'type' with a valueCodeableConcept", typeAt < 0 ? `${at}.part` : `${at}.part[${typeAt}].value`);
  const value = valueAt < 0 ? [] : Object.entries(parts[valueAt]).filter(([k, v]) => k.startsWith('value') && v !== undefined);
  if (value.length !== 1) throw badRequest("An 'output' has a part 'value' with one value[x]", valueAt < 0 ? `${at}.part` : `${at}.part[${valueAt}].value`);
  return { type, [value[0][0]]: value[0][1] } as TaskOutput;
}

function nonBlank(s: string | undefined): s is string {
  return typeof s === 'string' && s.trim().length > 0;
}
