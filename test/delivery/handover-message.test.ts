import type { AuditEvent, Bundle, MessageHeader, Organization, Task } from '@medplum/fhirtypes';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { DEFAULT_SERVICES } from '../../src/config/bars-services.js';
import { loadPartners, type Partner } from '../../src/config/partners.js';
import { HANDOVER_TOPIC, handoverMessagePolicy } from '../../src/delivery/handover-message.js';
import { listOutbox } from '../../src/delivery/outbox.js';
import { fetchTransport } from '../../src/delivery/transport.js';
import { STEPWISE_CANONICAL_BASE } from '../../src/fhir/canonical.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { readBars } from '../../src/mapping/bars/bars-format.js';
import { sharedBarsValidator } from '../../src/messaging/conformance.js';
import { MessageCatalogue, MessageProcessor } from '../../src/messaging/index.js';
import { CARE } from '../../src/pathway/care/codes.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { PATHWAY_POLICIES } from '../../src/pathway/write-policies.js';
import { barsRequestHeaders } from '../../src/delivery/bars-headers.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { startTestApp } from '../support/app.js';
import { pgliteTestDatabase, type TestDatabase } from '../support/databases.js';
import { CHECKLIST, CMHT_NORTH, CRISIS_LEAD, handover, personWithPlan, TRANSITION_PLAN, write } from '../pathway/care-support.js';
import { pathwayStore, type PathwayTestStore } from '../pathway/support.js';
import { testSender } from './support.js';

/*
 * Issue 14 follow-up: the step-down handover from the crisis team to a CMHT that Stepwise reaches
 * through a partner is sent as the `bars` format's handover-request message, queued in the outbox
 * with the handover's write; the partner (msw, answering with a Stepwise messaging front door of
 * its own, which hosts the CMHT's DoS id) reads it with our `bars` reader and stores the handover
 * Task with its transition plan and checklist.
 */

const DOS = 'https://fhir.nhs.uk/Id/dos-service-id';
const CMHT_DOS = '2000072003';
const CRISIS_DOS = '2000072002';
const CMHT_BASE = 'https://cmht-north.test/fhir';
const PARTNERS: Partner[] = loadPartners({ STEPWISE_PARTNERS: JSON.stringify([{ id: 'cmht-north', endpoint: CMHT_BASE, addresses: [`${DOS}|${CMHT_DOS}`], teams: [CMHT_NORTH.reference] }]) });

interface Received {
  headers: Headers;
  body: string;
  status: number;
  answer: unknown;
}
const received: Received[] = [];
let theirs: { t: TestDatabase; processor: MessageProcessor } | undefined;

const cmht = setupServer(
  http.post(`${CMHT_BASE}/$process-message`, async ({ request }) => {
    const body = await request.text();
    // the partner reads it as `$ingest?format=bars` does, then hands it to its messaging front door
    const { result } = readBars(body);
    const res = await theirs!.processor.process({ body: result, headers: {}, async: false, baseUrl: CMHT_BASE });
    received.push({ headers: request.headers, body, status: res.status, answer: res.body });
    return HttpResponse.json(res.body as object, { status: res.status });
  }),
);

let p: PathwayTestStore;
const policies = [...PATHWAY_POLICIES, handoverMessagePolicy({ partners: PARTNERS, dosId: CRISIS_DOS })];
const queued = () => listOutbox(p.t.db, { topic: HANDOVER_TOPIC, limit: 100 }, true);

beforeAll(() => cmht.listen({ onUnhandledRequest: 'error' }));
afterAll(() => cmht.close());
beforeEach(async () => {
  p = await pathwayStore();
  await personWithPlan(p.store, CRISIS_LEAD, 'crisis-response');
  const team: Organization = { resourceType: 'Organization', id: 'cmht-north', identifier: [{ system: DOS, value: CMHT_DOS }], name: 'CMHT North' };
  await p.store.update(team);
  received.length = 0;
});
afterEach(async () => {
  await p.t.dispose();
  await theirs?.t.dispose();
  theirs = undefined;
});

