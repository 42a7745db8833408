import { describe, expect, it } from 'vitest';
import { errorAt, errors, summary, testValidator } from './test-support.js';

/**
 * Reference resolution inside Bundles (http://hl7.org/fhir/R4/bundle.html#references), with the
 * severities of the HL7 validator: an unresolved urn: reference is a warning ("URN reference is not
 * locally contained within the bundle"), what a document's Composition refers to must be in the
 * document, a relative reference needs its entry's fullUrl.
 */

const validate = (resource: unknown) => testValidator().validate(resource);
const warnings = (issues: ReturnType<typeof validate>) => issues.filter((i) => i.severity === 'warning');

const BASE = 'http://example.org/fhir/';
const UUID_PATIENT = 'urn:uuid:04121321-4af5-424c-a0e1-ed3aab1c349d';
const UUID_MISSING = 'urn:uuid:9ac3356c-4ea4-4814-84c3-235484f2ef19';

const patient = (id = '23', extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', id, ...extra });
const observation = (subject: string, id = 'o1') => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'mood' },
  subject: { reference: subject },
});
const collection = (...entry: unknown[]) => ({ resourceType: 'Bundle', type: 'collection', entry });

function document(subject: string, ...more: unknown[]) {
  return {
    resourceType: 'Bundle',
    type: 'document',
    identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0' },
    timestamp: '2026-03-02T09:00:00Z',
    entry: [
      {
        fullUrl: `${BASE}Composition/c1`,
        resource: {
          resourceType: 'Composition',
          id: 'c1',
          status: 'final',
          type: { text: 'Discharge summary' },
          subject: { reference: subject },
          date: '2026-03-02T09:00:00Z',
          author: [{ display: 'Dr A' }],
          title: 'Discharge summary',
        },
      },
      ...more,
    ],
  };
}

