import type { Bundle, OperationOutcome, StructureDefinition } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerValidator } from '../../src/fhir/server-validator.js';
import { StoredConformance } from '../../src/pipeline/stored-conformance.js';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * Issue 15: StructureDefinitions, ValueSets and CodeSystems a user stores are used by `$validate`,
 * `meta.profile` and write validation at once, through every route; snapshots are generated from
 * differentials (profiles on profiles, extensions, a profile that refers to itself); what cannot be
 * used is refused at upload with the element at fault, and explained at use.
 */

const EX = 'http://example.org/fhir';
const sdUrl = (name: string) => `${EX}/StructureDefinition/${name}`;

function profile(name: string, type: string, base: string, element: NonNullable<StructureDefinition['differential']>['element']): StructureDefinition {
  return {
    resourceType: 'StructureDefinition',
    id: name,
    url: sdUrl(name),
    name,
    status: 'draft',
    kind: type === 'Extension' ? 'complex-type' : 'resource',
    abstract: false,
    type,
    baseDefinition: base,
    derivation: 'constraint',
    differential: { element },
  };
}

const needsBirthDate = (min = 1) =>
  profile('NeedsBirthDate', 'Patient', 'http://hl7.org/fhir/StructureDefinition/Patient', [
    { id: 'Patient', path: 'Patient' },
    { id: 'Patient.birthDate', path: 'Patient.birthDate', min },
  ]);

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(undefined, { validator: new StoredConformance(createServerValidator) });
});
afterAll(() => t.close());

async function put(resource: { resourceType: string; id?: string }, headers: Record<string, string> = {}) {
  const res = await t.fhir('PUT', `${resource.resourceType}/${resource.id}`, resource, headers);
  return { status: res.status, body: (await res.json()) as OperationOutcome };
}

async function validate(type: string, resource: unknown, profileUrl?: string) {
  const res = await t.fhir('POST', `${type}/$validate${profileUrl ? `?profile=${encodeURIComponent(profileUrl)}` : ''}`, resource);
  expect(res.status).toBe(200);
  return (await res.json()) as OperationOutcome;
}

const errors = (oo: OperationOutcome) => oo.issue.filter((i) => i.severity === 'error');
const messages = (oo: OperationOutcome) => errors(oo).map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);

describe('a profile stored over REST is used by the next request', () => {
  it('by $validate with profile=, by meta.profile on $validate, and by a write', async () => {
    expect((await put(needsBirthDate())).status).toBe(201);
    const bare = { resourceType: 'Patient', name: [{ family: 'Ng' }] };
    expect(messages(await validate('Patient', bare, sdUrl('NeedsBirthDate')))).toEqual([expect.stringMatching(/^Patient\.birthDate: .*at least 1/)]);
    const claiming = { ...bare, meta: { profile: [sdUrl('NeedsBirthDate')] } };
    expect(errors(await validate('Patient', claiming))).toHaveLength(1);
    const refused = await t.fhir('POST', 'Patient', claiming);
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as OperationOutcome).issue[0].expression).toEqual(['Patient.birthDate']);
    expect((await t.fhir('POST', 'Patient', { ...claiming, birthDate: '1990-04-01' })).status).toBe(201);
  });

  it('a new version replaces what was compiled from the old one, and a deleted profile is no longer known', async () => {
    await put(needsBirthDate(1));
    expect(errors(await validate('Patient', { resourceType: 'Patient' }, sdUrl('NeedsBirthDate')))).toHaveLength(1);
    expect((await put(needsBirthDate(0))).status).toBe(200);
    expect(errors(await validate('Patient', { resourceType: 'Patient' }, sdUrl('NeedsBirthDate')))).toEqual([]);
    expect((await t.fhir('DELETE', 'StructureDefinition/NeedsBirthDate')).status).toBeLessThan(300);
    expect(messages(await validate('Patient', { resourceType: 'Patient' }, sdUrl('NeedsBirthDate')))).toEqual([expect.stringMatching(/is not known to this validator/)]);
  });

  it('a profile, value set and code system stored in one transaction Bundle are used afterwards', async () => {
    const cs = { resourceType: 'CodeSystem', id: 'colours', url: `${EX}/CodeSystem/colours`, status: 'active', content: 'complete', concept: [{ code: 'red' }, { code: 'blue' }] };
    const vs = { resourceType: 'ValueSet', id: 'warm', url: `${EX}/ValueSet/warm`, status: 'active', compose: { include: [{ system: cs.url, concept: [{ code: 'red' }] }] } };
    const sd = profile('WarmFlag', 'Flag', 'http://hl7.org/fhir/StructureDefinition/Flag', [
      { id: 'Flag', path: 'Flag' },
      { id: 'Flag.code', path: 'Flag.code', binding: { strength: 'required', valueSet: vs.url } },
    ]);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [cs, vs, sd].map((r) => ({ resource: r as never, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } })),
    };
    expect((await t.fhir('POST', '', bundle)).status).toBe(200);
    const flag = (code: string) => ({ resourceType: 'Flag', status: 'active', code: { coding: [{ system: cs.url, code }] }, subject: { reference: 'Patient/p1' } });
    expect(errors(await validate('Flag', flag('red'), sd.url))).toEqual([]);
    expect(messages(await validate('Flag', flag('blue'), sd.url))).toEqual([expect.stringMatching(/^Flag\.code/)]);
  });
});

