import { readFileSync } from 'node:fs';
import type { Bundle, CarePlan, CareTeam, OperationOutcome, Patient, ServiceRequest, StructureMap, Task } from '@medplum/fhirtypes';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARE } from '../../src/pathway/care/codes.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { seedPartnerMappings } from '../../src/mapping/publish.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { postgresTestDatabase } from '../support/databases.js';
import { fixturePath } from '../support/fixtures.js';
import { searchResources, startIngestApp } from './support.js';
import { STEPWISE_CANONICAL_BASE } from '../../src/fhir/canonical.js';

const sample = readFileSync(fixturePath('mhsds', 'cmht-sample.json'), 'utf8');
const defects = readFileSync(fixturePath('mhsds', 'defects.json'), 'utf8');

describe('POST $ingest?format=mhsds-json: MHSDS records routed through the front door on the write pipeline', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startIngestApp();
  });
  afterAll(() => t.close());

  const ingest = async (body: string, query = 'format=mhsds-json', contentType = 'application/json') => {
    const res = await t.fhir('POST', `$ingest?${query}`, body, { 'Content-Type': contentType });
    return { status: res.status, outcome: (await res.json()) as OperationOutcome };
  };
  const search = <T,>(query: string): Promise<T[]> => searchResources<T>(t, query);
  const said = (o: OperationOutcome) => o.issue.map((i) => i.diagnostics ?? '');

  it('creates the person and the referral, which the front door admits, and a missed contact starts the outreach ladder', async () => {
    const { status, outcome } = await ingest(sample);
    expect(status).toBe(200);
    const [patient] = await search<Patient>(`Patient?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-local-patient-id|LP0001`);
    expect(patient.generalPractitioner?.[0].identifier?.value).toBe('A83627');
    const [referral] = await search<ServiceRequest>(`ServiceRequest?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-service-request-id|SR0001`);
    expect(referral.subject?.reference).toBe(`Patient/${patient.id}`);
    expect(said(outcome)).toContain(`Created ServiceRequest/${referral.id} (MHSDS service-request-id SR0001)`);
    // the front door's policy admitted it: its one triage Task
    const triage = await search<Task>(`Task?focus=ServiceRequest/${referral.id}&code=${PATHWAY.taskCode}|triage`);
    expect(triage).toHaveLength(1);
    // CC0002 did not attend: the ladder's same-day call, part of the missed contact
    const [missed] = await search<Task>(`Task?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-care-contact-id|CC0002`);
    expect(missed.for?.reference).toBe(`Patient/${patient.id}`);
    const [call, ...others] = await search<Task>(`Task?part-of=Task/${missed.id}`);
    expect(others).toEqual([]);
    expect(call.code?.coding?.[0].code).toBe('outreach-call');
    expect(said(outcome).some((m) => m.includes(`the outreach ladder started with Task/${call.id}`))).toBe(true);
    // the attended contact starts nothing
    const [attended] = await search<Task>(`Task?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-care-contact-id|CC0001`);
    expect(await search<Task>(`Task?part-of=Task/${attended.id}`)).toEqual([]);
    // no active pathway plan yet: the coordinator is recorded as a CareTeam of its own
    expect(said(outcome).some((m) => /CareTeam\/.*the person has no active care plan here/.test(m))).toBe(true);
  });

  it('a second ingest of the same records updates, never duplicates', async () => {
    const { status } = await ingest(sample);
    expect(status).toBe(200);
    expect(await search<Patient>(`Patient?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-local-patient-id|LP0001`)).toHaveLength(1);
    expect(await search<ServiceRequest>(`ServiceRequest?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-service-request-id|SR0001`)).toHaveLength(1);
    expect(await search<Task>(`Task?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-care-contact-id|CC0002`)).toHaveLength(1);
    // the coordinator assignment recorded once, not once per ingest
    const [patient] = await search<Patient>(`Patient?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-local-patient-id|LP0001`);
    expect(await search<CareTeam>(`CareTeam?subject=Patient/${patient.id}`)).toHaveLength(1);
  });

  it('a care coordinator change makes the coordinator the accountable lead of the active plan, and an agreement updates the plan', async () => {
    const [patient] = await search<Patient>(`Patient?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-local-patient-id|LP0001`);
    const lead = { reference: 'Organization/front-door-team' };
    await t.fhir('PUT', 'CareTeam/team-lp1', { resourceType: 'CareTeam', id: 'team-lp1', status: 'active', subject: { reference: `Patient/${patient.id}` }, participant: [{ role: [{ coding: [{ system: CARE.careTeamRole, code: 'accountable-lead' }] }], member: lead, period: { start: '2026-03-01T09:00:00Z' } }] });
    const put = await t.fhir('PUT', 'CarePlan/plan-lp1', {
      resourceType: 'CarePlan',
      id: 'plan-lp1',
      status: 'active',
      intent: 'plan',
      category: [{ coding: [{ system: PATHWAY.levelOfSupport, code: 'routine-support' }] }],
      subject: { reference: `Patient/${patient.id}` },
      careTeam: [{ reference: 'CareTeam/team-lp1' }],
    });
    expect(put.status).toBe(201);
    const { status, outcome } = await ingest(
      JSON.stringify([
        { table: 'MHS006MHCareCoord', LocalPatientId: 'LP0001', CareProfLocalId: 'CP-SMITH', StartDateAssCareCoord: '2026-05-01' },
        { table: 'MHS009CarePlanAgreement', CarePlanID: 'plan-lp1', CarePlanContentAgreedBy: '10', CarePlanContentAgreedDate: '2026-05-02', CarePlanContentAgreedTime: '10:00:00' },
      ]),
    );
    expect(status).toBe(200);
    const team = (await (await t.fhir('GET', 'CareTeam/team-lp1')).json()) as CareTeam;
    const leads = team.participant!.filter((p) => p.role?.some((r) => r.coding?.some((c) => c.code === 'accountable-lead')));
    expect(leads).toHaveLength(1);
    const [smith] = await search<{ id: string }>(`Practitioner?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-care-professional-id|CP-SMITH`);
    expect(leads[0].member?.reference).toBe(`Practitioner/${smith.id}`);
    expect(said(outcome)).toContain(`CareTeam/team-lp1 of CarePlan/plan-lp1: the accountable lead is now Practitioner/${smith.id} (MHSDS care-professional-id CP-SMITH)`);
    const plan = (await (await t.fhir('GET', 'CarePlan/plan-lp1')).json()) as CarePlan;
    expect(plan.extension?.find((e) => e.url.endsWith('mhsds-plan-agreed-at'))?.valueDateTime).toBe('2026-05-02T10:00:00+01:00');
    // the pathway's plan keeps its level of support
    expect(plan.category?.[0].coding?.[0].code).toBe('routine-support');
  });

  it('a referral rejection closes the referral, and the front door cancels its triage', async () => {
    const [referral] = await search<ServiceRequest>(`ServiceRequest?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-service-request-id|SR0001`);
    const { status, outcome } = await ingest(JSON.stringify({ table: 'MHS102ServiceTypeReferredTo', ServiceRequestId: 'SR0001', ReferRejectionDate: '2026-04-20', ReferRejectionTime: '11:00:00', ReferRejectReason: '02' }));
    expect(status).toBe(200);
    expect(said(outcome)).toContain(`ServiceRequest/${referral.id} is now revoked (was active)`);
    const [triage] = await search<Task>(`Task?focus=ServiceRequest/${referral.id}&code=${PATHWAY.taskCode}|triage`);
    expect(triage.status).toBe('cancelled');
  });

  it('a referral closure completes the referral, with when and why', async () => {
    await ingest(JSON.stringify({ table: 'MHS101Referral', ServiceRequestId: 'SR0300', LocalPatientId: 'LP0001', ClinRespPriorityType: '3' }));
    const { status, outcome } = await ingest(JSON.stringify({ table: 'MHS102ServiceTypeReferredTo', ServiceRequestId: 'SR0300', ReferClosureDate: '2026-06-30', ReferClosureTime: '17:00:00', ReferClosReason: '02' }));
    expect(status).toBe(200);
    const [referral] = await search<ServiceRequest>(`ServiceRequest?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-service-request-id|SR0300`);
    expect(referral.status).toBe('completed');
    expect(said(outcome)).toContain(`ServiceRequest/${referral.id} is now completed (was active)`);
    expect(referral.extension?.find((e) => e.url.endsWith('mhsds-referral-closed'))?.valueDateTime).toBe('2026-06-30T17:00:00+01:00');
  });

  it('format=fhir: a collection of FHIR resources is applied the same way', async () => {
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', identifier: [{ system: `${STEPWISE_CANONICAL_BASE}/Id/mhsds-local-patient-id`, value: 'LP0400' }], birthDate: '1999-09-09' } }] };
    const { status, outcome } = await ingest(JSON.stringify(bundle), 'format=fhir', 'application/fhir+json');
    expect(status).toBe(200);
    expect(said(outcome)[0]).toMatch(/^Created Patient\/.* \(MHSDS local-patient-id LP0400\)$/);
  });

  it('names every defect at its place in the source, and still admits the referral of the person with a bad NHS number', async () => {
    const { status, outcome } = await ingest(defects);
    expect(status).toBe(200);
    const at = (e: string) => outcome.issue.find((i) => i.expression?.[0] === e);
    expect(at('MHS001MPI[1].NHSNumber')?.diagnostics).toMatch(/Modulus 11/);
    expect(at('MHS102ServiceTypeReferredTo[0].ServTeamTypeRefToMH')?.diagnostics).toMatch(/retired/);
    expect(at('MHS101Referral[0].SourceOfReferralMH')?.diagnostics).toMatch(/not a code/);
    const [referral] = await search<ServiceRequest>(`ServiceRequest?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-service-request-id|SR0101`);
    expect(await search<Task>(`Task?focus=ServiceRequest/${referral.id}&code=${PATHWAY.taskCode}|triage`)).toHaveLength(1);
  });

  it('reads mhsds-csv, one table with table=', async () => {
    const csv = 'LocalPatientId,Postcode,PersonBirthDate\nLP0200,LS6 2AB,1975-11-30\n';
    const { status, outcome } = await ingest(csv, 'format=mhsds-csv&table=MHS001MPI', 'text/csv');
    expect(status).toBe(200);
    expect(said(outcome).some((m) => /^Created Patient\/.* \(MHSDS local-patient-id LP0200\)$/.test(m))).toBe(true);
  });

  it('refuses what cannot be routed: a contact for a referral not known here (422), a name that is no format (400)', async () => {
    const orphan = await ingest(JSON.stringify({ table: 'MHS201CareContact', CareContactId: 'CC9', ServiceRequestId: 'SR-UNKNOWN', AttendOrDNACode: '3' }));
    expect(orphan.status).toBe(422);
    expect(orphan.outcome.issue[0]).toMatchObject({ severity: 'error', expression: ['MHS201CareContact[0]'] });
    expect(orphan.outcome.issue[0].diagnostics).toMatch(/referral SR-UNKNOWN .* is not known here/);
    const unknown = await ingest('x', 'format=hl7v2');
    expect(unknown.status).toBe(400);
    expect(unknown.outcome.issue[0].expression).toEqual(['format']);
    const notJson = await ingest('{not json');
    expect(notJson.status).toBe(400);
  });
});

