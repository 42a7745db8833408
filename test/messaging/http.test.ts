import type { Bundle, CarePlan, MessageDefinition, MessageHeader, OperationOutcome, Patient, ServiceRequest } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFhirXml } from '../../src/fhir/xml/index.js';
import { STEPWISE_EVENTS } from '../../src/messaging/index.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { readFileSync } from 'node:fs';
import { barsHeaders, entry, FRONT_DOOR_DOS, guid, headersAsHttp, REFERRAL_CONTEXT, referralMessage, SAMPLES } from './support.js';

/** The app runs with its default hosted services: the front door takes use case a5t1. */
describe('$process-message and the BaRS receiver over HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const post = (body: unknown, headers: Record<string, string>, query = '') => app.fhir('POST', `$process-message${query}`, body, headers);
  const bars = (useContext = REFERRAL_CONTEXT, overrides = {}) => headersAsHttp(barsHeaders(FRONT_DOOR_DOS, useContext, overrides));
  const focusOf = (b: Bundle) => (b.entry![0].resource as MessageHeader).focus![0].reference!;

  it("the sender's worked example in src/messaging/README.md: docs/examples/bars-referral.json is accepted by the front door, its Tasks named in the answer", async () => {
    const example = JSON.parse(readFileSync(new URL('../../docs/examples/bars-referral.json', import.meta.url), 'utf8')) as Bundle;
    const res = await post(example, bars('a5t1|referral|servicerequest-request|new'));
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Bundle;
    expect(answer.id).toBe(example.id);
    const focus = (answer.entry![0].resource as MessageHeader).focus!.map((f) => f.reference!);
    expect(focus[0]).toMatch(/^ServiceRequest\//);
    const triage = (await (await app.fhir('GET', `Task?focus=${focus[0]}&code=${PATHWAY.taskCode}|triage`)).json()) as Bundle;
    expect(triage.entry).toHaveLength(1);
    expect(focus).toContain(`Task/${triage.entry![0].resource!.id}`);
  });

  it('accepts a referral: response message with code ok naming the receiver-generated ServiceRequest id', async () => {
    const m = referralMessage();
    const h = bars();
    const res = await post(m, h);
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Request-ID')).toBe(h['X-Request-ID']);
    expect(res.headers.get('X-Correlation-ID')).toBe(h['X-Correlation-ID']);
    const body = (await res.json()) as Bundle;
    expect(body).toMatchObject({ resourceType: 'Bundle', type: 'message' });
    expect(body.entry![0].resource).toMatchObject({ resourceType: 'MessageHeader', response: { identifier: m.id, code: 'ok' } });
    expect(body.entry![1].resource!.resourceType).toBe('OperationOutcome');
    const ref = focusOf(body);
    expect(ref).toMatch(/^ServiceRequest\/[0-9a-f-]{36}$/);
    expect(ref).not.toContain('00000000-0000-4000-8000');
    const read = await app.fhir('GET', ref);
    expect(read.status).toBe(200);
    expect(((await read.json()) as ServiceRequest).subject!.reference).toMatch(/^Patient\//);
  });

  it('warns, without rejecting, about an ODS system that differs only in case (as in the BaRS examples)', async () => {
    const m = referralMessage();
    const org = m.entry!.find((e) => e.resource?.resourceType === 'Organization')!.resource as { identifier: { system: string }[] };
    org.identifier[0].system = 'https://fhir.nhs.uk/id/ods-organization-code';
    const res = await post(m, bars());
    expect(res.status).toBe(200);
    const oo = ((await res.json()) as Bundle).entry![1].resource as OperationOutcome;
    expect(oo.issue.find((i) => i.severity === 'warning' && i.code === 'value')).toMatchObject({ expression: ['Bundle.entry[6].resource.identifier[0].system'] });
  });

  it('accepts the same referral as FHIR XML', async () => {
    const res = await post(formatFhirXml(referralMessage()), { ...bars(), 'Content-Type': 'application/fhir+xml' });
    expect(res.status).toBe(200);
  });

  it('a published BaRS sample sent as XML, readdressed to the crisis line: accepted, its defects named as warnings', async () => {
    const CRISIS_LINE = '2000072002';
    const xml = readFileSync(`${SAMPLES}/REFREQ01-referral-111-to-ED.xml`, 'utf8').replace('dos-service-id|111111111', `dos-service-id|${CRISIS_LINE}`);
    const h = headersAsHttp(barsHeaders(CRISIS_LINE, 'a1t1|referral|servicerequest-request|new'));
    const res = await post(xml, { ...h, 'Content-Type': 'application/fhir+xml', Accept: 'application/fhir+json' });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Bundle;
    const oo = answer.entry!.find((e) => e.resource?.resourceType === 'OperationOutcome')!.resource as OperationOutcome;
    const warnings = oo.issue.filter((i) => i.severity === 'warning').map((i) => i.expression![0]);
    expect(warnings).toContain('Bundle.entry[5].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].system');
    expect(warnings).toContain('Bundle.entry[5].resource.identifier[0].value');
    expect(oo.issue.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('update then cancel, using the ids the server returned; a stale version is 409', async () => {
    const first = referralMessage();
    const created = (await (await post(first, bars())).json()) as Bundle;
    const ref = focusOf(created);
    const id = ref.split('/')[1];

    // update: the sender names the referral by the id it was given, based on version 1
    const update = referralMessage();
    const usr = entry<ServiceRequest>(update, 'ServiceRequest');
    usr.fullUrl = `http://stepwise.test/fhir/${ref}`;
    usr.resource = { ...usr.resource!, id, meta: { ...usr.resource!.meta, versionId: '1' }, reasonCode: [{ text: 'Now also not eating' }], priority: 'urgent' };
    (update.entry![0].resource as MessageHeader).focus = [{ reference: usr.fullUrl }];
    (update.entry![0].resource as MessageHeader).reason!.coding![0].code = 'update';
    const updated = await post(update, bars('a5t1|referral|servicerequest-request|update'));
    expect(updated.status, await updated.clone().text()).toBe(200);
    expect(focusOf((await updated.json()) as Bundle)).toBe(ref);
    const v2 = (await (await app.fhir('GET', ref)).json()) as ServiceRequest;
    expect(v2).toMatchObject({ id, priority: 'urgent', meta: { versionId: '2' } });

    // the same update again (new request and Bundle ids) is now based on a stale version
    const stale = structuredClone(update);
    stale.id = guid();
    const conflict = await post(stale, bars('a5t1|referral|servicerequest-request|update'));
    expect(conflict.status).toBe(409);
    const oo = (await conflict.json()) as OperationOutcome;
    expect(oo.issue[0]).toMatchObject({ code: 'conflict', expression: ['Bundle.entry[1].resource.meta.versionId'], details: { coding: [{ code: 'REC_CONFLICT' }] } });

    // cancel: reason update with the ServiceRequest revoked, based on version 2; the cancellation
    // MessageDefinition allows only the ServiceRequest, the Patient and the Organizations
    const cancel = structuredClone(update);
    cancel.id = guid();
    cancel.entry = cancel.entry!.filter((e) => ['MessageHeader', 'ServiceRequest', 'Patient', 'Organization'].includes(e.resource!.resourceType));
    const csr = entry<ServiceRequest>(cancel, 'ServiceRequest').resource!;
    csr.status = 'revoked';
    csr.meta!.versionId = '2';
    csr.reasonCode = [{ text: 'Patient moved out of area' }];
    (cancel.entry![0].resource as MessageHeader).definition = 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-cancelled';
    const cancelled = await post(cancel, bars('a5t1|referral|servicerequest-request|update'));
    expect(cancelled.status, await cancelled.clone().text()).toBe(200);
    const v3 = (await (await app.fhir('GET', ref)).json()) as ServiceRequest;
    expect(v3).toMatchObject({ status: 'revoked', meta: { versionId: '3' }, reasonCode: [{ text: 'Patient moved out of area' }] });
  });

  it("an update carrying a resource older than the sender sent before is stale (409 conflict); the same or a newer one is taken", async () => {
    const first = referralMessage();
    for (const e of first.entry!) e.resource!.meta = { ...e.resource!.meta, lastUpdated: '2026-03-02T08:50:00+00:00' };
    const created = await post(first, bars());
    expect(created.status).toBe(200);
    const asUpdate = (lastUpdated: string) => {
      const m = structuredClone(first);
      m.id = guid();
      (m.entry![0].resource as MessageHeader).reason!.coding![0].code = 'update';
      entry<Patient>(m, 'Patient').resource!.meta = { lastUpdated };
      return m;
    };
    const stale = await post(asUpdate('2026-03-01T08:50:00+00:00'), bars('a5t1|referral|servicerequest-request|update'));
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'conflict', expression: ['Bundle.entry[4].resource.meta.lastUpdated'], details: { coding: [{ code: 'REC_CONFLICT' }] } });
    const current = await post(asUpdate('2026-03-02T08:50:00+00:00'), bars('a5t1|referral|servicerequest-request|update'));
    expect(current.status, await current.clone().text()).toBe(200);
  });

  it('a re-used X-Request-ID is answered 409 duplicate even when the message sent again is also faulty', async () => {
    const h = bars();
    expect((await post(referralMessage(), h)).status).toBe(200);
    const faulty = referralMessage();
    entry<CarePlan>(faulty, 'CarePlan').resource!.status = 'active';
    const res = await post(faulty, { ...h, 'X-Correlation-ID': guid() });
    expect(res.status).toBe(409);
    expect(((await res.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'duplicate', expression: ['http.X-Request-ID'], details: { coding: [{ code: 'REC_CONFLICT' }] } });
  });

  it('only the sender of a referral can cancel it: another source is 403', async () => {
    const created = (await (await post(referralMessage(), bars())).json()) as Bundle;
    const ref = focusOf(created);
    const cancel = referralMessage();
    cancel.entry = cancel.entry!.filter((e) => ['MessageHeader', 'ServiceRequest', 'Patient', 'Organization'].includes(e.resource!.resourceType));
    const csr = entry<ServiceRequest>(cancel, 'ServiceRequest');
    csr.resource = { ...csr.resource!, id: ref.split('/')[1], status: 'revoked' };
    const h = cancel.entry![0].resource as MessageHeader;
    h.reason!.coding![0].code = 'update';
    h.source!.endpoint = 'https://fhir.nhs.uk/Id/dos-service-id|2000055555';
    h.definition = 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-cancelled';
    const res = await post(cancel, bars('a5t1|referral|servicerequest-request|update'));
    expect(res.status).toBe(403);
    expect(((await res.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'forbidden', expression: ['Bundle.entry[0].resource.source.endpoint'], details: { coding: [{ code: 'REC_UNAUTHORIZED' }] } });
    expect(((await (await app.fhir('GET', ref)).json()) as ServiceRequest).status).toBe('active');
  });

  it('an update for a referral that is not known here is 404', async () => {
    const update = referralMessage();
    const usr = entry<ServiceRequest>(update, 'ServiceRequest');
    usr.resource = { ...usr.resource!, id: '5e0b0b4e-0000-4000-8000-000000000000' };
    usr.fullUrl = `urn:uuid:${guid()}`;
    (update.entry![0].resource as MessageHeader).focus = [{ reference: usr.fullUrl }];
    (update.entry![0].resource as MessageHeader).reason!.coding![0].code = 'update';
    const res = await post(update, bars('a5t1|referral|servicerequest-request|update'));
    expect(res.status).toBe(404);
    expect(((await res.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'not-found', expression: ['Bundle.entry[1].resource'], details: { coding: [{ code: 'REC_NOT_FOUND' }] } });
  });

  it('BaRS duplicates: a re-used X-Request-ID is 409, a re-used Bundle.id is 400; neither is processed again', async () => {
    const m = referralMessage();
    const h = bars();
    expect((await post(m, h)).status).toBe(200);
    const count = async () => (await app.t.db.query("SELECT count(*)::int AS n FROM resource WHERE type = 'ServiceRequest'"))[0];
    const before = await count();
    const again = await post(m, h);
    expect(again.status).toBe(409);
    expect(((await again.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'duplicate', expression: ['http.X-Request-ID'], details: { coding: [{ code: 'REC_CONFLICT' }] } });
    const sameBundle = await post(m, bars());
    expect(sameBundle.status).toBe(400);
    expect(((await sameBundle.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'invariant', expression: ['Bundle.id'], details: { coding: [{ code: 'REC_BAD_REQUEST' }] } });
    expect(await count()).toEqual(before);
  });

  it('FHIR messaging outside BaRS: a message sent again gets the original response again', async () => {
    const m = referralMessage();
    (m.entry![0].resource as MessageHeader).eventCoding = { system: STEPWISE_EVENTS, code: 'referral-request' };
    delete m.meta;
    const first = await post(m, { 'X-Request-ID': 'gp-system-req-1' });
    expect(first.status, await first.clone().text()).toBe(200);
    expect(first.headers.get('X-Request-ID')).toBe('gp-system-req-1');
    const second = await post(m, {});
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual(await first.json());
    const log = await app.t.db.query<{ disposition: string }>('SELECT disposition FROM message_log WHERE bundle_id = $1 ORDER BY seq', [m.id]);
    expect(log.map((r) => r.disposition)).toEqual(['processed', 'duplicate']);
  });

  it('an event that is neither BaRS nor configured is 422', async () => {
    const m = referralMessage();
    (m.entry![0].resource as MessageHeader).eventCoding = { system: 'https://example.org/events', code: 'anything' };
    const res = await post(m, {});
    expect(res.status).toBe(422);
    expect(((await res.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'not-supported', expression: ['Bundle.entry[0].resource.eventCoding'] });
  });

  it('async=true answers 202 and queues the response message in the outbox', async () => {
    const m = referralMessage();
    const res = await post(m, bars(), '?async=true');
    expect(res.status).toBe(202);
    // the answer, first of the referral's messages in the outbox (src/delivery), for the sender's source endpoint
    const rows = await app.t.db.query<{ partner: string; payload: string; state: string; topic: string }>(
      "SELECT o.partner, o.payload, o.state, o.topic FROM outbox o WHERE o.topic = 'bars-async-response' AND o.payload::jsonb -> 'entry' -> 0 -> 'resource' -> 'response' ->> 'identifier' = $1",
      [m.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ partner: 'https://fhir.nhs.uk/Id/dos-service-id|2000099999', state: 'pending' });
    expect(JSON.parse(rows[0].payload).entry[0].resource.response).toMatchObject({ identifier: m.id, code: 'ok' });
  });

  it('async=true with a message that fails its checks: 202, and a fatal-error response queued', async () => {
    const m = referralMessage();
    entry<CarePlan>(m, 'CarePlan').resource!.status = 'active';
    const res = await post(m, bars(), '?async=true');
    expect(res.status).toBe(202);
    const rows = await app.t.db.query<{ payload: string }>(
      "SELECT o.payload FROM outbox o WHERE o.topic = 'bars-async-response' AND o.payload::jsonb -> 'entry' -> 0 -> 'resource' -> 'response' ->> 'identifier' = $1",
      [m.id],
    );
    expect(rows).toHaveLength(1);
    const response = JSON.parse(rows[0].payload) as Bundle;
    expect(response.entry![0].resource).toMatchObject({ response: { code: 'fatal-error' } });
    expect((response.entry![1].resource as OperationOutcome).issue[0].expression).toEqual(['Bundle.entry[3].resource.status']);
    // accepted for later, but audited as the failure it is
    const audits = await app.t.db.query<{ content: string }>("SELECT content FROM audit_event ORDER BY seq DESC LIMIT 1");
    expect(JSON.parse(audits[0].content)).toMatchObject({ outcome: '4', entity: [{ detail: expect.arrayContaining([{ type: 'Bundle.id', valueString: m.id }]) }] });
  });

  it('a malformed async parameter is 400', async () => {
    const res = await post(referralMessage(), bars(), '?async=yes');
    expect(res.status).toBe(400);
    expect(((await res.json()) as OperationOutcome).issue[0].expression).toEqual(['async']);
  });

  it('a wrong method on $process-message is 405 with REC_METHOD_NOT_ALLOWED', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await app.fhir(method, '$process-message', method === 'PUT' ? referralMessage() : undefined);
      expect(res.status).toBe(405);
      expect(((await res.json()) as OperationOutcome).issue[0].details?.coding?.[0].code).toBe('REC_METHOD_NOT_ALLOWED');
    }
  });

  describe('GET MessageDefinition?context=', () => {
    const get = (query: string, headers: Record<string, string> = { 'X-Request-ID': guid() }) => app.fhir('GET', `MessageDefinition${query}`, undefined, headers);

    it('lists what a hosted service accepts, by DoS service id', async () => {
      const res = await get(`?context=${encodeURIComponent(`https://fhir.nhs.uk/Id/dos-service-id|${FRONT_DOOR_DOS}`)}`);
      expect(res.status).toBe(200);
      const bundle = (await res.json()) as Bundle<MessageDefinition>;
      expect(bundle.type).toBe('searchset');
      const urls = bundle.entry!.map((e) => e.resource!.url);
      expect(urls).toContain('https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral');
      // the DoS service id in both forms BaRS receivers are assured against
      for (const e of bundle.entry!) {
        expect(e.resource!.useContext).toContainEqual(expect.objectContaining({ code: expect.objectContaining({ system: 'https://fhir.nhs.uk/Id/dos-service-id', code: FRONT_DOOR_DOS }) }));
        expect(e.resource!.useContext).toContainEqual({ code: { system: 'http://terminology.hl7.org/CodeSystem/usage-context-type', code: 'workflow' }, valueCodeableConcept: { coding: [expect.objectContaining({ system: 'https://fhir.nhs.uk/Id/dos-service-id', code: FRONT_DOOR_DOS })] } });
      }
    });

    it('a service id written with http:, and a use case URL-encoded into the same parameter, are read as BaRS senders mean them', async () => {
      const both = encodeURIComponent(`https://fhir.nhs.uk/CodeSystem/usecases-categories-bars|a5t1&context=http://fhir.nhs.uk/Id/dos-service-id|${FRONT_DOOR_DOS}`);
      const res = await get(`?context=${both}`);
      expect(res.status).toBe(200);
      const bundle = (await res.json()) as Bundle<MessageDefinition>;
      expect(bundle.total).toBeGreaterThan(0);
      // the use case chooses definitions; each still lists every use case the service takes
      expect(bundle.entry![0].resource!.useContext!.filter((u) => u.valueCodeableConcept?.coding?.[0]?.system === 'https://fhir.nhs.uk/CodeSystem/usecases-categories-bars').length).toBeGreaterThan(0);
      expect((await get(`?context=${encodeURIComponent('http://fhir.nhs.uk/Id/dos-service-id|99999999')}`)).status).toBe(404);
      const invalid = await get('?context=XXXXXXX');
      expect(invalid.status).toBe(400);
      expect(((await invalid.json()) as OperationOutcome).issue[0].code).toBe('value');
    });

    it('narrows by use case; a use case the service does not take gives none', async () => {
      const ok = (await (await get(`?context=${FRONT_DOOR_DOS}&context=a5t1`)).json()) as Bundle;
      expect(ok.total).toBeGreaterThan(0);
      const none = (await (await get(`?context=${FRONT_DOOR_DOS}&context=a1t1`)).json()) as Bundle;
      expect(none.total).toBe(0);
    });

    it('400 without context, 404 for a service not hosted here', async () => {
      const missing = await get('');
      expect(missing.status).toBe(400);
      expect(((await missing.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'required', expression: ['context'], details: { coding: [{ code: 'REC_BAD_REQUEST' }] } });
      const unknown = await get('?context=123456');
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as OperationOutcome).issue[0].details?.coding?.[0].code).toBe('REC_NOT_FOUND');
    });

    it('a malformed BaRS header is 400 naming it', async () => {
      const res = await get(`?context=${FRONT_DOOR_DOS}`, { 'X-Request-ID': 'nope' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as OperationOutcome).issue[0].expression).toEqual(['http.X-Request-ID']);
    });
  });

  describe('GET ServiceRequest/[id]', () => {
    it('404 with REC_NOT_FOUND for an unknown referral, 400 with REC_BAD_REQUEST for a malformed id', async () => {
      const unknown = await app.fhir('GET', 'ServiceRequest/8d8c1a52-0000-4000-8000-000000000000');
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as OperationOutcome).issue[0].details?.coding?.[0]).toMatchObject({ system: 'https://fhir.nhs.uk/CodeSystem/http-error-codes', code: 'REC_NOT_FOUND' });
      const malformed = await app.fhir('GET', 'ServiceRequest/not$an$id');
      expect(malformed.status).toBe(400);
      expect(((await malformed.json()) as OperationOutcome).issue[0].details?.coding?.[0].code).toBe('REC_BAD_REQUEST');
    });

    it('BaRS reads hold to the BaRS API: a UUID id, and a search by a valid NHS number', async () => {
      const h = bars();
      const read = (path: string) => app.fhir('GET', path, undefined, h);
      const notUuid = await read('ServiceRequest/XXXXXXXXX');
      expect(notUuid.status).toBe(400);
      expect(((await notUuid.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'value', details: { coding: [{ code: 'REC_BAD_REQUEST' }] } });
      expect((await read(`ServiceRequest/${guid()}`)).status).toBe(404);
      const noPatient = await read('ServiceRequest');
      expect(noPatient.status).toBe(400);
      expect(((await noPatient.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'required', expression: ['patient:identifier'] });
      const badNumber = await read(`ServiceRequest?patient:identifier=${encodeURIComponent('https://fhir.nhs.uk/Id/nhs-number|XXXXXX')}`);
      expect(badNumber.status).toBe(400);
      expect(((await badNumber.json()) as OperationOutcome).issue[0]).toMatchObject({ code: 'value' });
      const found = await read(`ServiceRequest?patient:identifier=${encodeURIComponent('https://fhir.nhs.uk/Id/nhs-number|9000000009')}`);
      expect(found.status).toBe(200);
      expect(((await found.json()) as Bundle).type).toBe('searchset');
      // REST clients outside BaRS keep plain FHIR: any id, any search
      expect((await app.fhir('GET', 'ServiceRequest/XXXXXXXXX')).status).toBe(404);
      expect((await app.fhir('GET', 'ServiceRequest')).status).toBe(200);
    });

    it('echoes X-Correlation-ID', async () => {
      const created = (await (await post(referralMessage(), bars())).json()) as Bundle;
      const correlation = guid();
      const res = await app.fhir('GET', focusOf(created), undefined, { 'X-Correlation-ID': correlation });
      expect(res.status).toBe(200);
      expect(res.headers.get('X-Correlation-ID')).toBe(correlation);
    });
  });
});