describe('a stored code system is used by every write', () => {
  it('a code its system does not define is refused on a resource that names no profile', async () => {
    const shades = { resourceType: 'CodeSystem', id: 'shades', url: `${EX}/CodeSystem/shades`, status: 'active', content: 'complete', concept: [{ code: 'dark' }] };
    const flag = (code: string) => ({ resourceType: 'Flag', status: 'active', code: { coding: [{ system: shades.url, code }] }, subject: { reference: 'Patient/p1' } });
    expect((await t.fhir('POST', 'Flag', flag('light'))).status).toBe(201);
    expect((await put(shades)).status).toBe(201);
    const refused = await t.fhir('POST', 'Flag', flag('light'));
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as OperationOutcome).issue[0].diagnostics).toMatch(/'light' is not defined in code system/);
    expect((await t.fhir('POST', 'Flag', flag('dark'))).status).toBe(201);
  });
});

describe('snapshots generated from differentials', () => {
  it('a profile on a user profile gets the constraints of both', async () => {
    await put(needsBirthDate(1));
    const child = profile('NeedsBirthDateAndGender', 'Patient', sdUrl('NeedsBirthDate'), [
      { id: 'Patient', path: 'Patient' },
      { id: 'Patient.gender', path: 'Patient.gender', min: 1 },
    ]);
    expect((await put(child)).status).toBe(201);
    const found = messages(await validate('Patient', { resourceType: 'Patient' }, child.url));
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(/^Patient\.birthDate: /), expect.stringMatching(/^Patient\.gender: /)]));
  });

  it('an extension stored by a user is checked where it is used, and a profile may require it', async () => {
    const ext = profile('Mood', 'Extension', 'http://hl7.org/fhir/StructureDefinition/Extension', [
      { id: 'Extension', path: 'Extension' },
      { id: 'Extension.url', path: 'Extension.url', fixedUri: sdUrl('Mood') },
      { id: 'Extension.value[x]', path: 'Extension.value[x]', min: 1, type: [{ code: 'string' }] },
    ]);
    ext.context = [{ type: 'element', expression: 'Patient' }];
    expect((await put(ext)).status).toBe(201);
    const withMood = (value: Record<string, unknown>) => ({ resourceType: 'Patient', extension: [{ url: ext.url, ...value }] });
    expect(errors(await validate('Patient', withMood({ valueString: 'calm' })))).toEqual([]);
    expect(messages(await validate('Patient', withMood({ valueBoolean: true })))).toEqual(expect.arrayContaining([expect.stringMatching(/^Patient\.extension\[0\]/)]));
  });

  it('a profile that refers to itself is stored and used (the recursion ends)', async () => {
    // a nested extension whose children are itself, constrained inside itself
    const url = sdUrl('Nested');
    const nested = profile('Nested', 'Extension', 'http://hl7.org/fhir/StructureDefinition/Extension', [
      { id: 'Extension', path: 'Extension' },
      { id: 'Extension.extension', path: 'Extension.extension', slicing: { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' } },
      { id: 'Extension.extension:child', path: 'Extension.extension', sliceName: 'child', max: '1', type: [{ code: 'Extension', profile: [url] }] },
      { id: 'Extension.extension:child.url', path: 'Extension.extension.url', fixedUri: url },
      { id: 'Extension.url', path: 'Extension.url', fixedUri: url },
      { id: 'Extension.value[x]', path: 'Extension.value[x]', type: [{ code: 'string' }] },
    ]);
    nested.context = [{ type: 'element', expression: 'Element' }];
    const stored = await put(nested);
    expect(stored.status, JSON.stringify(stored.body)).toBe(201);
    const value = { url, extension: [{ url, valueString: 'inner' }] };
    expect(errors(await validate('Patient', { resourceType: 'Patient', extension: [value] }))).toEqual([]);
    const tooMany = { url, extension: [{ url, valueString: 'a' }, { url, valueString: 'b' }] };
    expect(errors(await validate('Patient', { resourceType: 'Patient', extension: [tooMany] })).length).toBeGreaterThan(0);
  });
});

