import type { ElementDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { constraintProfile as profile, TEST_PROFILE_BASE as base } from './test-support.js';
import { createR4Validator } from './validator.js';

// Profiles that limit values (elementdefinition.html#ElementDefinition.minValue_x_) and bind the
// units of a Quantity (terminologies.html#strength, datatypes.html#Quantity); small hand-written
// differentials, as a user would PUT them.

const UCUM = 'http://unitsofmeasure.org';

const validator = createR4Validator();
validator.registry.addStructureDefinition(
  profile('WeightObservation', 'Observation', [
    { id: 'Observation.value[x]', path: 'Observation.value[x]', type: [{ code: 'Quantity' }], minValueQuantity: { value: 0, system: UCUM, code: 'kg' }, maxValueQuantity: { value: 300, system: UCUM, code: 'kg' }, binding: { strength: 'required', valueSet: 'http://hl7.org/fhir/ValueSet/ucum-bodyweight' } },
  ]),
);
validator.registry.addStructureDefinition(profile('RecentPatient', 'Patient', [{ id: 'Patient.birthDate', path: 'Patient.birthDate', minValueDate: '2020-01-01' }]));
// Durations relative to now (elementdefinition-definitions.html#ElementDefinition.minValue_x_): born
// within the last 120 years; an appointment starting at most 30 days from now. R4 names the choice
// after Quantity (Duration is a profile of it); profiles also write minValueDuration.
validator.registry.addStructureDefinition(
  profile('LivingPatient', 'Patient', [{ id: 'Patient.birthDate', path: 'Patient.birthDate', minValueQuantity: { value: 120, unit: 'years', system: UCUM, code: 'a' } }]),
);
validator.registry.addStructureDefinition(
  profile('SoonAppointment', 'Appointment', [{ id: 'Appointment.start', path: 'Appointment.start', maxValueDuration: { value: 30, system: UCUM, code: 'd' } } as ElementDefinition]),
);
validator.registry.addStructureDefinition(
  profile('VagueLimit', 'Patient', [{ id: 'Patient.birthDate', path: 'Patient.birthDate', minValueQuantity: { value: 1.5, comparator: '<', system: UCUM, code: 'a' } }]),
);
validator.registry.addStructureDefinition(
  profile('LongIds', 'Patient', [{ id: 'Patient.id', path: 'Patient.id', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/minLength', valueInteger: 10 }] }]),
);
validator.registry.addStructureDefinition(
  profile('SmallSupply', 'MedicationRequest', [{ id: 'MedicationRequest.dispenseRequest.quantity.value', path: 'MedicationRequest.dispenseRequest.quantity.value', maxValueDecimal: 100 }]),
);
validator.registry.addStructureDefinition(
  profile('ActiveValue', 'Patient', [
    { id: 'Patient.active', path: 'Patient.active', min: 1, extension: [{ url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.mustHaveValue', valueBoolean: true }] },
  ]),
);
validator.registry.addStructureDefinition(
  profile('ActiveOrAbsent', 'Patient', [
    {
      id: 'Patient.active',
      path: 'Patient.active',
      min: 1,
      extension: [{ url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.valueAlternatives', valueCanonical: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason' }],
    },
  ]),
);
validator.registry.addStructureDefinition(
  profile('PhqObservation', 'Observation', [
    {
      id: 'Observation.code',
      path: 'Observation.code',
      binding: {
        strength: 'example',
        valueSet: 'http://hl7.org/fhir/ValueSet/observation-codes',
        extension: [
          {
            url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.binding.additional',
            extension: [
              { url: 'purpose', valueCode: 'required' },
              { url: 'valueSet', valueCanonical: 'https://stepwise.example/fhir/ValueSet/phq' },
            ],
          },
        ],
      },
    },
  ]),
);
validator.registry.addValueSet({
  resourceType: 'ValueSet',
  url: 'https://stepwise.example/fhir/ValueSet/phq',
  status: 'active',
  compose: { include: [{ system: 'http://loinc.org', concept: [{ code: '44249-1' }, { code: '44261-6' }] }] },
});
validator.registry.addValueSet({
  resourceType: 'ValueSet',
  url: 'http://hl7.org/fhir/ValueSet/ucum-bodyweight',
  status: 'active',
  compose: { include: [{ system: UCUM, concept: [{ code: 'kg' }, { code: 'g' }, { code: '[lb_av]' }] }] },
});

const errors = (resource: unknown, name: string) =>
  validator
    .validate(resource, { profiles: [base + name] })
    .filter((i) => i.severity === 'error')
    .map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
const weight = (value: number, code: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'weight' }, valueQuantity: { value, unit: code, system: UCUM, code } });

describe('minValue[x] and maxValue[x] in a profile', () => {
  it('accepts values inside the limits, in other units after UCUM conversion', () => {
    expect(errors(weight(70, 'kg'), 'WeightObservation')).toEqual([]);
    expect(errors(weight(70000, 'g'), 'WeightObservation')).toEqual([]);
  });

  it('refuses a Quantity below the minimum or above the maximum, converting units', () => {
    expect(errors(weight(-1, 'g'), 'WeightObservation')).toEqual([
      expect.stringMatching(/^Observation.value.ofType\(Quantity\): The value -1 g of Observation.value\[x\] is less than the minimum allowed/),
    ]);
    expect(errors(weight(700, '[lb_av]'), 'WeightObservation')[0]).toMatch(/greater than the maximum allowed/);
  });

  it('a date before minValueDate and a decimal inside a data type above maxValueDecimal are errors', () => {
    expect(errors({ resourceType: 'Patient', birthDate: '2021-05-01' }, 'RecentPatient')).toEqual([]);
    expect(errors({ resourceType: 'Patient', birthDate: '2019-12-31' }, 'RecentPatient')).toEqual([
      expect.stringMatching(/^Patient.birthDate: The value 2019-12-31 of Patient.birthDate is less than the minimum allowed .*minValueDate 2020-01-01/),
    ]);
    const request = (value: number) => ({ resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/1' }, medicationCodeableConcept: { text: 'x' }, dispenseRequest: { quantity: { value } } });
    expect(errors(request(100), 'SmallSupply')).toEqual([]);
    expect(errors(request(101), 'SmallSupply')).toEqual([expect.stringMatching(/^MedicationRequest.dispenseRequest.quantity.value: The value 101 .* greater than the maximum allowed/)]);
  });
});

describe('a Duration limiting a date, dateTime or instant, relative to now', () => {
  const yearsAgo = (years: number) => `${new Date().getUTCFullYear() - years}`;

  it('minValue: now minus the duration is the earliest allowed; a partial date is refused only when all of it is earlier', () => {
    expect(errors({ resourceType: 'Patient', birthDate: '1990-04-01' }, 'LivingPatient')).toEqual([]);
    expect(errors({ resourceType: 'Patient', birthDate: yearsAgo(120) }, 'LivingPatient')).toEqual([]);
    expect(errors({ resourceType: 'Patient', birthDate: '1850-01-01' }, 'LivingPatient')).toEqual([
      expect.stringMatching(/^Patient.birthDate: The date\/time value '1850-01-01' is not legal: minValue is 120 a before now \(which is \d{4}-\d\d-\d\d\), Patient.birthDate \(minValueQuantity in profile /),
    ]);
    expect(errors({ resourceType: 'Patient', birthDate: yearsAgo(121) }, 'LivingPatient')).toHaveLength(1);
  });

  it('maxValue: now plus the duration is the latest allowed, for an instant too', () => {
    const appointment = (start: string) => ({ resourceType: 'Appointment', status: 'booked', participant: [{ status: 'accepted', actor: { display: 'x' } }], start, end: '2199-01-01T00:00:00Z' });
    expect(errors(appointment(new Date(Date.now() + 86_400_000).toISOString()), 'SoonAppointment')).toEqual([]);
    expect(errors(appointment(new Date(Date.now() + 31 * 86_400_000).toISOString()), 'SoonAppointment')).toEqual([
      expect.stringMatching(/^Appointment.start: The date\/time value '.*' is not legal: maxValue is 30 d after now/),
    ]);
  });

  it('a duration with a comparator or a fractional year cannot limit a date (an error, as in the HL7 validator)', () => {
    expect(errors({ resourceType: 'Patient', birthDate: '1990-04-01' }, 'VagueLimit')).toEqual([expect.stringMatching(/The duration <1.5 a of Patient.birthDate .* cannot limit a date\/time/)]);
  });
});

describe('the minLength extension on an element definition (extension-minlength.html)', () => {
  it('refuses a primitive value with fewer characters', () => {
    expect(errors({ resourceType: 'Patient', id: 'a-long-enough-id' }, 'LongIds')).toEqual([]);
    expect(errors({ resourceType: 'Patient', id: '0123456789' }, 'LongIds')).toEqual([]);
    expect(errors({ resourceType: 'Patient', id: 'short' }, 'LongIds')).toEqual([
      expect.stringMatching(/^Patient.id: Value 'short' is shorter than permitted minimum length of 10 \(Patient.id in profile /),
    ]);
  });
});

describe('a required binding on a Quantity', () => {
  it('binds its system and code; a unit of another dimension cannot be compared with the limits either', () => {
    expect(errors(weight(2, 'm'), 'WeightObservation')).toEqual([
      expect.stringMatching(/cannot be compared with minValueQuantity 0 kg .*: the units are not comparable$/),
      expect.stringMatching(/cannot be compared with maxValueQuantity 300 kg/),
      expect.stringMatching(/^Observation.value.ofType\(Quantity\): Code http:\/\/unitsofmeasure.org\|m is not in value set/),
    ]);
  });
});

describe('mustHaveValue (R5 ElementDefinition.mustHaveValue through its R4 cross-version extension)', () => {
  it('a primitive with only extensions does not meet it', () => {
    expect(errors({ resourceType: 'Patient', active: true }, 'ActiveValue')).toEqual([]);
    const absent = { resourceType: 'Patient', _active: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] } };
    expect(errors(absent, 'ActiveValue')).toEqual([expect.stringMatching(/^Patient.active: The element definition Patient.active .* requires that a value be present/)]);
  });
});

describe('additional bindings (R5 binding.additional through its R4 cross-version extension)', () => {
  it('one whose purpose is required binds like a required binding', () => {
    const observation = (code: string) => ({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] } });
    expect(errors(observation('44249-1'), 'PhqObservation')).toEqual([]);
    expect(errors(observation('72166-2'), 'PhqObservation')).toEqual([expect.stringMatching(/^Observation.code: None of the codings \(http:\/\/loinc.org\|72166-2\) is in value set/)]);
  });
});

describe('valueAlternatives (R5 ElementDefinition.valueAlternatives through its R4 cross-version extension)', () => {
  it('a primitive without a value carries one of the alternative extensions', () => {
    const active = (url: string) => ({ resourceType: 'Patient', _active: { extension: [{ url, valueCode: 'unknown' }] } });
    expect(errors({ resourceType: 'Patient', active: false }, 'ActiveOrAbsent')).toEqual([]);
    expect(errors(active('http://hl7.org/fhir/StructureDefinition/data-absent-reason'), 'ActiveOrAbsent')).toEqual([]);
    expect(errors(active('https://stepwise.example/fhir/StructureDefinition/other'), 'ActiveOrAbsent')).toEqual([
      expect.stringMatching(/^Patient.active: The element definition Patient.active .* requires that if a value is not present, one of the extensions http:\/\/hl7.org\/fhir\/StructureDefinition\/data-absent-reason must be present/),
    ]);
  });
});