describe('StructureMap/[id]/$transform', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await seedPartnerMappings(t.store);
  });
  afterAll(() => t.close());

  it('the mappings are published: StructureMap/[id] is the .map file', async () => {
    const res = await t.fhir('GET', 'StructureMap/MHS101Referral-to-fhir');
    expect(res.status).toBe(200);
    const map = (await res.json()) as StructureMap;
    expect(map.url).toBe(`${STEPWISE_CANONICAL_BASE}/StructureMap/MHS101Referral-to-fhir`);
    expect(map.group[0].name).toBe('MHS101ReferralToServiceRequest');
  });

  it('runs a map over a row given as the content parameter', async () => {
    const res = await t.fhir('POST', 'StructureMap/MHS101Referral-to-fhir/$transform', {
      resourceType: 'Parameters',
      parameter: [{ name: 'content', resource: { resourceType: 'Basic', ServiceRequestId: 'SR1', ClinRespPriorityType: '1', LocalPatientId: 'LP1' } }],
    });
    expect(res.status).toBe(200);
    const sr = (await res.json()) as ServiceRequest;
    expect(sr).toMatchObject({ resourceType: 'ServiceRequest', status: 'active', intent: 'order', priority: 'stat', identifier: [{ value: 'SR1' }] });
  });

  it('gives a row of a logical model back as a Binary', async () => {
    const res = await t.fhir('POST', 'StructureMap/fhir-to-MHS001MPI/$transform', { resourceType: 'Patient', birthDate: '1990-01-02', gender: 'female' });
    expect(res.status).toBe(200);
    const binary = (await res.json()) as { contentType: string; data: string };
    expect(JSON.parse(Buffer.from(binary.data, 'base64').toString())).toEqual({ PersonBirthDate: '1990-01-02', Gender: '2' });
  });

  it('at the type level, runs the map its source url names', async () => {
    const res = await t.fhir('POST', 'StructureMap/$transform', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'source', valueUri: `${STEPWISE_CANONICAL_BASE}/StructureMap/MHS001MPI-to-fhir` },
        { name: 'content', resource: { resourceType: 'Basic', LocalPatientId: 'LP1', Gender: 'X' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ resourceType: 'Patient', gender: 'unknown' });
    expect((await t.fhir('POST', 'StructureMap/$transform?source=https://nowhere.example/map', { resourceType: 'Basic' })).status).toBe(404);
    expect((await t.fhir('POST', 'StructureMap/$transform', { resourceType: 'Basic' })).status).toBe(400);
  });

  it('404 for a map that is not there', async () => {
    expect((await t.fhir('POST', 'StructureMap/nope/$transform', { resourceType: 'Patient' })).status).toBe(404);
  });
});

