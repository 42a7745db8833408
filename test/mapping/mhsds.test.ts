import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle, CarePlan, Patient, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Payload } from '../../src/mapping/format.js';
import { partnerMappings } from '../../src/mapping/mapping-data.js';
import { MHSDS_CSV, MHSDS_JSON } from '../../src/mapping/mhsds/mhsds-formats.js';
import { mhsdsTables } from '../../src/mapping/mhsds/tables.js';
import { fixturePath } from '../support/fixtures.js';
import { STEPWISE_CANONICAL_BASE } from '../../src/fhir/canonical.js';

type Row = Record<string, string>;
const sampleText = readFileSync(fixturePath('mhsds', 'cmht-sample.json'), 'utf8');
const sample = JSON.parse(sampleText) as Row[];
const defectsText = readFileSync(fixturePath('mhsds', 'defects.json'), 'utf8');
const csvSample: Record<string, string> = Object.fromEntries(
  readdirSync(fixturePath('mhsds', 'csv')).map((f) => [f.replace(/\.csv$/, ''), readFileSync(fixturePath('mhsds', 'csv', f), 'utf8')]),
);

const resources = (b: Bundle): Resource[] => (b.entry ?? []).map((e) => e.resource!);
const ofType = <T extends Resource>(b: Bundle, type: T['resourceType']): T[] => resources(b).filter((r) => r.resourceType === type) as T[];
const at = (issues: { expression?: string[] }[]) => issues.flatMap((i) => i.expression ?? []);

async function roundTripJson(rows: Row[]): Promise<{ back: Row[]; issues: unknown[] }> {
  const read = await MHSDS_JSON.read!(JSON.stringify(rows));
  const written = await MHSDS_JSON.write!(read.result);
  return { back: JSON.parse(written.result as string) as Row[], issues: [...read.issues, ...written.issues] };
}

/** The same through mhsds-csv: one CSV per table in, one per table out, read back as rows. */
async function roundTripCsv(rows: Row[]): Promise<{ back: Row[]; issues: unknown[] }> {
  const tables: Record<string, string> = {};
  for (const table of new Set(rows.map((r) => r.table))) {
    const mine = rows.filter((r) => r.table === table);
    const columns = [...new Set(mine.flatMap((r) => Object.keys(r).filter((k) => k !== 'table')))];
    tables[table] = stringify(mine.map((r) => columns.map((c) => r[c] ?? '')), { header: true, columns });
  }
  const read = await MHSDS_CSV.read!(tables);
  const written = (await MHSDS_CSV.write!(read.result)).result as Record<string, string>;
  const back = Object.entries(written).flatMap(([table, csv]) =>
    (parse(csv, { columns: true }) as Row[]).map((r) => ({ table, ...Object.fromEntries(Object.entries(r).filter(([, v]) => v !== '')) })),
  );
  return { back, issues: read.issues };
}

/** Rows compared as sets of records, whatever the order the writer gives them in. */
const canonical = (rows: Row[]): string[] => rows.map((r) => JSON.stringify(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)))).sort();

