import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import type { Partner } from '../../src/config/partners.js';
import { enqueue, listOutbox, type OutboxMessage } from '../../src/delivery/outbox.js';
import { OutboxSender } from '../../src/delivery/sender.js';
import { undiciTransport } from '../../src/delivery/transport.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { databaseFactories, type TestDatabase } from '../support/databases.js';
import { TestPartner } from '../support/partner.js';

/*
 * Issue 14 follow-up: every message delivered to a partner, or gone dead, leaves one AuditEvent
 * (IHE BALP disclosure at the source: DICOM 110106 Export, ISO 21089 transmit), written in the
 * statement that records the outcome: the partner as destination, the outcome, the patient.
 */

const GP = 'https://fhir.nhs.uk/Id/dos-service-id|2000099999';
const SENDER = { odsCode: 'RV5', name: 'Test trust', software: { name: 'Stepwise', version: 'test' } };

/** A triage outcome as the outbox holds it: a message about ServiceRequest/sr-1 of Patient/pat-1. */
function message(key: string, over: Partial<OutboxMessage> = {}): OutboxMessage {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    id: key,
    type: 'message',
    entry: [
      { fullUrl: 'http://stepwise.test/fhir/MessageHeader/h-1', resource: { resourceType: 'MessageHeader', eventCoding: { system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code: 'servicerequest-response' }, source: { endpoint: 'x' }, focus: [{ reference: 'ServiceRequest/sr-1' }] } },
      { fullUrl: 'http://stepwise.test/fhir/ServiceRequest/sr-1', resource: { resourceType: 'ServiceRequest', id: 'sr-1', status: 'active', intent: 'order', subject: { reference: 'Patient/pat-1' } } },
      { fullUrl: 'http://stepwise.test/fhir/Patient/pat-1', resource: { resourceType: 'Patient', id: 'pat-1' } },
    ],
  };
  return { topic: 'bars-triage-outcome', partner: GP, idempotencyKey: key, orderingKey: 'ServiceRequest/sr-1', contentType: 'application/fhir+json', payload: JSON.stringify(bundle), ...over };
}

