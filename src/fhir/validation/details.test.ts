import { describe, expect, it } from 'vitest';
import { checkNarrativeDiv } from './xhtml.js';
import { errors, summary, testValidator } from './test-support.js';
import { createR4Validator } from './validator.js';

/**
 * Issue 15's details, from the R4 specification and the HL7 validator's behaviour: contained
 * resource ids (references.html#contained, dom-3), xml:space on <pre> in narrative.
 */

const validate = (resource: unknown) => testValidator().validate(resource);
const observation = (extra: Record<string, unknown>) => ({ resourceType: 'Observation', status: 'final', code: { text: 'mood' }, ...extra });

describe('ids of contained resources', () => {
  it('are required: a contained resource without one cannot be referred to', () => {
    expect(summary(validate(observation({ contained: [{ resourceType: 'Patient' }] })))).toEqual([
      'error Observation.contained[0]: Resource requires an id, but none is present: a contained resource is referred to by its id (#id)',
    ]);
  });

  it('are unique within their container', () => {
    const issues = validate(observation({ subject: { reference: '#p' }, performer: [{ reference: '#p' }], contained: [{ resourceType: 'Patient', id: 'p' }, { resourceType: 'Practitioner', id: 'p' }] }));
    expect(summary(errors(issues))).toContain("error Observation.contained[1].id: Duplicate ID for contained resource: p (contained[0] has it too, so #p cannot tell them apart)");
  });

  it('must be referred to from the resource (dom-3), but not necessarily from where they are used', () => {
    expect(summary(validate(observation({ contained: [{ resourceType: 'Patient', id: 'p' }] })))).toEqual([
      'error Observation: Constraint dom-3 failed: If the resource is contained in another resource, it SHALL be referred to from elsewhere in the resource or SHALL refer to the containing resource',
    ]);
    // referred to from another contained resource is from elsewhere in the resource
    const chained = observation({ subject: { reference: '#p' }, contained: [{ resourceType: 'Patient', id: 'p', generalPractitioner: [{ reference: '#g' }] }, { resourceType: 'Practitioner', id: 'g' }] });
    expect(summary(validate(chained))).toEqual([]);
  });

  it('dom-3 is satisfied by a reference from a contained Binary (securityContext), and by a contained resource referring to its container', () => {
    const document = {
      resourceType: 'DocumentReference',
      status: 'current',
      content: [{ attachment: { contentType: 'text/plain', url: '#b' } }],
      contained: [
        { resourceType: 'Binary', id: 'b', contentType: 'text/plain', securityContext: { reference: '#p' } },
        { resourceType: 'Patient', id: 'p' },
      ],
    };
    expect(summary(validate(document))).toEqual([]);
    const toContainer = { ...document, content: [{ attachment: { contentType: 'text/plain', url: '#b' } }], contained: [{ resourceType: 'Binary', id: 'b', contentType: 'text/plain', securityContext: { reference: '#' } }] };
    expect(summary(validate(toContainer))).toEqual([]);
    const onlyToContainer = { ...document, content: [{ attachment: { contentType: 'text/plain' } }], contained: [{ resourceType: 'Binary', id: 'b', contentType: 'text/plain', securityContext: { reference: '#' } }] };
    expect(summary(validate(onlyToContainer))).toEqual([]);
  });

  it('dom-3 counts links from the narrative to a contained resource (an image in a contained Binary)', () => {
    const composition = {
      resourceType: 'Composition',
      status: 'final',
      type: { text: 'Letter' },
      date: '2026-03-02',
      author: [{ display: 'Dr A' }],
      title: 'Letter',
      contained: [{ resourceType: 'Binary', id: 'img', contentType: 'image/png', data: 'iVBORw0KGgo=' }],
      section: [{ text: { status: 'additional', div: '<div xmlns="http://www.w3.org/1999/xhtml"><img src="#img" alt="scan"/></div>' } }],
    };
    expect(summary(validate(composition))).toEqual([]);
    const linked = { ...composition, section: [{ text: { status: 'additional', div: '<div xmlns="http://www.w3.org/1999/xhtml"><a href="#img">scan</a></div>' } }] };
    expect(summary(validate(linked))).toEqual([]);
    const unlinked = { ...composition, section: [{ text: { status: 'additional', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p id="other">Scan</p><a href="#other">scan</a></div>' } }] };
    expect(errors(validate(unlinked)).map((i) => i.details?.coding?.[0]?.code)).toEqual(['dom-3']);
  });

  it('dom-3 counts references from anywhere in the containing resource: extensions, canonicals', () => {
    const questionnaire = {
      resourceType: 'Questionnaire',
      status: 'active',
      contained: [{ resourceType: 'ValueSet', id: 'vs', status: 'active', compose: { include: [{ system: 'http://example.org/cs', concept: [{ code: 'a' }] }] } }],
      item: [{ linkId: '1', text: 'Pick', type: 'choice', answerValueSet: '#vs' }],
    };
    expect(errors(validate(questionnaire))).toEqual([]);
    const fromExtension = observation({ extension: [{ url: 'https://example.org/ext', valueReference: { reference: '#p' } }], contained: [{ resourceType: 'Patient', id: 'p' }] });
    expect(errors(validate(fromExtension))).toEqual([]);
  });
});

describe('FHIRPath variables inside contained resources, in profiles', () => {
  it('%resource is the contained resource and %rootResource its container (fhirpath.html#variables)', () => {
    const validator = createR4Validator();
    const url = 'https://stepwise.example/fhir/StructureDefinition/ContainedVariables';
    const constraint = (key: string, expression: string) => [{ key, severity: 'error' as const, human: key, expression }];
    // a snapshot (as published profiles carry): the base Patient's, with constraints on contained and inside it
    const base = structuredClone(validator.registry.getTypeDefinition('Patient')!.snapshot!.element!);
    const at = base.findIndex((e) => e.path === 'Patient.contained');
    base[at] = { ...base[at], constraint: [...(base[at].constraint ?? []), ...constraint('cv-1', "%resource.type().name = 'Patient' and %rootResource.type().name = 'Patient'")] };
    base.splice(at + 1, 0, {
      id: 'Patient.contained.name',
      path: 'Patient.contained.name',
      min: 0,
      max: '*',
      base: { path: 'Patient.contained.name', min: 0, max: '*' },
      type: [{ code: 'HumanName' }],
      constraint: constraint('cv-2', "%resource.type().name = 'Practitioner' and %rootResource.type().name = 'Patient'"),
    });
    validator.registry.addStructureDefinition({
      resourceType: 'StructureDefinition',
      url,
      name: 'ContainedVariables',
      status: 'draft',
      kind: 'resource',
      abstract: false,
      type: 'Patient',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient',
      derivation: 'constraint',
      snapshot: { element: base },
    });
    const patient = { resourceType: 'Patient', meta: { profile: [url] }, contained: [{ resourceType: 'Practitioner', id: 'p1', name: [{ text: 'Dr Malaprop' }] }], generalPractitioner: [{ reference: '#p1' }] };
    expect(summary(validator.validate(patient))).toEqual([]);
  });
});

describe('narrative', () => {
  it('links only with schemes a reader can follow: not urn:uuid:', () => {
    const div = (href: string) => `<div xmlns="http://www.w3.org/1999/xhtml"><a href="${href}">x</a></div>`;
    for (const ok of ['https://nhs.uk', 'http://example.org/a', 'mailto:team@nhs.net', 'tel:+441234567890', '#section', 'Patient/1']) {
      expect(checkNarrativeDiv(div(ok)), ok).toEqual([]);
    }
    expect(checkNarrativeDiv(div('urn:uuid:7221aa91-d9e1-44fa-8b90-c5a8c7caeade'))).toEqual([
      { message: "Hyperlink scheme 'urn' in 'urn:uuid:7221aa91-d9e1-44fa-8b90-c5a8c7caeade' at <a> is not a valid hyperlinkable scheme" },
    ]);
  });

  it('allows xml:space on <pre>, as XHTML 1.0 does (with the HL7 validator\'s information note), and nowhere else', () => {
    expect(checkNarrativeDiv('<div xmlns="http://www.w3.org/1999/xhtml"><pre xml:space="preserve">a  b</pre></div>')).toEqual([
      { information: true, message: "The attribute 'xml:space' is legal but has a fixed value of 'preserve'. Its use is discouraged" },
    ]);
    expect(checkNarrativeDiv('<div xmlns="http://www.w3.org/1999/xhtml"><p xml:space="preserve">a</p></div>')).toEqual([
      { key: 'txt-1', message: 'The narrative SHALL contain only basic HTML (txt-1): attribute xml:space is not allowed on <p>' },
    ]);
    const text = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><pre xml:space="preserve">Plan:\n  1. call</pre></div>' };
    expect(summary(validate(observation({ text })))).toEqual([
      "information Observation.text.div: The attribute 'xml:space' is legal but has a fixed value of 'preserve'. Its use is discouraged",
    ]);
  });
});