describe('a profile that cannot be used', () => {
  it('is refused at upload, 422, naming the differential element at fault', async () => {
    const bad = profile('Broken', 'Patient', 'http://hl7.org/fhir/StructureDefinition/Patient', [
      { id: 'Patient', path: 'Patient' },
      { id: 'Patient.shoeSize', path: 'Patient.shoeSize', min: 1 },
    ]);
    const { status, body } = await put(bad);
    expect(status).toBe(422);
    const issue = body.issue.find((i) => i.severity === 'error');
    expect(issue?.expression).toEqual(['StructureDefinition.differential.element[1]']);
    expect(issue?.diagnostics).toMatch(/Patient\.shoeSize matches no element of its base/);
  });

  it('is refused at upload when its base is not loaded, naming baseDefinition', async () => {
    const orphan = profile('Orphan', 'Patient', sdUrl('NotThere'), [{ id: 'Patient', path: 'Patient' }]);
    const { status, body } = await put(orphan);
    expect(status).toBe(422);
    expect(body.issue.find((i) => i.severity === 'error')?.expression).toEqual(['StructureDefinition.baseDefinition']);
    expect(body.issue.find((i) => i.severity === 'error')?.diagnostics).toMatch(/NotThere, which is not loaded/);
  });

  it('is explained at use when it stopped compiling (its base was deleted): $validate and meta.profile', async () => {
    const parent = profile('Parent', 'Patient', 'http://hl7.org/fhir/StructureDefinition/Patient', [{ id: 'Patient', path: 'Patient' }, { id: 'Patient.gender', path: 'Patient.gender', min: 1 }]);
    const child = profile('Child', 'Patient', parent.url as string, [{ id: 'Patient', path: 'Patient' }]);
    await put(parent);
    expect((await put(child)).status).toBe(201);
    await t.fhir('DELETE', 'StructureDefinition/Parent');
    const viaParam = errors(await validate('Patient', { resourceType: 'Patient', gender: 'male' }, child.url));
    expect(viaParam.map((i) => i.diagnostics)).toEqual([expect.stringMatching(/Child could not be compiled: .*Parent, which is not loaded/)]);
    const viaMeta = errors(await validate('Patient', { resourceType: 'Patient', gender: 'male', meta: { profile: [child.url] } }));
    expect(viaMeta.map((i) => i.diagnostics)).toEqual([expect.stringMatching(/could not be compiled/)]);
  });
});

describe('the R4 base stays as built', () => {
  it('a stored copy of an R4 code system is kept, with a warning, but validation uses R4 own', async () => {
    const gender = { resourceType: 'CodeSystem', id: 'my-gender', url: 'http://hl7.org/fhir/administrative-gender', status: 'active', content: 'complete', concept: [{ code: 'x' }] };
    const res = await t.fhir('PUT', 'CodeSystem/my-gender', gender, { Prefer: 'return=OperationOutcome' });
    expect(res.status).toBe(201);
    expect(((await res.json()) as OperationOutcome).issue.find((i) => i.severity === 'warning')?.diagnostics).toMatch(/part of FHIR R4 itself/);
    expect(errors(await validate('Patient', { resourceType: 'Patient', gender: 'male' }))).toEqual([]);
    expect(errors(await validate('Patient', { resourceType: 'Patient', gender: 'x' })).map((i) => i.expression?.[0])).toEqual(['Patient.gender']);
  });
});

