import { readFileSync } from 'node:fs';
import type { Bundle, OperationOutcome, ServiceRequest, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHWAY } from '../../src/pathway/codes.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { seedPartnerMappings } from '../../src/mapping/publish.js';
import { writeBars } from '../../src/mapping/bars/bars-format.js';
import { readNhs111Pem } from '../../src/mapping/nhs111/format.js';
import { readPem } from '../../src/mapping/nhs111/pem-reader.js';
import { barsHeaders, headersAsHttp } from '../messaging/support.js';
import { listen, startTestApp, type TestApp } from '../support/app.js';
import { databaseFactories } from '../support/databases.js';
import { fixturePath } from '../support/fixtures.js';

const PEM = readFileSync(fixturePath('nhs111', 'crisis-overdose-pem.xml'), 'utf8');
const SAMPLE = readFileSync(fixturePath('nhs', 'crisis', 'nhs111-pem-safeguarding-request.xml'), 'utf8');

describe.each(databaseFactories)('POST /fhir/$ingest?format=nhs111-pem over HTTP (%s): a Post Event Message becomes a crisis referral the front door admits', (_name, open) => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    t = await startTestApp(open);
    await seedPathwayData(t.store);
    await seedPartnerMappings(t.store);
    server = await listen(t.app);
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  const ingest = async (xml: string) => {
    const res = await fetch(`${server.url}/fhir/$ingest?format=nhs111-pem`, { method: 'POST', headers: { 'Content-Type': 'application/xml' }, body: xml });
    return { status: res.status, outcome: (await res.json()) as OperationOutcome };
  };
  const search = async <T,>(query: string): Promise<T[]> =>
    (((await (await fetch(`${server.url}/fhir/${query}`)).json()) as Bundle).entry ?? []).map((e) => e.resource as T);

  it('admits the referral, and the red flag in the reason for call makes its triage a same-day escalation (stat, due within 4 hours)', async () => {
    const { status, outcome } = await ingest(PEM);
    expect(status, JSON.stringify(outcome)).toBe(200);
    expect(outcome.issue.filter((i) => i.severity === 'error')).toEqual([]);
    const [referral, ...others] = await search<ServiceRequest>('ServiceRequest?identifier=urn:ietf:rfc:3986|urn:uuid:6F1B3D5A-7C9E-4B2D-A4F6-8E0C2A4B6D8F');
    expect(others).toEqual([]);
    expect(referral.priority).toBe('stat');
    const [triage] = await search<Task>(`Task?focus=ServiceRequest/${referral.id}&code=${PATHWAY.taskCode}|triage`);
    expect(triage.priority).toBe('stat');
    expect(triage.status).toBe('requested');
    expect(Date.parse(triage.restriction!.period!.end!) - Date.parse(triage.authoredOn!)).toBeLessThanOrEqual(4 * 3600_000);
    expect(triage.description).toMatch(/overdose/i);
  });

  it('sent again, the same document is recognised and creates nothing new', async () => {
    await ingest(PEM);
    expect(await search<ServiceRequest>('ServiceRequest?identifier=urn:ietf:rfc:3986|urn:uuid:6F1B3D5A-7C9E-4B2D-A4F6-8E0C2A4B6D8F')).toHaveLength(1);
  });

  it('admits the published sample with its defects named at their XPath, and refuses a document that cannot be read (400)', async () => {
    const { status, outcome } = await ingest(SAMPLE);
    expect(status, JSON.stringify(outcome)).toBe(200);
    expect(outcome.issue.some((i) => i.severity === 'warning' && i.expression?.[0]?.endsWith('/recordTarget/patientRole/id[2]/@extension'))).toBe(true);
    const refused = await ingest('<Envelope><Body/></Envelope>');
    expect(refused.status).toBe(400);
    expect(refused.outcome.issue[0].expression).toEqual(['/Envelope/Body/DistributionEnvelope/payloads']);
  });

  it('$ingest?format=bars: the same crisis referral as a BaRS message to the crisis line is admitted through the BaRS receiver', async () => {
    const { result } = readNhs111Pem(PEM.replace('6F1B3D5A-7C9E-4B2D-A4F6-8E0C2A4B6D8F', '1A2B3C4D-5E6F-4A1B-8C2D-3E4F5A6B7C8D'));
    result.entry!.push({ fullUrl: 'urn:uuid:0e2f4a6c-8b1d-4f3e-a5c7-9e1b3d5f7a90', resource: { resourceType: 'HealthcareService', identifier: [{ system: 'https://fhir.nhs.uk/Id/dos-service-id', value: '2000072002' }] } });
    (result.entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource as ServiceRequest).performer = [{ reference: 'urn:uuid:0e2f4a6c-8b1d-4f3e-a5c7-9e1b3d5f7a90' }];
    const headers = headersAsHttp(barsHeaders('2000072002', 'a1t1|referral|servicerequest-request|new'));
    const res = await fetch(`${server.url}/fhir/$ingest?format=bars`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json', ...headers }, body: writeBars(result).result as string });
    const outcome = (await res.json()) as OperationOutcome;
    expect(res.status, JSON.stringify(outcome)).toBe(200);
    const [referral] = await search<ServiceRequest>('ServiceRequest?identifier=urn:ietf:rfc:3986|urn:uuid:1A2B3C4D-5E6F-4A1B-8C2D-3E4F5A6B7C8D');
    expect(referral.intent).toBe('plan');
    const [triage] = await search<Task>(`Task?focus=ServiceRequest/${referral.id}&code=${PATHWAY.taskCode}|triage`);
    expect(triage.priority).toBe('stat');
  });

  it('StructureMap/nhs111-pem-to-fhir/$transform runs the published map over a logical-model instance', async () => {
    const res = await fetch(`${server.url}/fhir/StructureMap/nhs111-pem-to-fhir/$transform`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify(readPem(PEM).pem),
    });
    const bundle = (await res.json()) as Bundle;
    expect(res.status, JSON.stringify(bundle)).toBe(200);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'message', id: '6f1b3d5a-7c9e-4b2d-a4f6-8e0c2a4b6d8f' });
    expect(bundle.entry?.map((e) => e.resource?.resourceType)).toContain('ServiceRequest');
  });
});
