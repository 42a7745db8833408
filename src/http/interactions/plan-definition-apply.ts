import type { Bundle, CarePlan, Parameters, Patient, PlanDefinition, Reference, RequestGroup, RequestGroupAction, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, badRequest } from '../../errors.js';
import { PATHWAY, TaskCode } from '../../pathway/codes.js';
import { decisionExtension, FRONT_DOOR_TEAM } from '../../pathway/front-door.js';
import { screenMinimumDataset } from '../../pathway/mds-screen.js';
import { contextFromBundle, loadReferralContext, localId, type ReferralContext } from '../../pathway/referral-context.js';
import { evaluateRules, ruleSetFor, type RuleSet } from '../../pathway/triage-rules.js';
import type { FhirRequest } from '../fhir-request.js';
import { checkId, type Handler, type InteractionContext } from './context.js';

/**
 * PlanDefinition/[id]/$apply (http://hl7.org/fhir/R4/plandefinition-operation-apply.html) for the
 * front-door rules: a dry run that stores nothing. The referral is given as
 * - `subject` = `ServiceRequest/[id]`, a stored referral (Parameters valueString or
 *   valueReference, or the query parameter on GET), read with what it carries; or
 * - `resource` = a Bundle (a referral message or a collection) or a lone ServiceRequest; or
 * - the request body itself being such a Bundle.
 * The answer is a draft CarePlan (intent proposal) whose category is the level of support, with
 * a contained RequestGroup holding the decision (rule, rule-set version, priority, due within,
 * owning team and lead role in the triage-decision extension, rationale) whose actions point at
 * the proposed Tasks, contained too: the triage Task, and a clarify-referral Task naming each gap.
 */
export const applyPlanDefinition: Handler = async (ctx, req, { id }) => {
  checkId(id);
  const pd = (await ctx.store.read('PlanDefinition', id)) as PlanDefinition;
  let ruleSet: RuleSet;
  try {
    ruleSet = ruleSetFor(pd);
  } catch (err) {
    throw new FhirError(FhirErrorCode.UNPROCESSABLE, { message: `PlanDefinition/${id} is not a rule set Stepwise can apply: ${(err as Error).message}`, expression: 'PlanDefinition.action' });
  }
  const referral = await referralFrom(ctx, req);
  const decision = evaluateRules(referral, ruleSet);
  const screen = screenMinimumDataset(referral);
  const canonical = `${ruleSet.url}|${ruleSet.version}`;
  const subject = (referral.referral.subject ?? (referral.patient?.id ? { reference: `Patient/${referral.patient.id}` } : { display: 'unidentified person' })) as Reference<Patient>;
  const focus = referral.referral.id ? { focus: { reference: `ServiceRequest/${referral.referral.id}` } } : {};
  const proposedTask = (id: string, code: string, description: string, extra: Partial<Task> = {}): Task => ({
    resourceType: 'Task',
    id,
    status: 'draft',
    intent: 'proposal',
    code: { coding: [{ system: PATHWAY.taskCode, code }] },
    description,
    priority: decision.priority,
    ...focus,
    ...(subject.reference ? { for: subject } : {}),
    ...extra,
  });
  const tasks: Task[] = [
    proposedTask('triage', TaskCode.triage, decision.rationale, { owner: decision.owner, performerType: [decision.lead] }),
  ];
  const actions: RequestGroupAction[] = [
    {
      id: decision.ruleId,
      title: decision.title,
      description: decision.rationale,
      code: [{ coding: [decision.pathway] }],
      priority: decision.priority,
      timingDuration: decision.dueWithin,
      resource: { reference: '#triage' },
    },
  ];
  if (screen.gaps.length) {
    const description = `Contact the referrer for: ${screen.gaps.map((g) => g.message).join('; ')}`;
    tasks.push(proposedTask('clarify', TaskCode.clarify, description, { owner: FRONT_DOOR_TEAM }));
    actions.push({ id: 'clarify-referral', title: 'Contact the referrer', description, priority: decision.priority, resource: { reference: '#clarify' } });
  }
  const group: RequestGroup = {
    resourceType: 'RequestGroup',
    id: 'decision',
    extension: [decisionExtension(decision, screen.gaps)],
    instantiatesCanonical: [canonical],
    status: 'draft',
    intent: 'proposal',
    priority: decision.priority,
    subject,
    action: actions,
  };
  const plan: CarePlan = {
    resourceType: 'CarePlan',
    contained: [group, ...tasks],
    instantiatesCanonical: [canonical],
    status: 'draft',
    intent: 'proposal',
    category: [{ coding: [decision.pathway] }],
    title: decision.title,
    description: decision.rationale,
    subject,
    activity: [{ reference: { reference: '#decision' } }],
    ...(screen.gaps.length || screen.notKnown.length ? { note: [...screen.gaps, ...screen.notKnown].map((g) => ({ text: `${g.required ? 'Minimum dataset gap' : 'Not known'}: ${g.message}` })) } : {}),
  };
  return { status: 200, headers: {}, body: plan };
};

async function referralFrom(ctx: InteractionContext, req: FhirRequest): Promise<ReferralContext> {
  const body = req.body as Resource | undefined;
  if (req.method === 'GET' || body === undefined) {
    const subject = req.query.find(([k]) => k === 'subject')?.[1];
    if (!subject) throw badRequest('$apply needs the referral: subject=ServiceRequest/[id], or a Parameters or Bundle body', 'subject');
    return storedReferral(ctx, subject);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The body of $apply is a Parameters resource or a Bundle');
  if (body.resourceType === 'Bundle') return contextFromBundle(body as Bundle);
  if (body.resourceType !== 'Parameters') throw badRequest(`The body of $apply is a Parameters resource or a Bundle, not a ${body.resourceType}`, `${body.resourceType}`);
  const params = (body as Parameters).parameter ?? [];
  const resource = params.find((p) => p.name === 'resource')?.resource;
  if (resource?.resourceType === 'Bundle') return contextFromBundle(resource as Bundle);
  if (resource?.resourceType === 'ServiceRequest') return { referral: resource as ServiceRequest, related: [] };
  if (resource) throw badRequest(`Parameter 'resource' must be a Bundle or a ServiceRequest, not a ${resource.resourceType}`, "Parameters.parameter.where(name = 'resource')");
  const subject = params.find((p) => p.name === 'subject');
  const ref = subject?.valueString ?? subject?.valueReference?.reference;
  if (!ref) throw badRequest("$apply needs parameter 'subject' (ServiceRequest/[id]) or 'resource' (a Bundle or a ServiceRequest)", 'Parameters.parameter');
  return storedReferral(ctx, ref);
}

async function storedReferral(ctx: InteractionContext, ref: string): Promise<ReferralContext> {
  const id = localId({ reference: ref }, 'ServiceRequest');
  if (!id) throw badRequest(`subject must be a referral, ServiceRequest/[id]; got '${ref}'`, 'subject');
  return loadReferralContext(ctx.store, id);
}