describe('conformance resources that are slightly off are accepted', () => {
  it('a profile without element ids (sdf-14) is stored, with warnings, and used', async () => {
    const noIds = profile('NoIds', 'Patient', 'http://hl7.org/fhir/StructureDefinition/Patient', [{ path: 'Patient' }, { path: 'Patient.active', min: 1 }]);
    const res = await t.fhir('PUT', 'StructureDefinition/NoIds', noIds, { Prefer: 'return=OperationOutcome' });
    expect(res.status).toBe(201);
    const oo = (await res.json()) as OperationOutcome;
    expect(oo.issue.filter((i) => i.severity === 'warning').map((i) => i.details?.coding?.[0]?.code)).toContain('sdf-14');
    expect(messages(await validate('Patient', { resourceType: 'Patient' }, noIds.url))).toEqual([expect.stringMatching(/^Patient\.active: /)]);
  });

  it('in a differential without ids, the elements after a slice constrain that slice', async () => {
    const nhs = profile('NoIdsSliced', 'Patient', 'http://hl7.org/fhir/StructureDefinition/Patient', [
      { path: 'Patient' },
      { path: 'Patient.identifier', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' } },
      { path: 'Patient.identifier', sliceName: 'nhs', min: 1, max: '1' },
      { path: 'Patient.identifier.system', min: 1, fixedUri: 'https://fhir.nhs.uk/Id/nhs-number' },
    ]);
    expect((await put(nhs)).status).toBe(201);
    const withIds = (systems: string[]) => ({ resourceType: 'Patient', identifier: systems.map((system) => ({ system, value: '9000000009' })) });
    expect(errors(await validate('Patient', withIds(['https://fhir.nhs.uk/Id/nhs-number', 'http://example.org/mrn']), nhs.url))).toEqual([]);
    expect(messages(await validate('Patient', withIds(['http://example.org/mrn']), nhs.url))).toEqual([expect.stringMatching(/^Patient\.identifier: .*nhs/)]);
  });

  it('a new type defined by differential only (a logical model) is stored with a warning: generating its snapshot is beyond Stepwise', async () => {
    const model = { ...profile('MyModel', 'Basic', 'http://hl7.org/fhir/StructureDefinition/Element', [{ id: 'MyModel', path: 'MyModel' }, { id: 'MyModel.name', path: 'MyModel.name', min: 1, max: '1', type: [{ code: 'string' }] }]) };
    Object.assign(model, { kind: 'logical', type: 'http://example.org/fhir/StructureDefinition/MyModel', derivation: 'specialization' });
    const res = await t.fhir('PUT', 'StructureDefinition/MyModel', model, { Prefer: 'return=OperationOutcome' });
    expect(res.status).toBe(201);
    expect(((await res.json()) as OperationOutcome).issue.find((i) => i.severity === 'warning')?.diagnostics).toMatch(/derivation specialization/);
  });

  it('$validate of such a profile reports the flaws as warnings, and a fatal one as an error', async () => {
    const noIds = profile('NoIds2', 'Patient', 'http://hl7.org/fhir/StructureDefinition/Patient', [{ path: 'Patient' }]);
    const oo = await validate('StructureDefinition', noIds);
    expect(errors(oo)).toEqual([]);
    expect(oo.issue.some((i) => i.severity === 'warning' && i.details?.coding?.[0]?.code === 'sdf-14')).toBe(true);
  });
});

describe('a Questionnaire stored over REST is used by the next validation of its responses', () => {
  it('a required item left unanswered is an error once the Questionnaire is stored, and not before', async () => {
    const url = `${EX}/Questionnaire/mood-check`;
    const response = { resourceType: 'QuestionnaireResponse', status: 'completed', questionnaire: url, item: [{ linkId: 'sleep', answer: [{ valueBoolean: true }] }] };
    const before = await validate('QuestionnaireResponse', response);
    expect(messages(before).filter((m) => m.includes('mood'))).toEqual([]);
    const questionnaire = {
      resourceType: 'Questionnaire',
      id: 'mood-check',
      url,
      status: 'active',
      item: [
        { linkId: 'mood', text: 'How is your mood?', type: 'string', required: true },
        { linkId: 'sleep', text: 'Sleeping well?', type: 'boolean' },
      ],
    };
    expect((await put(questionnaire)).status).toBe(201);
    const after = await validate('QuestionnaireResponse', response);
    expect(messages(after).some((m) => m.includes('mood'))).toBe(true);
  });
});

describe('a Library stored over REST is used by the next validation of its Measures', () => {
  it("a stratifier naming a definition the Library's CQL does not have is an error once the Library is stored, and not before", async () => {
    const url = `${EX}/Library/waits-logic`;
    const measure = {
      resourceType: 'Measure',
      url: `${EX}/Measure/waits`,
      status: 'draft',
      library: [url],
      group: [{ stratifier: [{ code: { text: 'age' }, criteria: { language: 'text/cql', expression: 'WaitsLogic.AgeBand' } }] }],
    };
    const before = await validate('Measure', measure);
    expect(messages(before)).toEqual([]);
    const cql = 'library WaitsLogic\nusing FHIR version \'4.0.1\'\ncontext Patient\ndefine "Initial Population": true\n';
    const library = { resourceType: 'Library', id: 'waits-logic', url, name: 'WaitsLogic', status: 'draft', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/library-type', code: 'logic-library' }] }, content: [{ contentType: 'text/cql', data: Buffer.from(cql).toString('base64') }] };
    expect((await put(library)).status).toBe(201);
    const after = await validate('Measure', measure);
    expect(messages(after)).toEqual([`Measure.group[0].stratifier[0].criteria: The function AgeBand does not exist in the library ${url}`]);
  });
});