describe('relative references resolve against the fullUrl of their entry', () => {
  it('finds Patient/23 at [base]/Patient/23 when the referring entry is [base]/Observation/o1', () => {
    const bundle = collection({ fullUrl: `${BASE}Observation/o1`, resource: observation('Patient/23') }, { fullUrl: `${BASE}Patient/23`, resource: patient() });
    expect(summary(validate(bundle))).toEqual([]);
  });

  it('reports a target of another type than the reference names, as an error', () => {
    const bundle = collection({ fullUrl: `${BASE}Observation/o1`, resource: observation('Patient/23') }, { fullUrl: `${BASE}Patient/23`, resource: { resourceType: 'Group', id: '23', type: 'person', actual: true } });
    expect(errorAt(validate(bundle), 'Bundle.entry[0].resource.subject.reference')?.diagnostics).toMatch(/^Matching reference for reference Patient\/23 has resourceType Group/);
  });

  it('warns about an entry that matches by type and id under another base (not the target by the Bundle rules)', () => {
    const bundle = collection({ fullUrl: `${BASE}Observation/o1`, resource: observation('Patient/23') }, { fullUrl: 'http://other.example/fhir/Patient/23', resource: patient() });
    const issues = validate(bundle);
    expect(errors(issues)).toEqual([]);
    expect(summary(warnings(issues))).toEqual([
      `warning Bundle.entry[0].resource.subject.reference: Entry 1 matches the reference Patient/23 by type and id but its fullUrl http://other.example/fhir/Patient/23 does not match the full target URL ${BASE}Patient/23 by Bundle resolution rules`,
    ]);
  });

  it('does not report a relative reference that is simply not in the Bundle (it may be on the server)', () => {
    expect(summary(validate(collection({ fullUrl: `${BASE}Observation/o1`, resource: observation('Patient/99') })))).toEqual([]);
  });

  it('does not resolve a relative reference against a urn: fullUrl', () => {
    const bundle = collection({ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: observation('Patient/23') }, { fullUrl: `${BASE}Patient/23`, resource: patient() });
    expect(summary(warnings(validate(bundle)))).toEqual([expect.stringMatching(/Entry 1 matches the reference Patient\/23 by type and id but its fullUrl/)]);
  });

  it('reports the same problems in a message as warnings: a referral is not refused for them', () => {
    const entries = [{ fullUrl: `${BASE}Observation/o1`, resource: observation('Patient/23') }, { fullUrl: `${BASE}Patient/23`, resource: { resourceType: 'Group', id: '23', type: 'person', actual: true } }];
    const asMessage = validate({ ...collection(...entries), type: 'message' }).filter((i) => i.expression?.[0] === 'Bundle.entry[0].resource.subject.reference');
    expect(asMessage.map((i) => i.severity)).toEqual(['warning']);
    const noBase = validate({ resourceType: 'Bundle', type: 'message', entry: [{ resource: observation('Patient/23') }] }).filter((i) => i.expression?.[0] === 'Bundle.entry[0].resource.subject.reference');
    expect(noBase.map((i) => i.severity)).toEqual(['warning']);
  });

  it('is an error in an entry without a fullUrl, except in batch and transaction responses', () => {
    const bundle = collection({ resource: observation('Patient/23') });
    expect(errorAt(validate(bundle), 'Bundle.entry[0].resource.subject.reference')?.diagnostics).toMatch(/^Relative reference Patient\/23 appears inside a Bundle entry without a fullUrl/);
    const response = { resourceType: 'Bundle', type: 'batch-response', entry: [{ resource: observation('Patient/23'), response: { status: '200' } }] };
    expect(errors(validate(response))).toEqual([]);
  });

  it('applies to contained resources with the fullUrl of their container', () => {
    const obs = { ...observation('#p'), contained: [{ resourceType: 'Encounter', id: 'p', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/23' } }] };
    const bundle = collection({ resource: obs });
    expect(errorAt(validate(bundle), 'Bundle.entry[0].resource.contained[0].subject.reference')?.diagnostics).toMatch(/without a fullUrl/);
  });
});

describe('absolute references match a fullUrl', () => {
  it('resolves urn:uuid references to the entry with that fullUrl and checks the target type', () => {
    const ok = collection({ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: observation(UUID_PATIENT) }, { fullUrl: UUID_PATIENT, resource: patient() });
    expect(summary(validate(ok))).toEqual([]);
    const wrongType = collection({ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: observation(UUID_PATIENT) }, { fullUrl: UUID_PATIENT, resource: { resourceType: 'Practitioner' } });
    expect(errorAt(validate(wrongType), 'Bundle.entry[0].resource.subject')?.diagnostics).toMatch(/refers to a Practitioner/);
  });

  it('warns about a urn:uuid reference that is not in the Bundle (message, collection)', () => {
    for (const type of ['collection', 'message']) {
      const bundle = { ...collection({ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: observation(UUID_MISSING) }), type };
      const issues = validate(bundle).filter((i) => i.expression?.[0] === 'Bundle.entry[0].resource.subject.reference');
      expect(summary(issues)).toEqual([`warning Bundle.entry[0].resource.subject.reference: URN reference is not locally contained within the bundle ${UUID_MISSING}`]);
    }
  });

  it('resolves Type/id in an entry whose fullUrl is urn:uuid against urn:uuid:<id>, and checks the type found', () => {
    const id = '5d9588d8-3cd6-4b32-8fb7-ad13694e069d';
    const bundle = collection({ fullUrl: UUID_PATIENT, resource: { resourceType: 'Patient', generalPractitioner: [{ reference: `Practitioner/${id}` }] } }, { fullUrl: `urn:uuid:${id}`, resource: { resourceType: 'Organization', name: 'GP' } });
    expect(errorAt(validate(bundle), 'Bundle.entry[0].resource.generalPractitioner[0].reference')?.diagnostics).toMatch(new RegExp(`^Matching reference for reference Practitioner/${id} has resourceType Organization`));
  });

  it('does not report an absolute http reference that is not in the Bundle', () => {
    expect(summary(validate(collection({ fullUrl: `${BASE}Observation/o1`, resource: observation('http://elsewhere.example/fhir/Patient/1') })))).toEqual([]);
  });
});

describe('documents', () => {
  const patientEntry = (versionId?: string) => ({ fullUrl: `${BASE}Patient/23`, resource: patient('23', versionId ? { meta: { versionId } } : {}) });
  const subjectError = (issues: ReturnType<typeof validate>) => errorAt(issues, 'Bundle.entry[0].resource.subject')?.diagnostics;

  it('must carry what the Composition refers to: an unresolved subject is an error', () => {
    expect(summary(validate(document('Patient/23', patientEntry())))).toEqual([]);
    expect(subjectError(validate(document('Patient/23')))).toBe("Can't find 'Patient/23' in the bundle (Composition.subject)");
    expect(subjectError(validate(document(UUID_MISSING)))).toBe(`Can't find '${UUID_MISSING}' in the bundle (Composition.subject)`);
  });

  it('resolves version-specific references against meta.versionId, relative or absolute', () => {
    expect(summary(validate(document('Patient/23/_history/2', patientEntry('2'))))).toEqual([]);
    expect(summary(validate(document(`${BASE}Patient/23/_history/2`, patientEntry('2'))))).toEqual([]);
  });

  it('finds each version of a resource that a document carries twice, and refuses an unversioned reference to both', () => {
    const v1 = { fullUrl: `${BASE}Patient/23`, resource: patient('23', { meta: { versionId: '1' } }) };
    const v2 = { fullUrl: `${BASE}Patient/23`, resource: patient('23', { meta: { versionId: '2' } }) };
    const doc = document('Patient/23/_history/1', v1, v2);
    (doc.entry[0] as { resource: Record<string, unknown> }).resource.section = [{ title: 'Later', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' }, entry: [{ reference: 'Patient/23/_history/2' }] }];
    expect(errors(validate(doc))).toEqual([]);
    const unversioned = document('Patient/23', v1, v2);
    expect(errorAt(validate(unversioned), 'Bundle.entry[0].resource.subject.reference')?.diagnostics).toMatch(/^Found 2 matches for Patient\/23 in the Bundle/);
  });

  it('reports a version-specific reference whose version is not the one in the document', () => {
    expect(subjectError(validate(document('Patient/23/_history/1', patientEntry('2'))))).toMatch(/^Can't find 'Patient\/23\/_history\/1' in the bundle/);
    const unversioned = validate(document('Patient/23/_history/1', patientEntry()));
    expect(warnings(unversioned).map((i) => i.diagnostics)).toContain(
      `Entries matching fullUrl ${BASE}Patient/23 should declare meta.versionId because there are version-specific references (Patient/23/_history/1)`,
    );
  });

  it('checks section entries', () => {
    const doc = document('Patient/23', patientEntry());
    (doc.entry[0] as { resource: Record<string, unknown> }).resource.section = [{ title: 'Plan', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Plan</div>' }, entry: [{ reference: 'CarePlan/cp1' }] }];
    expect(errorAt(validate(doc), 'Bundle.entry[0].resource.section[0].entry[0]')?.diagnostics).toBe("Can't find 'CarePlan/cp1' in the bundle (Composition.section.entry)");
  });

  it('resolves strictly: a relative reference from a urn: entry is not found, even when an entry urn:uuid:<id> would match loosely', () => {
    const id = '98549f1a-e0d5-4454-849c-f5b97d3ed299';
    const doc = document(`Patient/${id}`, { fullUrl: `urn:uuid:${id}`, resource: patient(id) });
    (doc.entry[0] as { fullUrl: string }).fullUrl = 'urn:uuid:a6a8a8e6-415c-42e1-abf7-f8d876e5908b';
    expect(subjectError(validate(doc))).toMatch(new RegExp(`^Can't find 'Patient/${id}' in the bundle \\(Composition.subject\\)\\. Note that there is a resource in the bundle with the same type and id`));
  });

  it('requires every entry to be reachable from the Composition (error), and forwards (warning, except Provenance)', () => {
    const orphan = { fullUrl: `${BASE}Observation/o9`, resource: observation('http://elsewhere.example/Patient/1', 'o9') };
    expect(summary(errors(validate(document('Patient/23', patientEntry(), orphan))))).toEqual([
      `error Bundle.entry[2]: Entry '${BASE}Observation/o9' isn't reachable by traversing links (forward or backward) from the Composition`,
    ]);
    const backwards = { fullUrl: `${BASE}Observation/o9`, resource: observation('Patient/23', 'o9') };
    const issues = validate(document('Patient/23', patientEntry(), backwards));
    expect(errors(issues)).toEqual([]);
    expect(summary(warnings(issues))).toEqual([expect.stringMatching(/^warning Bundle\.entry\[2\]: Entry '.*Observation\/o9' isn't reachable by traversing forwards from the Composition/)]);
    const provenance = { fullUrl: `${BASE}Provenance/p1`, resource: { resourceType: 'Provenance', id: 'p1', target: [{ reference: 'Composition/c1' }], recorded: '2026-03-02T09:00:00Z', agent: [{ who: { display: 'Dr A' } }] } };
    expect(summary(validate(document('Patient/23', patientEntry(), provenance)))).toEqual([]);
  });
});

describe('messages', () => {
  const header = (focus: string) => ({ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000000', resource: { resourceType: 'MessageHeader', eventCoding: { system: 'https://example.org/events', code: 'referral' }, source: { endpoint: 'https://sender.example' }, focus: [{ reference: focus }] } });
  const message = (...entry: unknown[]) => ({ resourceType: 'Bundle', type: 'message', timestamp: '2026-03-02T09:00:00Z', entry });

  it('must carry what the MessageHeader focuses on', () => {
    expect(errors(validate(message(header(UUID_PATIENT), { fullUrl: UUID_PATIENT, resource: patient() })))).toEqual([]);
    expect(errorAt(validate(message(header(UUID_MISSING))), 'Bundle.entry[0].resource.focus[0]')?.diagnostics).toBe(`Can't find '${UUID_MISSING}' in the bundle (MessageHeader.focus)`);
  });

  it('only warns about a focus that names an entry by type and id but not by the Bundle rules (a BaRS receiver finds it)', () => {
    const issues = validate(message(header('Patient/23'), { fullUrl: UUID_PATIENT, resource: patient('23') }));
    expect(errors(issues)).toEqual([]);
    expect(issues.find((i) => i.expression?.[0] === 'Bundle.entry[0].resource.focus[0]')?.severity).toBe('warning');
  });
});

describe('entry fullUrls', () => {
  it('are required except in transactions, batches, their responses and for a search outcome', () => {
    expect(errorAt(validate(collection({ resource: patient() })), 'Bundle.entry[0]')?.diagnostics).toBe(
      'Except for transactions and batches, each entry in a Bundle must have a fullUrl which is the identity of the resource in the entry',
    );
    const transaction = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient(), request: { method: 'PUT', url: 'Patient/23' } }] };
    expect(errors(validate(transaction))).toEqual([]);
    const searchset = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'informational' }] }, search: { mode: 'outcome' } }] };
    expect(errors(validate(searchset))).toEqual([]);
    // in a message too (bundle-definitions.html#Bundle.entry.fullUrl makes no exception for it), with
    // the rule key by which a message receiver accepts it (messaging/content-policy.test.ts)
    const message = { resourceType: 'Bundle', type: 'message', entry: [{ resource: patient() }] };
    const missing = errorAt(validate(message), 'Bundle.entry[0]');
    expect(missing?.severity).toBe('error');
    expect(missing?.details?.coding?.[0]?.code).toBe('entry-fullurl');
  });

  it('are absolute, and a RESTful one needs a resource with an id', () => {
    expect(errorAt(validate(collection({ fullUrl: 'Patient/23', resource: patient() })), 'Bundle.entry[0].fullUrl')?.diagnostics).toBe("The fullUrl must be an absolute URL (not 'Patient/23')");
    expect(errorAt(validate(collection({ fullUrl: `${BASE}Patient/23`, resource: { resourceType: 'Patient' } })), 'Bundle.entry[0].fullUrl')?.diagnostics).toBe(
      `The fullUrl '${BASE}Patient/23' looks like a RESTful server URL, but the resource has no id`,
    );
  });
});

describe('urn:uuid case rules', () => {
  it('a fullUrl urn:uuid must be lower case, like the uuid type', () => {
    const bundle = collection({ fullUrl: 'urn:uuid:04121321-4AF5-424C-A0E1-ED3AAB1C349D', resource: patient() });
    expect(errorAt(validate(bundle), 'Bundle.entry[0].fullUrl')?.diagnostics).toBe('UUIDs must be valid and lowercase (04121321-4AF5-424C-A0E1-ED3AAB1C349D)');
  });

  it('a reference urn:uuid in upper case does not resolve to the lower-case fullUrl: a warning, as in the HL7 validator', () => {
    const upper = UUID_PATIENT.toUpperCase().replace('URN:UUID:', 'urn:uuid:');
    const bundle = collection({ fullUrl: 'urn:uuid:6f1c2a3e-0000-4000-8000-000000000001', resource: observation(upper) }, { fullUrl: UUID_PATIENT, resource: patient() });
    const issues = validate(bundle);
    expect(errors(issues)).toEqual([]);
    expect(summary(warnings(issues))).toEqual([`warning Bundle.entry[0].resource.subject.reference: URN reference is not locally contained within the bundle ${upper}`]);
  });
});