describe('mhsds-json: the sample records, to FHIR and back', () => {
  it('gives back every mapped field of every row, with no issue', async () => {
    const { back, issues } = await roundTripJson(sample);
    expect(issues).toEqual([]);
    expect(canonical(back)).toEqual(canonical(sample));
  });

  it('makes one Patient, one referral, two contacts, a care team, a care plan and a discharge plan, referring by business identifier', async () => {
    const { result } = await MHSDS_JSON.read!(sampleText);
    const [patient] = ofType<Patient>(result, 'Patient');
    expect(patient.identifier).toContainEqual(expect.objectContaining({ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }));
    expect(patient.generalPractitioner?.[0].identifier).toEqual({ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A83627' });
    const [referral] = ofType<ServiceRequest>(result, 'ServiceRequest');
    expect(referral.priority).toBe('routine');
    // 29 March 2026, the day the clocks go forward: 09:30 is British Summer Time
    expect(referral.authoredOn).toBe('2026-03-29T09:30:00+01:00');
    expect(referral.subject?.identifier?.value).toBe('LP0001');
    expect(referral.reasonCode?.[0].coding?.map((c) => c.code)).toEqual(['04', '35489007']);
    expect(referral.performerType?.coding?.map((c) => c.code)).toEqual(['A06', 'routine-support']);
    const contacts = ofType<Task>(result, 'Task');
    expect(contacts.map((t) => [t.status, t.output?.[0].valueCodeableConcept?.coding?.[0].code])).toEqual([
      ['completed', 'contact-made'],
      ['completed', 'did-not-attend'],
    ]);
    expect(contacts[1].for?.identifier?.value).toBe('LP0001');
    const plans = ofType<CarePlan>(result, 'CarePlan');
    expect(plans).toHaveLength(2);
    const discharge = plans.find((p) => p.category?.[0].coding?.[0].code === 'discharge-plan')!;
    // 25 October 2026, the clocks go back: the first 01:30 (BST) is taken
    expect(discharge.extension?.find((e) => e.url.endsWith('mhsds-plan-agreed-at'))?.valueDateTime).toBe('2026-10-25T01:30:00+01:00');
    expect(discharge.subject?.identifier?.value).toBe('LP0001');
  });
});

describe('mhsds-csv', () => {
  it('reads one CSV per table and writes them back with the same records', async () => {
    const read = await MHSDS_CSV.read!(csvSample);
    expect(read.issues).toEqual([]);
    const written = await MHSDS_CSV.write!(read.result);
    const back = written.result as Record<string, string>;
    expect(Object.keys(back).sort()).toEqual(Object.keys(csvSample).sort());
    const again = await MHSDS_JSON.write!((await MHSDS_CSV.read!(back)).result);
    expect(canonical(JSON.parse(again.result as string))).toEqual(canonical(sample));
  });

  it('writes each table with every field of the table as its header', async () => {
    const written = (await MHSDS_CSV.write!((await MHSDS_JSON.read!(sampleText)).result)).result as Record<string, string>;
    expect(written.MHS001MPI.split('\n')[0]).toBe(mhsdsTables().get('MHS001MPI')!.fields.join(','));
  });

  it('refuses one text where a set of tables is expected', async () => {
    await expect(MHSDS_CSV.read!('LocalPatientId\nLP1\n' as Payload)).rejects.toThrow(/one CSV text per table/);
  });
});

describe('defects are named with their place in the source, and the records still mapped', () => {
  it('names each defect at its row and field', async () => {
    const { result, issues } = await MHSDS_JSON.read!(defectsText);
    const byPlace = new Map(issues.map((i) => [i.expression![0], i]));
    expect(byPlace.get('MHS001MPI[1].NHSNumber')?.diagnostics).toMatch(/Modulus 11/);
    expect(byPlace.get('MHS001MPI[1].NHSNumber')?.severity).toBe('warning');
    expect(byPlace.get('MHS001MPI[1].PersonBirthDate')?.diagnostics).toMatch(/not a date.*not mapped/);
    expect(byPlace.get('MHS001MPI[1].MaritalStatus')?.diagnostics).toMatch(/no counterpart.*not mapped/);
    expect(byPlace.get('MHS001MPI[1].FavouriteColour')?.diagnostics).toMatch(/not a field of the MHSDS v5 table MHS001MPI/);
    expect(byPlace.get('MHS101Referral[0].SourceOfReferralMH')?.diagnostics).toMatch(/'Z9' is not a code of/);
    expect(byPlace.get('MHS102ServiceTypeReferredTo[0].ServTeamTypeRefToMH')?.diagnostics).toMatch(/retired code/);
    expect(byPlace.get('$[4].table')?.severity).toBe('error');
    expect(at(issues)).not.toContain('MHS001MPI[0].NHSNumber');
    // the person with the failing NHS number is still mapped, number and all: a defect is not a refusal
    const person = ofType<Patient>(result, 'Patient').find((p) => p.identifier?.some((i) => i.value === 'LP0101'))!;
    expect(person.identifier?.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')?.value).toBe('9000000008');
    expect(person.birthDate).toBeUndefined();
    const referral = ofType<ServiceRequest>(result, 'ServiceRequest')[0];
    expect(referral.priority).toBe('urgent');
    expect(referral.performerType?.coding?.[0].code).toBe('A03');
  });

  it('refuses a row or a CSV header that names a field twice (the parsers keep the last silently), and names a control character in a CSV value', async () => {
    await expect(MHSDS_JSON.read!('[{"table":"MHS001MPI","LocalPatientId":"LP1","NHSNumber":"9000000009","NHSNumber":"9000000008"}]')).rejects.toThrow(/NHSNumber more than once/);
    await expect(MHSDS_CSV.read!({ MHS001MPI: 'LocalPatientId,NHSNumber,NHSNumber\nLP1,9000000009,9000000008\n' })).rejects.toThrow(/names the column NHSNumber more than once/);
    const { issues, result } = await MHSDS_CSV.read!({ MHS001MPI: 'LocalPatientId,Postcode\nLP1,"LS1\u0000 4AP"\n' });
    expect(issues.find((i) => i.expression?.[0] === 'MHS001MPI[0].Postcode')?.diagnostics).toMatch(/control character/);
    expect(ofType<Patient>(result, 'Patient')[0].address).toBeUndefined();
  });

  it('reports a row that cannot say whose it is, and a second row for the same referral', async () => {
    const rows = [
      { table: 'MHS101Referral', LocalPatientId: 'LP1' },
      { table: 'MHS101Referral', ServiceRequestId: 'SR1', LocalPatientId: 'LP1' },
      { table: 'MHS102ServiceTypeReferredTo', ServiceRequestId: 'SR1', ServTeamTypeRefToMH: 'A06' },
      { table: 'MHS102ServiceTypeReferredTo', ServiceRequestId: 'SR1', ServTeamTypeRefToMH: 'A02' },
    ];
    const { issues, result } = await MHSDS_JSON.read!(JSON.stringify(rows));
    expect(issues.find((i) => i.expression?.[0] === 'MHS101Referral[0].ServiceRequestId')?.severity).toBe('error');
    expect(issues.find((i) => i.expression?.[0] === 'MHS102ServiceTypeReferredTo[1]')?.diagnostics).toMatch(/only MHS102ServiceTypeReferredTo\[0\] is mapped/);
    expect(ofType<ServiceRequest>(result, 'ServiceRequest')).toHaveLength(1);
  });

  it('writes the national code of a retired UK Core NHS number status, and names the retired system', async () => {
    const patient: Patient = {
      resourceType: 'Patient',
      id: 'p1',
      identifier: [
        {
          system: 'https://fhir.nhs.uk/Id/nhs-number',
          value: '9000000009',
          extension: [
            {
              url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
              valueCodeableConcept: { coding: [{ system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus', code: 'number-present-and-verified' }] },
            },
          ],
        },
      ],
    };
    const written = await MHSDS_JSON.write!({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: patient }] });
    expect(JSON.parse(written.result as string)).toEqual([{ table: 'MHS001MPI', LocalPatientId: 'p1', NHSNumber: '9000000009', NHSNumberStatus: '01' }]);
    // and names the retired code system as a defect, at its place
    expect(written.issues).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'code-invalid', expression: ['Bundle.entry[0].resource.identifier[0].extension[0].valueCodeableConcept.coding[0].system'] }),
    ]);
    expect(written.issues[0].diagnostics).toMatch(/'number-present-and-verified' is from .*a retired code system/);
  });
});

