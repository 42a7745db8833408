/**
 * Builds the MHSDS v5 logical models (mappings/mhsds/logical) and code systems with their value
 * sets (mappings/mhsds/codesystems) from the vendored lists in mappings/mhsds/source (see its
 * SOURCES.md). Run: `node --import tsx scripts/build-mhsds-mappings.ts`. The outputs are committed;
 * the server reads them, never the CSVs.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

const dir = new URL('../mappings/mhsds/', import.meta.url);
const read = (name: string): Record<string, string>[] => parse(readFileSync(new URL(`source/${name}`, dir), 'utf8'), { columns: true, skip_empty_lines: true });

/** The tables Stepwise exchanges with CMHT case systems (issue 14). */
const TABLES = [
  'MHS001MPI',
  'MHS002GP',
  'MHS006MHCareCoord',
  'MHS008CarePlanType',
  'MHS009CarePlanAgreement',
  'MHS101Referral',
  'MHS102ServiceTypeReferredTo',
  'MHS106DischargePlanAgreement',
  'MHS201CareContact',
];

/** Which code list a field's values come from (the national data element). */
const BINDINGS: Record<string, string> = {
  'MHS001MPI.NHSNumberStatus': 'NHSNumberStatus',
  'MHS001MPI.Gender': 'Gender',
  'MHS101Referral.SourceOfReferralMH': 'SourceOfReferralMH',
  'MHS101Referral.ClinRespPriorityType': 'ClinRespPriorityType',
  'MHS101Referral.PrimReasonReferralMH': 'PrimReasonReferralMH',
  'MHS102ServiceTypeReferredTo.ServTeamTypeRefToMH': 'ServTeamTypeRefToMH',
  'MHS102ServiceTypeReferredTo.ReferRejectReason': 'ReferRejectReason',
  'MHS006MHCareCoord.CareProfServOrTeamTypeAssoc': 'ServTeamTypeRefToMH',
  'MHS008CarePlanType.CarePlanTypeMH': 'CarePlanTypeMH',
  'MHS201CareContact.ConsMechanismMH': 'ConsMechanismMH',
  'MHS201CareContact.AttendOrDNACode': 'AttendOrDNACode',
};

/** Lists the corpus says are incomplete: a code outside them is reported as unknown, not as wrong. */
const FRAGMENTS = new Set(['ReferRejectReason', 'ConsMechanismMH']);

const CANONICAL = '${canonical}';
const elementType = (field: string) => (/Date/.test(field) ? 'date' : /Time$/.test(field) ? 'time' : 'string');

function logicalModel(table: string, fields: string[]) {
  const url = `${CANONICAL}/StructureDefinition/mhsds-${table}`;
  return {
    resourceType: 'StructureDefinition',
    id: `mhsds-${table}`,
    url,
    version: '5.0',
    name: table,
    title: `MHSDS v5 ${table}`,
    status: 'active',
    description: `One row of the MHSDS v5 table ${table}: every value is text (dates YYYY-MM-DD, times hh:mm:ss, London local time). Fields from the NHS Digital DSP MHSDS v5 model (mappings/mhsds/source).`,
    fhirVersion: '4.0.1',
    kind: 'logical',
    abstract: false,
    type: url,
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Element',
    derivation: 'specialization',
    differential: {
      element: [
        { id: table, path: table, short: `MHSDS v5 ${table} row`, definition: `A row of ${table}`, min: 0, max: '*' },
        ...fields.map((field) => {
          const list = BINDINGS[`${table}.${field}`];
          return {
            id: `${table}.${field}`,
            path: `${table}.${field}`,
            short: field,
            definition: `MHSDS v5 ${table}.${field}`,
            min: 0,
            max: '1',
            type: [{ code: elementType(field) }],
            ...(list ? { binding: { strength: 'required', valueSet: `${CANONICAL}/ValueSet/mhsds-${list}` } } : {}),
          };
        }),
      ],
    },
  };
}

/** "03/11" and "04,05,06" in the corpus are groups of codes sharing one label. */
const splitCodes = (code: string): string[] => code.split(/[/,]/).map((c) => c.trim()).filter(Boolean);

function codeSystem(list: string, rows: Record<string, string>[]) {
  const concept = rows.flatMap((r) =>
    splitCodes(r.code).map((code) => ({
      code,
      display: r.description.replace(/\s*\(retired after v4\)/, ''),
      ...(/retired/.test(r.description) ? { property: [{ code: 'status', valueCode: 'retired' }] } : {}),
    })),
  );
  return {
    resourceType: 'CodeSystem',
    id: `mhsds-${list}`,
    url: `${CANONICAL}/CodeSystem/mhsds-${list}`,
    version: '5.0',
    name: `MHSDS${list}`,
    title: `MHSDS v5 ${list}`,
    status: 'active',
    description: `The national code list of ${list} as used in MHSDS v5; source: ${[...new Set(rows.map((r) => r.source))].join('; ')}`,
    caseSensitive: true,
    valueSet: `${CANONICAL}/ValueSet/mhsds-${list}`,
    content: FRAGMENTS.has(list) ? 'fragment' : 'complete',
    property: [{ code: 'status', uri: 'http://hl7.org/fhir/concept-properties#status', type: 'code', description: 'retired: no longer valid in MHSDS v5' }],
    count: concept.length,
    concept,
  };
}

function valueSet(list: string) {
  return {
    resourceType: 'ValueSet',
    id: `mhsds-${list}`,
    url: `${CANONICAL}/ValueSet/mhsds-${list}`,
    version: '5.0',
    name: `MHSDS${list}`,
    status: 'active',
    compose: { include: [{ system: `${CANONICAL}/CodeSystem/mhsds-${list}` }] },
  };
}

const fields = read('mhsds_v5_relevant_table_fields.csv');
const codes = [...read('mhsds_code_lists.csv'), ...read('extra_code_lists.csv')];
mkdirSync(new URL('logical/', dir), { recursive: true });
mkdirSync(new URL('codesystems/', dir), { recursive: true });
for (const table of TABLES) {
  const names = fields.filter((f) => f.table === table).map((f) => f.field);
  writeFileSync(new URL(`logical/${table}.json`, dir), JSON.stringify(logicalModel(table, names), null, 2) + '\n');
}
for (const list of new Set(Object.values(BINDINGS))) {
  const rows = codes.filter((r) => r.field.split(' ')[0].split('.')[1] === list);
  if (rows.length === 0) throw new Error(`no codes for ${list}`);
  writeFileSync(new URL(`codesystems/CodeSystem-${list}.json`, dir), JSON.stringify(codeSystem(list, rows), null, 2) + '\n');
  writeFileSync(new URL(`codesystems/ValueSet-${list}.json`, dir), JSON.stringify(valueSet(list), null, 2) + '\n');
}
