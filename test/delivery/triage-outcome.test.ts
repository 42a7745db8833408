import type { Bundle, MessageHeader, Parameters, ServiceRequest, Task } from '@medplum/fhirtypes';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MD } from '../../src/config/bars-services.js';
import { listOutbox } from '../../src/delivery/outbox.js';
import type { OutboxSender } from '../../src/delivery/sender.js';
import { fetchTransport } from '../../src/delivery/transport.js';
import { checkBarsMessage } from '../../src/messaging/bars-rules.js';
import { MessageCatalogue } from '../../src/messaging/catalogue.js';
import { sharedBarsValidator } from '../../src/messaging/conformance.js';
import { parseBarsHeaders, PROCESS_MESSAGE_REQUIRED, type RawMessageHeaders } from '../../src/messaging/headers.js';
import { readMessage } from '../../src/messaging/message.js';
import { TRIAGE_OUTCOME_TOPIC, triageOutcomePolicy } from '../../src/messaging/triage-outcome.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { PATHWAY_POLICIES } from '../../src/pathway/write-policies.js';
import { BASE, startTestApp, type TestApp } from '../support/app.js';
import { barsHeaders, FRONT_DOOR_DOS, headersAsHttp, REFERRAL_CONTEXT, referralMessage } from '../messaging/support.js';
import { testSender } from './support.js';

/** The GP practice's system: the source endpoint of referralMessage() and the partner it is configured as. */
const GP_DOS = '2000099999';
const GP_ADDRESS = `https://fhir.nhs.uk/Id/dos-service-id|${GP_DOS}`;
const GP_BASE = 'https://gp-system.test/fhir';

interface Delivered {
  headers: Headers;
  body: Bundle;
}

