import { evalFhirPathTyped } from '@medplum/core';
import type { StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { stepwiseCodeSystemUrl } from '../../src/fhir/canonical.js';
import { isValidNhsNumber } from '../../src/fhir/nhs-number.js';
import { loadStepwiseConformance } from '../../src/fhir/stepwise-profiles.js';
import { nativeExpressions } from '../../src/fhir/validation/native-invariants.js';
import { examplesDir } from '../../scripts/profiles/layout.js';
import { readWithCanonical } from '../../scripts/profiles/source.js';
import { errorsOf, summary } from './support.js';
import { serverValidator } from '../../src/fhir/server-validator.js';

/**
 * The rules of the Stepwise profiles beyond the one fault per invalid example: each test changes a
 * valid example in one way and checks the error (or its absence) and where it is reported.
 */
type Json = Record<string, any>;
const example = (name: string): Json => readWithCanonical<Json>(`${examplesDir}${name}`);
const errors = (resource: Json): string[] => summary(errorsOf(serverValidator().validate(resource)));
const coding = (system: string, code: string): Json => ({ coding: [{ system: stepwiseCodeSystemUrl(system), code }] });

describe('StepwiseTriageTask', () => {
  const awaitingInformation = (): Json => example('StepwiseTriageTask/valid-awaiting-information.json');
  const triaged = (outcome: string | undefined): Json => {
    const task = awaitingInformation();
    task.status = 'completed';
    task.businessStatus = coding('triage-status', 'triaged');
    delete task.input;
    if (outcome) task.output = [{ type: coding('task-parameter-type', 'triage-outcome'), valueCodeableConcept: coding('level-of-support', outcome) }];
    return task;
  };

  it('a triaged referral records its outcome (stepwise-triage-1)', () => {
    expect(errors(triaged('crisis-response'))).toEqual([]);
    expect(errors(triaged(undefined))).toEqual([expect.stringMatching(/^error Task: Constraint stepwise-triage-1 failed/)]);
  });

  it('the outcome is a level of support or redirected', () => {
    expect(errors(triaged('redirected'))).toEqual([]);
    expect(errors(triaged('discharged'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^error Task\.output\[0\]\.value\S*: .*triage-outcome/)]),
    );
  });

  it('awaiting information names each missing item (stepwise-triage-2), from the minimum dataset', () => {
    const task = awaitingInformation();
    delete task.input;
    expect(errors(task)).toEqual([expect.stringMatching(/^error Task: Constraint stepwise-triage-2 failed/)]);
    const unknownItem = awaitingInformation();
    unknownItem.input[0].valueCodeableConcept = coding('minimum-dataset', 'shoe-size');
    expect(errors(unknownItem).join('\n')).toMatch(/Task\.input\[0\]\.value/);
  });

  it('businessStatus is bound to the triage statuses', () => {
    const task = awaitingInformation();
    task.businessStatus = coding('triage-status', 'lost');
    expect(errors(task).join('\n')).toMatch(/^error Task\.businessStatus/m);
  });

  it('focus is a referral and for is a patient', () => {
    const task = awaitingInformation();
    task.focus = { reference: 'Patient/richard-smith' };
    expect(errors(task)).toEqual([expect.stringMatching(/^error Task\.focus/)]);
  });
});

describe('StepwiseHandoverTask', () => {
  const handover = (): Json => example('StepwiseHandoverTask/valid-step-down-accepted.json');

  it('an open checklist item is fine until the handover is completed', () => {
    const task = handover();
    task.status = 'requested';
    task.input[3].valueBoolean = false;
    expect(errors(task)).toEqual([]);
  });

  it('needs every checklist item and the transition plan', () => {
    const task = handover();
    task.status = 'requested';
    task.input = task.input.filter((i: Json) => i.type.coding[0].code !== 'support-hours-adjusted');
    expect(errors(task)).toEqual([expect.stringMatching(/^error Task\.input: Task\.input:supportHoursAdjusted needs at least 1/)]);
  });

  it('is a transfer of responsibility from a lead professional', () => {
    const task = handover();
    task.code = coding('task-code', 'triage');
    expect(errors(task)).toEqual([expect.stringMatching(/^error Task\.code/)]);
    const noRequester = handover();
    delete noRequester.requester;
    expect(errors(noRequester)).toEqual([expect.stringMatching(/^error Task\.requester/)]);
  });
});

describe('StepwiseCarePlan', () => {
  it('the level of support is one of the five levels, never redirected', () => {
    const plan = example('StepwiseCarePlan/valid-step-down.json');
    plan.category = [coding('level-of-support', 'redirected')];
    expect(errors(plan).join('\n')).toMatch(/^error CarePlan\.category\[0\].*level-of-support/m);
  });

  it('has exactly one level of support and a care team', () => {
    const plan = example('StepwiseCarePlan/valid-step-down.json');
    plan.category.push(coding('level-of-support', 'ongoing-care'));
    expect(errors(plan)).toEqual([expect.stringMatching(/^error CarePlan\.category: CarePlan\.category:levelOfSupport allows at most 1/)]);
    const noTeam = example('StepwiseCarePlan/valid-step-down.json');
    delete noTeam.careTeam;
    expect(errors(noTeam)).toEqual([expect.stringMatching(/^error CarePlan\.careTeam/)]);
  });
});

