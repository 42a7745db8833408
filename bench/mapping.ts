import { readFileSync } from 'node:fs';
import type { Bundle } from '@medplum/fhirtypes';
import type { Payload } from '../src/mapping/format.js';
import { formatOf } from '../src/mapping/formats.js';
import type { FormatName } from '../src/mapping/format.js';
import { partnerMappings } from '../src/mapping/mapping-data.js';
import { mhsdsTables } from '../src/mapping/mhsds/tables.js';
import '../src/mapping/registered-formats.js';
import { runStructureMap } from '../src/mapping/transform.js';
import { fixturePath } from '../test/support/fixtures.js';

/**
 * npm run bench mapping (issue 14): mapped records per second for each format, in (payload ->
 * FHIR) and out (FHIR -> payload), in one process, no database. A record is one row of the
 * partner's payload (MHSDS: one table row). The table is keyed by format: a format adds a line to
 * SAMPLES with a payload of `records` records. The MHSDS payload is BENCH_MAPPING_PERSONS people
 * (default 200) each with the ten rows of test/fixtures/mhsds/cmht-sample.json. Best of ROUNDS
 * slices of BENCH_MAPPING_MS each (default 400 ms). Also: the StructureMaps alone (the engine,
 * without the steps in code), to show what the code steps cost.
 */
const ROUNDS = 3;
const SLICE_MS = Number(process.env.BENCH_MAPPING_MS ?? 400);
const PERSONS = Number(process.env.BENCH_MAPPING_PERSONS ?? 200);

interface Sample {
  payload: Payload;
  records: number;
}

function mhsdsRows(): Record<string, string>[] {
  const sample = JSON.parse(readFileSync(fixturePath('mhsds', 'cmht-sample.json'), 'utf8')) as Record<string, string>[];
  const keys = ['LocalPatientId', 'ServiceRequestId', 'CareContactId', 'CarePlanID'];
  return Array.from({ length: PERSONS }, (_, p) => sample.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, keys.includes(k) ? `${v}-${p}` : v])))).flat();
}

function csvOf(rows: Record<string, string>[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const table of mhsdsTables().values()) {
    const mine = rows.filter((r) => r.table === table.name);
    if (mine.length) out[table.name] = [table.fields.join(','), ...mine.map((r) => table.fields.map((f) => r[f] ?? '').join(','))].join('\n') + '\n';
  }
  return out;
}

/** Each format's payload: one line per format (nhs111-pem and bars are measured by `npm run bench mapping-crisis`). */
const SAMPLES: Partial<Record<FormatName, () => Sample>> = {
  'mhsds-json': () => {
    const rows = mhsdsRows();
    return { payload: JSON.stringify(rows), records: rows.length };
  },
  'mhsds-csv': () => {
    const rows = mhsdsRows();
    return { payload: csvOf(rows), records: rows.length };
  },
};

async function perSecond(records: number, run: () => Promise<unknown>): Promise<number> {
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let n = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < SLICE_MS || n === 0) {
      await run();
      n++;
      elapsed = performance.now() - start;
    }
    best = Math.max(best, (n * records) / (elapsed / 1000));
  }
  return Math.round(best);
}

export async function benchMapping(log: (line: string) => void = () => {}): Promise<Record<string, string | number>> {
  const figures: Record<string, string | number> = {};
  for (const [name, make] of Object.entries(SAMPLES) as [FormatName, () => Sample][]) {
    const format = formatOf(name)!;
    const { payload, records } = make();
    const bundle: Bundle = (await format.read!(payload)).result;
    log(`${name}: ${records} records in, ${bundle.entry?.length} resources`);
    figures[`${name} in (records/s, ${records} records a payload)`] = await perSecond(records, () => format.read!(payload));
    figures[`${name} out (records/s)`] = await perSecond(records, () => format.write!(bundle));
  }
  // the engine alone: every table's StructureMap over its rows, no checks, joins or London time
  const rows = mhsdsRows();
  const tables = mhsdsTables();
  const { transformMaps } = partnerMappings('mhsds');
  figures['mhsds StructureMaps alone, to FHIR (records/s)'] = await perSecond(rows.length, async () => {
    for (const { table, ...fields } of rows) {
      const t = tables.get(table)!;
      runStructureMap(t.toFhir, { type: table, value: fields }, { type: t.resource, value: { resourceType: t.resource } }, transformMaps);
    }
  });
  return figures;
}