describe('the step-down handover to a partner CMHT goes out through the outbox', () => {
  it('queues one handover-request message with the handover, keyed by the handover, in order per person', async () => {
    const asked = await write(p.store, handover('h-1'), policies);
    const [row, ...more] = await queued();
    expect(more).toEqual([]);
    expect(row).toMatchObject({ topic: HANDOVER_TOPIC, partner: 'cmht-north', orderingKey: 'Patient/pat-1', state: 'pending', contentType: 'application/fhir+json' });
    expect(JSON.parse(Buffer.from(row.headers['NHSD-Target-Identifier'], 'base64').toString())).toEqual({ system: DOS, value: CMHT_DOS });
    const message = JSON.parse(row.payload) as Bundle;
    expect(message.id).toBe(row.idempotencyKey);
    const header = message.entry![0].resource as MessageHeader;
    expect(header.eventCoding).toEqual({ system: `${STEPWISE_CANONICAL_BASE}/CodeSystem/message-event`, code: 'handover-request' });
    expect(header.source?.endpoint).toBe(`${DOS}|${CRISIS_DOS}`);
    expect(header.destination).toHaveLength(1);
    expect(header.destination![0].endpoint).toBe(`${DOS}|${CMHT_DOS}`);
    expect(message.entry!.find((e) => e.fullUrl === header.destination![0].receiver?.reference)?.resource).toMatchObject({ resourceType: 'Organization', name: 'CMHT North' });
    const task = message.entry!.find((e) => e.fullUrl === header.focus?.[0].reference)?.resource as Task;
    expect(task.input).toEqual([...TRANSITION_PLAN, ...CHECKLIST]);
    // references resolve inside the message
    for (const ref of [task.focus, task.for, task.owner]) expect(message.entry!.some((e) => e.fullUrl === ref?.reference), ref?.reference).toBe(true);

    // written again (a note), or retried: the same handover is never queued twice
    await write(p.store, { ...asked, note: [{ text: 'Called the CMHT duty worker' }] }, policies);
    expect(await queued()).toHaveLength(1);
  });

  it('is queued in the handover write transaction: a write that fails queues nothing', async () => {
    const failed = p.store.transaction(async (tx) => {
      await write(tx, handover('h-2'), policies);
      throw new Error('a later step of the same write failed');
    });
    await expect(failed).rejects.toThrow('a later step');
    expect(await queued()).toEqual([]);
    expect(await p.store.readOrUndefined('Task', 'h-2')).toBeUndefined();
  });

  it('queues nothing for a team of our own, nor for a handover not yet asking (draft)', async () => {
    await write(p.store, handover('h-ours', { owner: { reference: 'Organization/cmht' } }), policies);
    await write(p.store, handover('h-draft', { status: 'draft' }), policies);
    expect(await queued()).toEqual([]);
  });

  it('the partner receives a message our bars reader accepts, and stores the handover with its transition plan and checklist', async () => {
    const clock = new FixedClock(new Date('2026-03-02T09:00:00Z'));
    const t = await pgliteTestDatabase();
    theirs = { t, processor: new MessageProcessor({ db: t.db, clock, catalogue: new MessageCatalogue(DEFAULT_SERVICES), validator: sharedBarsValidator }) };
    await write(p.store, handover('h-1'), policies);
    const [row] = await queued();

    const sender = testSender({ db: p.t.db, clock: p.clock, partners: PARTNERS, transport: fetchTransport });
    const summary = await sender.drain();
    expect(summary, JSON.stringify(received.map((r) => r.answer))).toEqual({ delivered: 1, retried: 0, dead: 0 });
    const [got, ...again] = received;
    expect(again).toEqual([]);
    expect(got.status, JSON.stringify(got.answer)).toBe(200);
    expect(got.headers.get('x-request-id')).toBe(row.idempotencyKey);
    expect(got.body).toBe(row.payload);

    const answer = got.answer as Bundle;
    const stored = (answer.entry ?? []).map((e) => e.resource).find((r): r is Task => r?.resourceType === 'Task' && r.code?.coding?.[0].code === 'transfer-of-responsibility');
    expect(stored).toBeDefined();
    // the crisis team stays accountable until the CMHT accepts
    expect(stored!.status).toBe('requested');
    const parts = (system: string) => (stored!.input ?? []).filter((i) => i.type.coding?.[0].system === system).map((i) => i.type.coding![0].code);
    expect(parts(PATHWAY.taskParameterType)).toEqual(['medication-actions', 'safety-measures', 'contact-frequency', 'red-flag-thresholds']);
    expect(parts(CARE.handoverChecklist)).toEqual(['appointments-booked', 'support-hours-adjusted', 'risk-plan-updated', 'carer-contact-agreed']);
    expect(stored!.owner?.reference).toMatch(/^Organization\//);
    expect((await listOutbox(p.t.db, { topic: HANDOVER_TOPIC }))[0]).toMatchObject({ state: 'delivered', lastStatus: 200 });
    // the delivery's AuditEvent names the person and the handover sent
    const [event] = (await p.store.search(parseSearch('AuditEvent', [['patient', 'Patient/pat-1']]))).matches as AuditEvent[];
    expect(event.outcome).toBe('0');
    expect(event.entity?.find((e) => e.role?.code === '4')?.what?.reference).toBe('Task/h-1');
  });
});

describe('the other way: a handover message received by $ingest?format=bars', () => {
  it('becomes one handover Task with its transition plan and checklist, waiting for the CMHT to accept', async () => {
    await write(p.store, handover('h-1'), policies);
    const [row] = await queued();
    const app = await startTestApp();
    try {
      await seedPathwayData(app.store);
      const headers = barsRequestHeaders({ stored: row.headers, requestId: row.idempotencyKey, contentType: row.contentType, address: row.partner, sender: { odsCode: 'RV5', name: 'Test trust', software: { name: 'Stepwise', version: 'test' } } });
      const res = await app.fhir('POST', '$ingest?format=bars', row.payload, headers);
      const text = await res.text();
      expect(res.status, text).toBe(200);
      const found = (await (await app.fhir('GET', `Task?code=${PATHWAY.taskCode}|transfer-of-responsibility`)).json()) as Bundle;
      const [task, ...more] = (found.entry ?? []).map((e) => e.resource as Task);
      expect(more).toEqual([]);
      expect(task.status).toBe('requested');
      expect(task.input?.find((i) => i.type.coding?.[0].code === 'red-flag-thresholds')?.valueString).toBe(TRANSITION_PLAN[3].valueString);
      expect(task.input?.find((i) => i.type.coding?.[0].code === 'carer-contact-agreed')?.valueString).toBe(CHECKLIST[3].valueString);
      // the same message again (a retry with the same X-Request-ID) makes no second handover
      await app.fhir('POST', '$ingest?format=bars', row.payload, headers);
      const again = (await (await app.fhir('GET', `Task?code=${PATHWAY.taskCode}|transfer-of-responsibility`)).json()) as Bundle;
      expect(again.entry).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});

describe('STEPWISE_PARTNERS teams', () => {
  const load = (v: unknown) => () => loadPartners({ STEPWISE_PARTNERS: JSON.stringify(v) });
  it('a team is named Organization/<id>, reached through one partner, which needs an address', () => {
    expect(load([{ id: 'a', endpoint: 'https://a.test', addresses: ['x|1'], teams: ['cmht-north'] }])).toThrow(/STEPWISE_PARTNERS\[0\]\["teams"\]\[0\]: a team is named Organization\/<id>/);
    expect(load([{ id: 'a', endpoint: 'https://a.test', teams: ['Organization/cmht-north'] }])).toThrow(/STEPWISE_PARTNERS\[0\]\["addresses"\]: a partner that reaches teams needs an address/);
    expect(
      load([
        { id: 'a', endpoint: 'https://a.test', addresses: ['x|1'], teams: ['Organization/cmht-north'] },
        { id: 'b', endpoint: 'https://b.test', addresses: ['x|2'], teams: ['Organization/cmht-north'] },
      ]),
    ).toThrow(/two partners reach the same team/);
    expect(load([{ id: 'a', endpoint: 'https://a.test', addresses: ['x|1'], teams: ['Organization/cmht-north'] }])()[0].teams).toEqual(['Organization/cmht-north']);
  });
});
