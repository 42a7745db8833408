import { readFileSync } from 'node:fs';
import type { Bundle, HealthcareService, ServiceRequest } from '@medplum/fhirtypes';
import { readBars, writeBars } from '../src/mapping/bars/bars-format.js';
import { partnerMappings } from '../src/mapping/mapping-data.js';
import { readNhs111Pem } from '../src/mapping/nhs111/format.js';
import { readPem } from '../src/mapping/nhs111/pem-reader.js';
import { runStructureMap } from '../src/mapping/transform.js';
import { STEPWISE_CANONICAL_BASE } from '../src/fhir/canonical.js';
import { fixturePath } from '../test/support/fixtures.js';

/**
 * npm run bench mapping-crisis (issue 14): records per second of the crisis formats, in and out,
 * in one process, no database: nhs111-pem read (the derived crisis PEM, 9 KB, and the published
 * sample, 110 KB of which most is a base64 Pathways case), its two parts (the XML reader in code,
 * the StructureMap run by @medplum/core), bars read, bars write of a crisis referral and of a
 * handover. Best of ROUNDS interleaved slices of BENCH_MAPPING_MS each (default 400 ms).
 */
const ROUNDS = 3;
const SLICE_MS = Number(process.env.BENCH_MAPPING_MS ?? 400);

function perSecond(run: () => unknown): number {
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < SLICE_MS) {
    run();
    n++;
    elapsed = performance.now() - start;
  }
  return n / (elapsed / 1000);
}

function crisisReferral(pem: string): Bundle {
  const { result } = readNhs111Pem(pem);
  const service: HealthcareService = { resourceType: 'HealthcareService', identifier: [{ system: 'https://fhir.nhs.uk/Id/dos-service-id', value: '2000072002' }] };
  result.entry!.push({ fullUrl: 'urn:uuid:0e2f4a6c-8b1d-4f3e-a5c7-9e1b3d5f7a90', resource: service });
  (result.entry!.find((e) => e.resource?.resourceType === 'ServiceRequest')!.resource as ServiceRequest).performer = [{ reference: 'urn:uuid:0e2f4a6c-8b1d-4f3e-a5c7-9e1b3d5f7a90' }];
  return result;
}

function handover(): Bundle {
  const type = (system: string, code: string) => ({ coding: [{ system: `${STEPWISE_CANONICAL_BASE}/CodeSystem/${system}`, code }] });
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        fullUrl: 'urn:uuid:5f0b2d4c-6e8a-4c0e-b2d4-f6a8c0e2b4d6',
        resource: {
          resourceType: 'Task',
          status: 'requested',
          intent: 'order',
          code: type('task-code', 'transfer-of-responsibility'),
          owner: { reference: 'urn:uuid:8c3e5a7b-9d1f-4b3d-a5f7-c9e1a3b5d7f9' },
          input: [
            { type: type('task-parameter-type', 'medication-actions'), valueString: 'Depot due 28 Nov' },
            { type: type('task-parameter-type', 'safety-measures'), valueString: 'Crisis card given' },
            { type: type('task-parameter-type', 'contact-frequency'), valueString: 'Three contacts a week' },
            { type: type('task-parameter-type', 'red-flag-thresholds'), valueString: 'Not sleeping two nights' },
            { type: type('handover-checklist', 'appointments-booked'), valueBoolean: true },
            { type: type('handover-checklist', 'support-hours-adjusted'), valueBoolean: true },
            { type: type('handover-checklist', 'risk-plan-updated'), valueBoolean: true },
            { type: type('handover-checklist', 'carer-contact-agreed'), valueBoolean: true },
          ],
        },
      },
      { fullUrl: 'urn:uuid:8c3e5a7b-9d1f-4b3d-a5f7-c9e1a3b5d7f9', resource: { resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/dos-service-id', value: '2000072003' }] } },
    ],
  };
}

export async function benchMappingCrisis(log: (line: string) => void = () => {}): Promise<Record<string, string | number>> {
  const crisisPem = readFileSync(fixturePath('nhs111', 'crisis-overdose-pem.xml'), 'utf8');
  const samplePem = readFileSync(fixturePath('nhs', 'crisis', 'nhs111-pem-safeguarding-request.xml'), 'utf8');
  const referral = crisisReferral(crisisPem);
  const barsMessage = writeBars(referral).result as string;
  const handoverBundle = handover();
  const model = readPem(crisisPem).pem;
  const mapping = partnerMappings('nhs111-pem');
  const map = mapping.structureMaps.get('nhs111-pem-to-fhir')!;
  const contenders: Record<string, () => unknown> = {
    'nhs111-pem in (crisis PEM, 9 KB)': () => readNhs111Pem(crisisPem),
    'nhs111-pem in (published sample, 110 KB)': () => readNhs111Pem(samplePem),
    '  of which: XML to the logical model (code)': () => readPem(crisisPem),
    '  of which: the StructureMap (@medplum/core)': () => runStructureMap(map, { type: 'Nhs111Pem', value: model }, { type: 'Bundle', value: { resourceType: 'Bundle' } }, mapping.transformMaps),
    'bars in (a BaRS referral message)': () => readBars(barsMessage),
    'bars out (crisis referral)': () => writeBars(referral),
    'bars out (step-down handover)': () => writeBars(handoverBundle),
  };
  for (const run of Object.values(contenders)) for (let i = 0; i < 50; i++) run(); // warm-up
  const best: Record<string, number> = Object.fromEntries(Object.keys(contenders).map((k) => [k, 0]));
  for (let round = 0; round < ROUNDS; round++) {
    log(`mapping-crisis round ${round + 1}/${ROUNDS}`);
    for (const [name, run] of Object.entries(contenders)) best[name] = Math.max(best[name], perSecond(run));
  }
  return Object.fromEntries(Object.entries(best).map(([k, v]) => [`${k}, records/s`, Math.round(v)]));
}