describe.each(databaseFactories)('AuditEvents of deliveries on %s', (_name, open) => {
  let t: TestDatabase;
  let partner: TestPartner;
  let clock: FixedClock;
  let partners: Partner[];
  const transport = undiciTransport(4);

  const sender = () => new OutboxSender({ db: t.db, clock, partners, transport, concurrency: 4, leaseMs: 60_000, backoffMs: 1000, maxBackoffMs: 60_000, horizonMs: 3_600_000, sender: SENDER, random: () => 0.5 });
  const events = async (criteria: [string, string][] = []) => (await new ResourceStore(t.db, clock).search(parseSearch('AuditEvent', [...criteria, ['_count', '100']]))).matches as AuditEvent[];

  beforeAll(async () => {
    partner = await new TestPartner().listen();
  });
  afterAll(async () => {
    await partner.close();
    await transport.close();
  });
  beforeEach(async () => {
    t = await open();
    clock = new FixedClock(new Date('2026-03-02T09:00:00Z'));
    partner.received.length = 0;
    partner.answer = () => 200;
    partner.delay = () => 0;
    partners = [{ id: 'gp', endpoint: partner.url, addresses: [GP], auth: { type: 'none' }, timeoutSeconds: 5 }];
  });
  afterEach(async () => t.dispose());

  it('a delivered message leaves one AuditEvent: an export transmitted to the partner, success, about the patient and the referral', async () => {
    await enqueue(t.db, [message('11111111-1111-4111-8111-111111111111')], clock.now());
    expect(await sender().runOnce()).toEqual({ delivered: 1, retried: 0, dead: 0 });
    const [event, ...more] = await events();
    expect(more).toEqual([]);
    expect(event.type).toEqual({ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106', display: 'Export' });
    expect(event.subtype).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'transmit', display: 'Transmit Record Lifecycle Event' }]);
    expect(event).toMatchObject({ action: 'R', outcome: '0', recorded: clock.now().toISOString() });
    const destination = event.agent.find((a) => a.type?.coding?.[0].code === '110152')!;
    expect(destination).toMatchObject({ requestor: false, who: { display: 'partner gp' }, network: { address: partner.url, type: '5' } });
    expect(event.agent.find((a) => a.requestor)?.who?.identifier).toEqual({ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'RV5' });
    const byRole = (code: string) => event.entity?.find((e) => e.role?.code === code)?.what?.reference;
    expect(byRole('1')).toBe('Patient/pat-1');
    expect(byRole('4')).toBe('ServiceRequest/sr-1');
    const sent = event.entity!.find((e) => e.what?.identifier)!;
    expect(sent.what!.identifier!.value).toBe('urn:uuid:11111111-1111-4111-8111-111111111111');
    expect(sent.detail).toContainEqual({ type: 'X-Request-ID', valueString: '11111111-1111-4111-8111-111111111111' });
    // the trail is searched by the patient, as every access is
    expect(await events([['patient', 'Patient/pat-1']])).toHaveLength(1);
    expect(await events([['entity', 'ServiceRequest/sr-1']])).toHaveLength(1);
  });

  it('a message the partner refuses goes dead with its AuditEvent: a minor failure, naming what the partner said', async () => {
    partner.answer = () => 422;
    await enqueue(t.db, [message('22222222-2222-4222-8222-222222222222')], clock.now());
    expect(await sender().runOnce()).toEqual({ delivered: 0, retried: 0, dead: 1 });
    const [event, ...more] = await events();
    expect(more).toEqual([]);
    expect(event.outcome).toBe('4');
    expect(event.outcomeDesc).toMatch(/answered 422/);
    expect(event.entity!.find((e) => e.what?.identifier)!.detail).toContainEqual({ type: 'partner-status', valueString: '422' });
  });

  it('a retry leaves none; a message that goes dead past the retry horizon leaves one, a serious failure', async () => {
    partner.answer = () => 503;
    await enqueue(t.db, [message('33333333-3333-4333-8333-333333333333')], clock.now());
    expect(await sender().runOnce()).toEqual({ delivered: 0, retried: 1, dead: 0 });
    expect(await events()).toEqual([]);
    clock.advance(3_600_001);
    expect(await sender().runOnce()).toEqual({ delivered: 0, retried: 0, dead: 1 });
    const [event, ...more] = await events();
    expect(more).toEqual([]);
    expect(event.outcome).toBe('8');
    expect(event.outcomeDesc).toMatch(/past the retry horizon/);
  });

  it('a message for no configured partner goes dead with its AuditEvent naming the address', async () => {
    await enqueue(t.db, [message('44444444-4444-4444-8444-444444444444', { partner: 'https://fhir.nhs.uk/Id/dos-service-id|2000011111' })], clock.now());
    expect(await sender().runOnce()).toEqual({ delivered: 0, retried: 0, dead: 1 });
    const [event] = await events();
    expect(event.outcome).toBe('8');
    expect(event.agent.find((a) => a.type?.coding?.[0].code === '110152')?.who?.display).toBe('partner https://fhir.nhs.uk/Id/dos-service-id|2000011111');
  });

  it('an outcome whose lease another sender took is not recorded, and leaves no AuditEvent', async () => {
    partner.delay = () => 300;
    await enqueue(t.db, [message('55555555-5555-4555-8555-555555555555')], clock.now());
    const run = sender().runOnce();
    // while the request is in flight, the lease passes to another sender
    while (partner.received.length === 0) await new Promise((r) => setTimeout(r, 10));
    await t.db.query(`UPDATE outbox SET lease_token = 'someone-else'`);
    await run;
    expect(await events()).toEqual([]);
    const [row] = await listOutbox(t.db);
    expect(row.state).toBe('delivering');
  });
});
