import type { AuditEvent, Bundle, MessageHeader, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverValidator } from '../../src/fhir/server-validator.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { indicator } from '../pathway/builders.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { barsHeaders, entry, FRONT_DOOR_DOS, headersAsHttp, REFERRAL_CONTEXT, referralMessage } from './support.js';


/**
 * A new referral is planned by reading (who is known, what the front door decides) and written in
 * one statement; these check what that must still see and leave behind.
 */
describe('identities and audit of referral messages', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const send = async (m: Bundle) => {
    const res = await app.fhir('POST', '$process-message', m, headersAsHttp(barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT)));
    const body = (await res.json()) as Bundle;
    expect(res.status, JSON.stringify(body)).toBe(200);
    return (body.entry![0].resource as MessageHeader).focus![0].reference!;
  };
  const json = async <T>(path: string) => (await (await app.fhir('GET', path)).json()) as T;
  const triageOf = async (sr: string) => (await json<Bundle<Task>>(`Task?focus=${sr}&code=${PATHWAY.taskCode}|triage`)).entry![0].resource!;
  const patientsWith = async (nhs: string) => (await json<Bundle>(`Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`)).entry ?? [];

  it("a person known already: what is stored about them (a red flag raised since) shapes their new referral's triage", async () => {
    const first = await send(referralMessage({ nhsNumber: '9434765870' }));
    expect((await triageOf(first)).priority).not.toBe('stat');
    const [patient] = await patientsWith('9434765870');
    const flag = await app.fhir('POST', 'Flag', { resourceType: 'Flag', status: 'active', code: indicator('imminent-risk'), subject: { reference: `Patient/${patient.resource!.id}` } });
    expect(flag.status).toBe(201);

    const second = await send(referralMessage({ nhsNumber: '9434765870' }));
    expect(await patientsWith('9434765870')).toHaveLength(1);
    const task = await triageOf(second);
    expect(task.priority).toBe('stat');
    expect(Date.parse(task.restriction!.period!.end!) - Date.parse(task.authoredOn!)).toBeLessThanOrEqual(4 * 3_600_000);
  });

  it('a person deleted since their last referral is created again, once', async () => {
    await send(referralMessage({ nhsNumber: '9434765838' }));
    const [old] = await patientsWith('9434765838');
    expect((await app.fhir('DELETE', `Patient/${old.resource!.id}`)).status).toBe(200);
    expect(await patientsWith('9434765838')).toHaveLength(0);

    await send(referralMessage({ nhsNumber: '9434765838' }));
    const now = await patientsWith('9434765838');
    expect(now).toHaveLength(1);
    expect(now[0].resource!.id).not.toBe(old.resource!.id);
    // and the claim follows the new resource: a third referral matches it
    await send(referralMessage({ nhsNumber: '9434765838' }));
    expect((await patientsWith('9434765838')).map((e) => e.resource!.id)).toEqual([now[0].resource!.id]);
  });

  it('an update message naming a person deleted since is processed, and the person created again', async () => {
    const sr = await send(referralMessage({ nhsNumber: '9434765846' }));
    const [old] = await patientsWith('9434765846');
    expect((await app.fhir('DELETE', `Patient/${old.resource!.id}`)).status).toBe(200);

    const update = referralMessage({ nhsNumber: '9434765846' });
    const usr = entry<ServiceRequest>(update, 'ServiceRequest');
    usr.fullUrl = `http://stepwise.test/fhir/${sr}`;
    usr.resource = { ...usr.resource!, id: sr.split('/')[1] };
    (update.entry![0].resource as MessageHeader).focus = [{ reference: usr.fullUrl }];
    (update.entry![0].resource as MessageHeader).reason!.coding![0].code = 'update';
    const res = await app.fhir('POST', '$process-message', update, headersAsHttp(barsHeaders(FRONT_DOOR_DOS, 'a5t1|referral|servicerequest-request|update')));
    expect(res.status, await res.clone().text()).toBe(200);
    const now = await patientsWith('9434765846');
    expect(now).toHaveLength(1);
    expect(now[0].resource!.id).not.toBe(old.resource!.id);
  });

  it('a processed message leaves one valid AuditEvent naming the sender, the referral and the patient', async () => {
    const m = referralMessage({ nhsNumber: '9434765919' });
    const sr = await send(m);
    const audits = (await json<Bundle<AuditEvent>>(`AuditEvent?entity=${sr}`)).entry ?? [];
    expect(audits).toHaveLength(1);
    const audit = audits[0].resource!;
    expect(audit).toMatchObject({ action: 'E', outcome: '0', type: { code: 'rest' }, subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'operation' }] });
    // the requestor is who is authenticated (auth is off here); the sender's headers are a claim beside it
    expect(audit.agent[0]).toMatchObject({ requestor: true, who: { display: 'development client (STEPWISE_AUTH=off)' } });
    expect(audit.entity?.[0].detail).toEqual(expect.arrayContaining([{ type: 'NHSD-End-User-Organisation (claimed)', valueString: 'https://fhir.nhs.uk/Id/ods-organization-code|A83627 (Test practice)' }]));
    const [patient] = await patientsWith('9434765919');
    expect(audit.entity?.map((e) => e.what?.reference)).toEqual(expect.arrayContaining([sr, `Patient/${patient.resource!.id}`]));
    expect(audit.entity?.[0].detail).toEqual(expect.arrayContaining([{ type: 'Bundle.id', valueString: m.id }]));
    const errors = serverValidator().validate(audit).filter((i) => i.severity === 'error');
    expect(errors).toEqual([]);
  });
});