describe('Stepwise resources written out (references by server id)', () => {
  it('gives each row the ids of what it refers to, and names what no table takes', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: { resourceType: 'Patient', id: 'pat-1', birthDate: '1970-05-06' } },
        { resource: { resourceType: 'ServiceRequest', id: 'sr-1', status: 'active', intent: 'order', subject: { reference: 'Patient/pat-1' }, priority: 'stat', authoredOn: '2026-07-01T08:05:00Z' } },
        {
          resource: {
            resourceType: 'CarePlan',
            id: 'cp-1',
            status: 'active',
            intent: 'plan',
            subject: { reference: 'Patient/pat-1' },
            category: [{ coding: [{ system: `${STEPWISE_CANONICAL_BASE}/CodeSystem/level-of-support`, code: 'crisis-response' }] }],
          },
        },
        { resource: { resourceType: 'Provenance', id: 'pv-1', target: [{ reference: 'CarePlan/cp-1' }], recorded: '2026-07-01T08:05:00Z', agent: [{ who: { display: 'x' } }] } },
      ],
    };
    const written = await MHSDS_JSON.write!(bundle);
    expect(JSON.parse(written.result as string)).toEqual([
      { table: 'MHS001MPI', LocalPatientId: 'pat-1', PersonBirthDate: '1970-05-06' },
      { table: 'MHS101Referral', ServiceRequestId: 'sr-1', LocalPatientId: 'pat-1', ReferralRequestReceivedDate: '2026-07-01', ReferralRequestReceivedTime: '09:05:00', ClinRespPriorityType: '1' },
      { table: 'MHS008CarePlanType', LocalPatientId: 'pat-1', CarePlanID: 'cp-1', CarePlanTypeMH: '12' },
    ]);
    expect(written.issues.map((i) => i.expression?.[0])).toEqual(['Bundle.entry[3].resource']);
  });
});

