import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { enqueue, listOutbox, type OutboxMessage } from '../../src/delivery/outbox.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { databaseFactories } from '../support/databases.js';
import { GP, partnerHarness, testSender } from './support.js';

/*
 * Issue 14 follow-up: every message delivered to a partner, or gone dead, leaves one AuditEvent
 * (IHE BALP disclosure at the source: DICOM 110106 Export, ISO 21089 transmit), written in the
 * statement that records the outcome: the partner as destination, the outcome, the patient.
 */


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
  const h = partnerHarness(open);

  const sender = () => testSender({ db: h.t.db, clock: h.clock, partners: h.partners, transport: h.transport, random: () => 0.5 });
  const events = async (criteria: [string, string][] = []) => (await new ResourceStore(h.t.db, h.clock).search(parseSearch('AuditEvent', [...criteria, ['_count', '100']]))).matches as AuditEvent[];

  it('a delivered message leaves one AuditEvent: an export transmitted to the partner, success, about the patient and the referral', async () => {
    await enqueue(h.t.db, [message('11111111-1111-4111-8111-111111111111')], h.clock.now());
    expect(await sender().runOnce()).toEqual({ delivered: 1, retried: 0, dead: 0 });
    const [event, ...more] = await events();
    expect(more).toEqual([]);
    expect(event.type).toEqual({ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106', display: 'Export' });
    expect(event.subtype).toEqual([{ system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'transmit', display: 'Transmit Record Lifecycle Event' }]);
    expect(event).toMatchObject({ action: 'R', outcome: '0', recorded: h.clock.now().toISOString() });
    const destination = event.agent.find((a) => a.type?.coding?.[0].code === '110152')!;
    expect(destination).toMatchObject({ requestor: false, who: { display: 'partner gp' }, network: { address: h.partner.url, type: '5' } });
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
    h.partner.answer = () => 422;
    await enqueue(h.t.db, [message('22222222-2222-4222-8222-222222222222')], h.clock.now());
    expect(await sender().runOnce()).toEqual({ delivered: 0, retried: 0, dead: 1 });
    const [event, ...more] = await events();
    expect(more).toEqual([]);
    expect(event.outcome).toBe('4');
    expect(event.outcomeDesc).toMatch(/answered 422/);
    expect(event.entity!.find((e) => e.what?.identifier)!.detail).toContainEqual({ type: 'partner-status', valueString: '422' });
  });

  it('a retry leaves none; a message that goes dead past the retry horizon leaves one, a serious failure', async () => {
    h.partner.answer = () => 503;
    await enqueue(h.t.db, [message('33333333-3333-4333-8333-333333333333')], h.clock.now());
    expect(await sender().runOnce()).toEqual({ delivered: 0, retried: 1, dead: 0 });
    expect(await events()).toEqual([]);
    h.clock.advance(3_600_001);
    expect(await sender().runOnce()).toEqual({ delivered: 0, retried: 0, dead: 1 });
    const [event, ...more] = await events();
    expect(more).toEqual([]);
    expect(event.outcome).toBe('8');
    expect(event.outcomeDesc).toMatch(/past the retry horizon/);
  });

  it('a message for no configured partner goes dead with its AuditEvent naming the address', async () => {
    await enqueue(h.t.db, [message('44444444-4444-4444-8444-444444444444', { partner: 'https://fhir.nhs.uk/Id/dos-service-id|2000011111' })], h.clock.now());
    expect(await sender().runOnce()).toEqual({ delivered: 0, retried: 0, dead: 1 });
    const [event] = await events();
    expect(event.outcome).toBe('8');
    expect(event.agent.find((a) => a.type?.coding?.[0].code === '110152')?.who?.display).toBe('partner https://fhir.nhs.uk/Id/dos-service-id|2000011111');
  });

  it('an outcome whose lease another sender took is not recorded, and leaves no AuditEvent', async () => {
    h.partner.delay = () => 300;
    await enqueue(h.t.db, [message('55555555-5555-4555-8555-555555555555')], h.clock.now());
    const run = sender().runOnce();
    // while the request is in flight, the lease passes to another sender
    while (h.partner.received.length === 0) await new Promise((r) => setTimeout(r, 10));
    await h.t.db.query(`UPDATE outbox SET lease_token = 'someone-else'`);
    await run;
    expect(await events()).toEqual([]);
    const [row] = await listOutbox(h.t.db);
    expect(row.state).toBe('delivering');
  });
});