const received: Delivered[] = [];
const gp = setupServer(
  http.post(`${GP_BASE}/$process-message`, async ({ request }) => {
    received.push({ headers: request.headers, body: (await request.json()) as Bundle });
    return HttpResponse.json({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational' }] }, { status: 200 });
  }),
);

const params = (...parameter: Parameters['parameter'] & object): Parameters => ({ resourceType: 'Parameters', parameter });
const output = (type: { system: string; code: string }, value: Record<string, unknown>) => ({ name: 'output', part: [{ name: 'type', valueCodeableConcept: { coding: [type] } }, { name: 'value', ...value }] });
const outcome = (code: string) => output({ system: PATHWAY.taskParameterType, code: 'triage-outcome' }, { valueCodeableConcept: { coding: [{ system: PATHWAY.levelOfSupport, code, display: code === 'routine-support' ? 'Routine support' : code }] } });
const redirectPart = (code: string, value: Record<string, unknown>) => output({ system: PATHWAY.redirectOutput, code }, value);

/** The GP's own BaRS receiver (ours, hosting the GP's DoS id): what a conformant receiver makes of the message. */
const gpReceiver = new MessageCatalogue([{ key: 'gp', name: 'GP practice', dosId: GP_DOS, useCases: ['a5t1'], definitions: [MD.responseReferral] }]);

function rawHeaders(h: Headers): RawMessageHeaders {
  return {
    requestId: h.get('x-request-id') ?? undefined,
    correlationId: h.get('x-correlation-id') ?? undefined,
    targetIdentifier: h.get('nhsd-target-identifier') ?? undefined,
    requestingSoftware: h.get('nhsd-requesting-software') ?? undefined,
    endUserOrganisation: h.get('nhsd-end-user-organisation') ?? undefined,
    useContext: h.get('use-context') ?? undefined,
  };
}

/** Checks a delivered message as the GP's BaRS receiver would: it throws (refuses) or accepts, maybe with warnings. */
function acceptedByGp(d: Delivered) {
  const parsed = parseBarsHeaders(rawHeaders(d.headers), PROCESS_MESSAGE_REQUIRED);
  expect(parsed.issues).toEqual([]);
  const { message, issues } = readMessage(d.body);
  expect(issues).toEqual([]);
  const check = checkBarsMessage(message!, parsed.headers, gpReceiver, sharedBarsValidator());
  expect(check.definition.url).toBe(MD.responseReferral);
  return { message: message!, check };
}

describe('the triage outcome goes back to the GP as a BaRS servicerequest-response (msw for the GP system)', () => {
  let app: TestApp;
  let sender: OutboxSender;

  beforeAll(async () => {
    gp.listen({ onUnhandledRequest: 'error' });
    app = await startTestApp(undefined, { policies: [...PATHWAY_POLICIES, triageOutcomePolicy({ dosId: FRONT_DOOR_DOS, baseUrl: BASE })] });
    sender = testSender({
      db: app.t.db,
      clock: app.clock,
      partners: [{ id: 'beech-house', endpoint: GP_BASE, addresses: [GP_ADDRESS], auth: { type: 'bearer', token: 'partner-token' }, timeoutSeconds: 5 }],
      transport: fetchTransport,
    });
  });
  afterAll(async () => {
    gp.close();
    await app?.close();
  });

  const send = async (m: Bundle) => {
    const res = await app.fhir('POST', '$process-message', m, headersAsHttp(barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT)));
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Bundle;
    const referral = (answer.entry![0].resource as MessageHeader).focus![0].reference!;
    const task = (answer.entry!.find((e) => e.resource?.resourceType === 'Task')!.resource as Task).id!;
    return { referral, task };
  };
  const deliver = async () => {
    received.length = 0;
    await sender.drain();
    return [...received];
  };

  it('a referral held for information asks the GP for the missing minimum-dataset items, queued with the message; then the acceptance, with the pathway and due time', async () => {
    const m = referralMessage({ freshUrls: true });
    const { referral, task } = await send(m);
    const queued = await listOutbox(app.t.db, { topic: TRIAGE_OUTCOME_TOPIC });
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ partner: GP_ADDRESS, orderingKey: referral, state: 'pending' });

    let [asked] = await deliver();
    expect(asked).toBeDefined();
    expect(asked.headers.get('authorization')).toBe('Bearer partner-token');
    expect(asked.headers.get('x-request-id')).toBe(queued[0].idempotencyKey);
    expect(asked.headers.get('use-context')).toBe('a5t1|referral|servicerequest-response|new');
    const { message } = acceptedByGp(asked);
    const header = message.header;
    expect(header.response).toEqual({ identifier: m.id, code: 'ok' });
    expect(header.destination?.[0].endpoint).toBe(GP_ADDRESS);
    expect(header.source?.endpoint).toBe(`https://fhir.nhs.uk/Id/dos-service-id|${FRONT_DOOR_DOS}`);
    const sr = message.entries.find((e) => e.resource.resourceType === 'ServiceRequest')!.resource as ServiceRequest;
    expect(`ServiceRequest/${sr.id}`).toBe(referral);
    expect(sr.status).toBe('on-hold');
    const heldTask = message.entries.find((e) => e.resource.resourceType === 'Task')!.resource as Task;
    const missing = (heldTask.input ?? []).map((i) => i.valueCodeableConcept?.coding?.[0].display);
    expect(missing.length).toBeGreaterThan(0);
    for (const item of missing) expect(sr.note?.at(-1)?.text).toContain(item);
    expect(sr.note?.at(-1)?.text).toMatch(/^Information requested: the referral is on hold until you send /);

    // the triage team decides: routine support
    const done = await app.fhir('POST', `Task/${task}/$complete`, params(outcome('routine-support')));
    expect(done.status).toBe(200);
    const completed = (await done.json()) as Task;
    const queuedNow = await listOutbox(app.t.db, { topic: TRIAGE_OUTCOME_TOPIC, partner: GP_ADDRESS });
    expect(queuedNow.map((r) => r.state)).toEqual(['delivered', 'pending']);
    [asked] = await deliver();
    const accepted = acceptedByGp(asked).message;
    const acceptedSr = accepted.entries.find((e) => e.resource.resourceType === 'ServiceRequest')!.resource as ServiceRequest;
    expect(acceptedSr.status).toBe('active');
    const note = acceptedSr.note!.at(-1)!.text;
    expect(note).toContain('Accepted: Routine support');
    expect(note).toContain(`due by ${completed.restriction!.period!.end}`);
    const sentTask = accepted.entries.find((e) => e.resource.resourceType === 'Task')!.resource as Task;
    expect(sentTask.status).toBe('completed');
    expect(sentTask.output?.some((o) => o.valueCodeableConcept?.coding?.[0].code === 'routine-support')).toBe(true);
    // the same decision is never queued twice
    expect(await deliver()).toEqual([]);
  });

  it('a redirect goes back with the service the person was signposted to and the rationale', async () => {
    const { task } = await send(referralMessage({ freshUrls: true }));
    await deliver(); // the request for information
    const res = await app.fhir(
      'POST',
      `Task/${task}/$complete`,
      params(
        outcome('redirected'),
        redirectPart('rationale', { valueString: 'Needs are met by talking therapies' }),
        redirectPart('signposted-to', { valueString: 'NHS Talking Therapies, self-referral' }),
        redirectPart('escalation-routes-given', { valueBoolean: true }),
      ),
    );
    expect(res.status).toBe(200);
    const [sent] = await deliver();
    const { message } = acceptedByGp(sent);
    const sr = message.entries.find((e) => e.resource.resourceType === 'ServiceRequest')!.resource as ServiceRequest;
    expect(sr.status).toBe('revoked');
    expect(sr.note!.at(-1)!.text).toBe(
      'Redirected: not taken on here; signposted to NHS Talking Therapies, self-referral. Rationale: Needs are met by talking therapies. Urgent escalation routes were given to the person.',
    );
  });

  it('a referral written again and still held asks again for what is still missing; the same gaps are not asked twice', async () => {
    const m = referralMessage({ freshUrls: true });
    delete (m.entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource as ServiceRequest).priority;
    const { referral } = await send(m);
    const [first] = await deliver();
    const firstNote = (acceptedByGp(first).message.entries.find((e) => e.resource.resourceType === 'ServiceRequest')!.resource as ServiceRequest).note!.at(-1)!.text!;
    expect(firstNote).toMatch(/urgency/i);

    const stored = (await (await app.fhir('GET', referral)).json()) as ServiceRequest;
    // written again as it was: the same gaps, nothing new to ask
    expect((await app.fhir('PUT', referral, { ...stored, note: [{ text: 'Called the practice' }] })).status).toBe(200);
    expect(await deliver()).toEqual([]);
    // the urgency arrives; the rest is still missing
    expect((await app.fhir('PUT', referral, { ...stored, priority: 'routine' })).status).toBe(200);
    const [again] = await deliver();
    expect(again).toBeDefined();
    const sr = acceptedByGp(again).message.entries.find((e) => e.resource.resourceType === 'ServiceRequest')!.resource as ServiceRequest;
    expect(sr.status).toBe('on-hold');
    expect(sr.note!.at(-1)!.text).toMatch(/^Information requested/);
    expect(sr.note!.at(-1)!.text).not.toMatch(/urgency/i);
  });

  it('a referral that did not come by BaRS queues nothing', async () => {
    const before = (await listOutbox(app.t.db, { limit: 1000 })).length;
    const sr = await app.fhir('POST', 'ServiceRequest', { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/nobody' } });
    expect(sr.status).toBe(201);
    const created = (await sr.json()) as ServiceRequest;
    const tasks = (await (await app.fhir('GET', `Task?focus=ServiceRequest/${created.id}&code=${PATHWAY.taskCode}|triage`)).json()) as Bundle;
    const task = tasks.entry![0].resource as Task;
    expect((await app.fhir('POST', `Task/${task.id}/$complete`, params(outcome('routine-support')))).status).toBe(200);
    expect((await listOutbox(app.t.db, { limit: 1000 })).length).toBe(before);
  });
});