describe('$ingest on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(() => postgresTestDatabase(), { logger: pino({ level: 'error' }) });
    await seedPathwayData(t.store);
  });
  afterAll(() => t.close());

  it('four ingests of the same new person and referral at once make each exactly once, with one triage Task', async () => {
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => t.fhir('POST', '$ingest?format=mhsds-json', sample, { 'Content-Type': 'application/json' }).then((r) => r.status)),
    );
    expect(answers).toEqual([200, 200, 200, 200]);
    const search = async (q: string) => ((await (await t.fhir('GET', q)).json()) as Bundle).entry ?? [];
    expect(await search(`Patient?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-local-patient-id|LP0001`)).toHaveLength(1);
    const referrals = await search(`ServiceRequest?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-service-request-id|SR0001`);
    expect(referrals).toHaveLength(1);
    expect(await search(`Task?focus=ServiceRequest/${referrals[0].resource!.id}&code=${PATHWAY.taskCode}|triage`)).toHaveLength(1);
    expect(await search(`Practitioner?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-care-professional-id|CP-JONES`)).toHaveLength(1);
    const [missed] = await search(`Task?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-care-contact-id|CC0002`);
    expect(await search(`Task?part-of=Task/${missed.resource!.id}`)).toHaveLength(1);
  });
});

