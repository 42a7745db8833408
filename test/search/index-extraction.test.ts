import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { auditEvent } from '../../src/audit/audit-event.js';
import { FixedClock } from '../../src/clock.js';
import { planAdmission } from '../../src/pathway/front-door.js';
import { completeContext } from '../pathway/builders.js';
import { parseFhirXml } from '../../src/fhir/xml/index.js';
import { extractIndexRows } from '../../src/fhir/search/extract.js';
import { fixturePath } from '../support/fixtures.js';

const CORPUS = fixturePath('nhs');

/** Adds a resource to `out`, and the resources of a Bundle's entries with it. */
function addOpened(out: Resource[], r: Resource): void {
  out.push(r);
  if (r.resourceType === 'Bundle') for (const e of (r as Bundle).entry ?? []) if (e.resource) addOpened(out, e.resource);
}

/** Every resource of the NHS samples (test/fixtures/nhs), Bundles opened up. */
function nhsResources(): Resource[] {
  const out: Resource[] = [];
  for (const dir of ['bars', 'ukcore', 'gp', 'crisis']) {
    for (const f of readdirSync(join(CORPUS, dir))) {
      const text = readFileSync(join(CORPUS, dir, f), 'utf8');
      try {
        if (f.endsWith('.xml')) addOpened(out, parseFhirXml(text));
        else if (f.endsWith('.json')) addOpened(out, JSON.parse(text) as Resource);
      } catch {
        // not FHIR (a CDA document, an STU3 resource R4 refuses): not this test's business
      }
    }
  }
  return out;
}

/** Every resource of the NHS samples and our profile examples, Bundles opened up. */
function sampleResources(): Resource[] {
  const out = nhsResources();
  const add = (r: Resource) => addOpened(out, r);
  for (const dir of readdirSync('profiles/examples', { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const f of readdirSync(join('profiles/examples', dir.name)).filter((f) => f.endsWith('.json'))) add(JSON.parse(readFileSync(join('profiles/examples', dir.name, f), 'utf8')));
  }
  // and what Stepwise writes itself: triage Tasks, their Provenance, AuditEvents
  const now = new Date('2026-03-02T09:00:00Z');
  for (const related of [undefined, []]) {
    const plan = planAdmission(completeContext({ related }), { clock: new FixedClock(now) });
    for (const c of plan.creates) add({ ...c.resource, id: c.id });
  }
  add(auditEvent({ interaction: 'operation', action: 'E', recorded: now, status: 200, requestor: { identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A83627' } }, observer: 'http://x/fhir', request: { name: 'm' }, focus: [{ reference: 'ServiceRequest/1' }], patient: { reference: 'Patient/1' } }));
  return out.filter((r) => typeof r?.resourceType === 'string');
}

describe('extractIndexRows', () => {
  it('skipping parameters whose starting properties are absent changes no index row of any sample', () => {
    const resources = sampleResources();
    expect(nhsResources().length).toBeGreaterThanOrEqual(117); // the NHS samples' resources, Bundle entries included
    expect(resources.length).toBeGreaterThan(50);
    for (const r of resources) expect(extractIndexRows(r), `${r.resourceType}/${r.id}`).toEqual(extractIndexRows(r, { skipAbsent: false }));
  });

  it('plain paths walked over the JSON give exactly what the FHIRPath engine gives, on every sample', () => {
    const resources = sampleResources();
    for (const r of resources) expect(extractIndexRows(r), `${r.resourceType}/${r.id}`).toEqual(extractIndexRows(r, { engineOnly: true, skipAbsent: false }));
  });

  it('a choice element is found under its typed name (Observation.value as valueQuantity)', () => {
    const rows = extractIndexRows({ resourceType: 'Observation', status: 'final', code: { text: 'PHQ-9' }, valueQuantity: { value: 14, system: 'http://unitsofmeasure.org', code: '{score}' } });
    expect(rows.number).toContainEqual(expect.objectContaining({ param: 'value-quantity', value: '14' }));
  });
});

describe('index rows of repeated values', () => {
  it('indexes a value repeated across names once per parameter, and still every distinct one', () => {
    const names = Array.from({ length: 200 }, (_, i) => ({ family: i % 2 ? 'Smith' : 'Jones', given: ['Ann', 'Ann', `Given${i % 3}`] }));
    const rows = extractIndexRows({ resourceType: 'Patient', name: names } as Resource);
    const of = (param: string) => rows.string.filter((r) => r.param === param).map((r) => r.value).sort();
    expect(of('family')).toEqual(['Jones', 'Smith']);
    expect(of('given')).toEqual(['Ann', 'Given0', 'Given1', 'Given2']);
    expect(rows.string.find((r) => r.value === 'Given0')?.norm).toBe('given0');
  });

  it("keeps a token whose system is the text 'null' apart from one without a system", () => {
    const rows = extractIndexRows({ resourceType: 'Patient', identifier: [{ system: 'null', value: 'x' }, { value: 'x' }] } as Resource);
    expect(rows.token.filter((r) => r.param === 'identifier').map((r) => r.system)).toEqual(['null', null]);
  });

  it('normalises accented and non-Latin values as before, and ASCII by case only', () => {
    const rows = extractIndexRows({ resourceType: 'Patient', name: [{ family: 'Ünal', given: ['José', 'ANN', 'Zoë'] }] } as Resource);
    expect(rows.string.filter((r) => r.param === 'name').map((r) => r.norm).sort()).toEqual(['ann', 'jose', 'unal', 'zoe']);
  });
});