describe('the mappings as data', () => {
  it('writes the outcome of a care contact as the AttendOrDNACode ConceptMap says', async () => {
    const map = partnerMappings('mhsds').conceptMaps.find((m) => m.id === 'mhsds-AttendOrDNACode-to-contact-outcome')!;
    for (const element of map.group![0].element!) {
      const { result } = await MHSDS_JSON.read!(JSON.stringify({ table: 'MHS201CareContact', CareContactId: 'C', AttendOrDNACode: element.code }));
      const task = ofType<Task>(result, 'Task')[0];
      expect(task.output?.[0]?.valueCodeableConcept?.coding?.[0].code, `code ${element.code}`).toBe(element.target![0].code);
    }
  });

  it('reads every field of a table that its map reads, and reports the others', () => {
    const mpi = mhsdsTables().get('MHS001MPI')!;
    expect([...mpi.mapped].sort()).toEqual(['EthnicCategory', 'Gender', 'LanguageCodePreferred', 'LocalPatientId', 'NHSNumber', 'NHSNumberStatus', 'OrgIDLocalPatientId', 'PersDeathDate', 'PersonBirthDate', 'Postcode']);
    expect(mhsdsTables().get('MHS002GP')!.mapped.has('LocalPatientId')).toBe(true);
  });
});

/** Random records of every mapped field: codes from their lists, dates, London times, identifiers. */
function rowArbitrary(table: string): fc.Arbitrary<Row> {
  const t = mhsdsTables().get(table)!;
  const codeSystems = partnerMappings('mhsds').codeSystems;
  // any text a case system may hold: commas, quotes, new lines and non-ASCII included (CSV quoting, JSON escapes)
  const id = fc.oneof(fc.stringMatching(/^[A-Z0-9]{1,8}$/), fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' })).filter((s) => s.trim() === s && s.length > 0);
  const date = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2040-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
  const time = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 })).map((p) => p.map((n) => String(n).padStart(2, '0')).join(':'));
  const valueOf = (field: string): fc.Arbitrary<string> => {
    const system = t.codeLists.get(field);
    const concepts = system ? codeSystems.find((c) => c.url === system)?.concept : undefined;
    if (concepts) return fc.constantFrom(...concepts.map((c) => c.code));
    if (field === 'NHSNumber') return fc.constant('9000000009');
    const type = t.logicalModel.differential!.element.find((e) => e.path === `${table}.${field}`)?.type?.[0].code;
    return type === 'date' ? date : type === 'time' ? time : id;
  };
  const shape: Record<string, fc.Arbitrary<string>> = {};
  for (const field of t.mapped) shape[field] = valueOf(field);
  return fc.record(shape, { requiredKeys: [...t.key] }).map((r) => {
    const row: Row = { table, ...r };
    // a time is only mapped with its date (reported otherwise)
    for (const [d, tm] of t.instants) if (row[tm] !== undefined && row[d] === undefined) delete row[tm];
    return row;
  });
}