describe('StepwisePatient', () => {
  it('follows UK Core: at most one NHS number, with a verification status from UK Core', () => {
    const patient = example('StepwisePatient/valid-richard-smith.json');
    patient.identifier.push({ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' });
    expect(errors(patient)).toEqual([expect.stringMatching(/^error Patient\.identifier: Patient\.identifier:nhsNumber allows at most 1/)]);
    const badStatus = example('StepwisePatient/valid-richard-smith.json');
    badStatus.identifier[0].extension[0].valueCodeableConcept.coding[0].code = '99';
    expect(errors(badStatus).join('\n')).toMatch(/^error Patient\.identifier\[0\]\.extension\[0\]/m);
  });
});

describe('StepwisePatient NHS number invariant (stepwise-nhs-number-1)', () => {
  // The invariant carries the Modulus 11 check to tools that lack our validator rule (e.g. the HL7
  // validator loading the package); it must agree with src/fhir/nhs-number.ts. Our validator runs
  // the rule in its place (ruleInvariants), so it is evaluated here with FHIRPath directly.
  const constraint = loadStepwiseConformance()
    .filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition' && r.id === 'StepwisePatient')
    .flatMap((sd) => sd.snapshot?.element ?? [])
    .flatMap((e) => e.constraint ?? [])
    .find((c) => c.key === 'stepwise-nhs-number-1');
  const expression = constraint?.expression as string;
  const failsInvariant = (value: string): boolean => {
    const identifier = { system: 'https://fhir.nhs.uk/Id/nhs-number', value };
    const result = evalFhirPathTyped(expression, [{ type: 'Identifier', value: identifier }]);
    return result.length === 1 && result[0].value === false;
  };

  it('agrees with the Modulus 11 rule on every check digit of many prefixes, and refuses non-digits and wrong lengths', () => {
    let seed = 20261124;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const numbers = ['9000000009', '9434765919', '900000000A', '900000009', '90000000090', ' 900000009'];
    for (let n = 0; n < 30; n++) {
      const prefix = String(next() % 1e9).padStart(9, '0');
      for (let digit = 0; digit <= 9; digit++) numbers.push(prefix + digit);
    }
    const disagreements = numbers.filter((value) => failsInvariant(value) === isValidNhsNumber(value));
    expect(disagreements).toEqual([]);
    expect(numbers.filter(isValidNhsNumber).length).toBeGreaterThan(20);
  });

  it('is checked by the NHS number rule, so an invalid NHS number is reported once', () => {
    expect(expression, 'the expression the validator runs the rule for').toBe(nativeExpressions['stepwise-nhs-number-1']);
    const patient = example('StepwisePatient/valid-richard-smith.json');
    patient.identifier[0].value = '9000000008';
    expect(errors(patient)).toEqual(['error Patient.identifier[0].value: NHS number 9000000008 fails the Modulus 11 check: check digit is 8, expected 9']);
  });
});

describe('StepwiseRiskFlag', () => {
  it('is about a patient', () => {
    const flag = example('StepwiseRiskFlag/valid-relapse-signature-high.json');
    flag.subject = { reference: 'Group/ward-6' };
    expect(errors(flag)).toEqual([expect.stringMatching(/^error Flag\.subject/)]);
  });
});

describe('StepwiseReferralMessage', () => {
  const message = (): Json => example('StepwiseReferralMessage/valid-gp-referral-message.json');

  it('checks its MessageHeader against StepwiseMessageHeader', () => {
    const bundle = message();
    bundle.entry[0].resource.eventCoding = { system: 'https://fhir.nhs.uk/CodeSystem/message-events-bars', code: 'servicerequest-request' };
    expect(errors(bundle).join('\n')).toMatch(/^error Bundle\.entry\[0\]\.resource\.event\b.*message-event/m);
  });

  it('checks its referral against StepwiseReferral', () => {
    const bundle = message();
    delete bundle.entry[1].resource.priority;
    expect(errors(bundle)).toEqual([expect.stringMatching(/^error Bundle\.entry\[1\]\.resource\.priority/)]);
  });

  it('starts with the MessageHeader (R4 bdl-12, with type fixed to message)', () => {
    const bundle = message();
    bundle.entry = [bundle.entry[1], bundle.entry[0], bundle.entry[2]];
    expect(errors(bundle)).toEqual([expect.stringMatching(/^error Bundle: Constraint bdl-12 failed/)]);
  });

  it('is a message', () => {
    const bundle = message();
    bundle.type = 'collection';
    expect(errors(bundle).join('\n')).toMatch(/^error Bundle\.type/m);
  });
});