describe('$ingest of a format read as a FHIR message (nhs111-pem)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(undefined, { logger: pino({ level: 'error' }) });
    await seedPathwayData(t.store);
  });
  afterAll(() => t.close());

  it('goes to the messaging front door as $process-message would take it, and says so', async () => {
    const pem = readFileSync(fixturePath('nhs111', 'crisis-overdose-pem.xml'), 'utf8');
    const res = await t.fhir('POST', '$ingest?format=nhs111-pem', pem, { 'Content-Type': 'application/xml' });
    const outcome = (await res.json()) as OperationOutcome;
    expect(res.status, JSON.stringify(outcome)).toBe(200);
    expect(outcome.issue[0].diagnostics).toMatch(/^The payload was processed as a FHIR message: accepted \(20\d\)/);
    const tasks = ((await (await t.fhir('GET', `Task?code=${PATHWAY.taskCode}|triage`)).json()) as Bundle).entry ?? [];
    expect(tasks).toHaveLength(1);
  });
});

describe('$ingest refuses a payload whose record the pipeline refuses, naming the record', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(undefined, { logger: pino({ level: 'error' }) });
    await seedPathwayData(t.store);
  });
  afterAll(() => t.close());

  it('a contact already completed cannot be cancelled: 409, nothing of the payload written', async () => {
    const post = (rows: unknown) => t.fhir('POST', '$ingest?format=mhsds-json', JSON.stringify(rows), { 'Content-Type': 'application/json' });
    const referral = { table: 'MHS101Referral', ServiceRequestId: 'SR-R', LocalPatientId: 'LP-R' };
    expect((await post([{ table: 'MHS001MPI', LocalPatientId: 'LP-R' }, referral, { table: 'MHS201CareContact', CareContactId: 'CC-R', ServiceRequestId: 'SR-R', AttendOrDNACode: '5' }])).status).toBe(200);
    const res = await post([{ table: 'MHS001MPI', LocalPatientId: 'LP-NEW' }, { table: 'MHS201CareContact', CareContactId: 'CC-R', ServiceRequestId: 'SR-R', AttendOrDNACode: '2', Unknown: 'x' }]);
    expect(res.status).toBe(409);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.issue.find((i) => i.expression?.[0] === 'MHS201CareContact[0]')?.diagnostics).toMatch(/The Task mapped from MHS201CareContact\[0\] was refused/);
    expect(outcome.issue.some((i) => i.expression?.[0] === 'MHS201CareContact[0].Unknown')).toBe(true);
    const created = ((await (await t.fhir('GET', `Patient?identifier=${STEPWISE_CANONICAL_BASE}/Id/mhsds-local-patient-id|LP-NEW`)).json()) as Bundle).entry ?? [];
    expect(created).toEqual([]);
  });
});