describe('property: format -> FHIR -> format gives back the same record (mhsds-json and mhsds-csv)', () => {
  for (const table of mhsdsTables().keys()) {
    it(`for random ${table} records`, async () => {
      const t = mhsdsTables().get(table)!;
      const owner = t.into ? rowArbitrary(t.into) : fc.constant(undefined);
      await fc.assert(
        fc.asyncProperty(rowArbitrary(table), owner, fc.constantFrom(roundTripJson, roundTripCsv), async (row, ownerRow, roundTrip) => {
          // a joining row is written back only beside its owner's row
          const rows = ownerRow ? [{ ...ownerRow, ...Object.fromEntries(t.key.map((k) => [k, row[k]])) }, row] : [row];
          const { back, issues } = await roundTrip(rows);
          // a time London clocks skipped is named and read as GMT: not the same wall-clock time
          fc.pre(!issues.some((i) => /clocks skipped/.test(JSON.stringify(i))));
          // a retired code is named, and still mapped
          expect(issues.filter((i) => (i as { code: string }).code !== 'code-invalid')).toEqual([]);
          // a joining row that says nothing but whose it is has nothing to write back
          const sayingSomething = rows.filter((r) => !t.into || r.table !== table || Object.keys(r).some((k) => k !== 'table' && !t.key.includes(k)));
          expect(canonical(back)).toEqual(canonical(sayingSomething));
        }),
        { numRuns: Number(process.env.MHSDS_PROPERTY_RUNS ?? 60) },
      );
    });
  }
});

describe('out: what Stepwise holds, as MHSDS rows', () => {
  it('a pathway care team and plan, a referral and a discharge plan from a search Bundle', async () => {
    const searchset: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [
        { resource: { resourceType: 'Patient', id: 'p9', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9000000009' }], name: [{ family: 'Nine' }] } },
        { resource: { resourceType: 'Practitioner', id: 'dr-a', identifier: [{ system: `${STEPWISE_CANONICAL_BASE}/Id/mhsds-care-professional-id`, value: 'CP-A' }] } },
        {
          resource: {
            resourceType: 'CareTeam',
            id: 'team-9',
            status: 'active',
            subject: { reference: 'Patient/p9' },
            participant: [
              { role: [{ coding: [{ system: `${STEPWISE_CANONICAL_BASE}/CodeSystem/care-team-role`, code: 'member' }] }], member: { reference: 'Organization/cmht' }, period: { start: '2026-01-01T09:00:00Z', end: '2026-06-01T10:00:00Z' } },
              { role: [{ coding: [{ system: `${STEPWISE_CANONICAL_BASE}/CodeSystem/care-team-role`, code: 'accountable-lead' }] }], member: { reference: 'Practitioner/dr-a' }, period: { start: '2026-06-01T10:00:00Z' } },
            ],
          },
        },
        { resource: { resourceType: 'ServiceRequest', id: 'sr9', status: 'active', intent: 'order', subject: { reference: 'Patient/p9' }, requester: { reference: 'Organization/not-here' }, priority: 'urgent' } },
        {
          resource: {
            resourceType: 'CarePlan',
            id: 'dp9',
            status: 'active',
            intent: 'plan',
            subject: { reference: 'Patient/p9' },
            category: [{ coding: [{ system: `${STEPWISE_CANONICAL_BASE}/CodeSystem/mhsds-plan-kind`, code: 'discharge-plan' }] }],
            supportingInfo: [{ reference: 'ServiceRequest/sr9' }],
            extension: [{ url: `${STEPWISE_CANONICAL_BASE}/StructureDefinition/mhsds-plan-agreed-at`, valueDateTime: '2026-07-01T15:30:00Z' }],
          },
        },
        { resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational' }] }, search: { mode: 'outcome' } },
      ],
    };
    const written = await MHSDS_JSON.write!(searchset);
    expect(JSON.parse(written.result as string)).toEqual([
      { table: 'MHS001MPI', LocalPatientId: 'p9', NHSNumber: '9000000009' },
      // June: British Summer Time
      { table: 'MHS006MHCareCoord', LocalPatientId: 'p9', CareProfLocalId: 'CP-A', StartDateAssCareCoord: '2026-06-01' },
      // a requester not in the Bundle has no ODS code to give: OrgIDReferring is left out
      { table: 'MHS101Referral', ServiceRequestId: 'sr9', LocalPatientId: 'p9', ClinRespPriorityType: '2' },
      { table: 'MHS106DischargePlanAgreement', ServiceRequestId: 'sr9', DischPlanContentAgreedDate: '2026-07-01', DischPlanContentAgreedTime: '16:30:00' },
    ]);
    expect(written.issues.map((i) => i.expression?.[0])).toEqual(['Bundle.entry[0].resource', 'Bundle.entry[1].resource', 'Bundle.entry[5].resource']);
    // what MHSDS cannot carry is named, not dropped silently
    expect(written.issues[0].diagnostics).toBe('Patient/p9: name has no MHSDS v5 field; not written');
  });
});
