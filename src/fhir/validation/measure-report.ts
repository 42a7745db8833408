import type { CodeableConcept, Measure, MeasureGroup, MeasureReport, MeasureReportGroup } from '@medplum/fhirtypes';
import type { ValidationContext, ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * A MeasureReport against the Measure it reports on, when the registry holds it
 * (http://hl7.org/fhir/R4/measurereport.html: "the MeasureReport SHALL follow the structure of the
 * Measure"), as the HL7 validator's MeasureValidator checks it: groups, their populations and
 * stratifiers match the Measure's by code (a single group reports on the single group), every group
 * and stratifier of the Measure is reported, subjects are listed only in subject-list reports, and a
 * cohort measure has no score (measure-scoring: "the measure score is not calculated"). These are
 * profile issues: the Measure constrains the report as a profile would.
 */
export function measureReportRule(registry: ConformanceRegistry): ValueCheck {
  return (value, path, ctx) => {
    const report = value as MeasureReport;
    if (typeof report.measure !== 'string') return;
    const measure = registry.getMeasure(report.measure);
    if (!measure) {
      ctx.issues.warning('not-found', `${path}.measure`, `The Measure '${report.measure}' could not be resolved, so the report has not been checked against it`);
      return;
    }
    ctx.issues.underProfile(() => checkGroups(measure, report, path, ctx));
  };
}

function checkGroups(measure: Measure, report: MeasureReport, path: string, ctx: ValidationContext): void {
  const defined = measure.group ?? [];
  const reported = report.group ?? [];
  if (defined.length === 1 && reported.length === 1) {
    checkGroup(measure, defined[0], reported[0], report, `${path}.group[0]`, ctx);
    return;
  }
  const matched = new Set<MeasureGroup>();
  reported.forEach((group, i) => {
    const where = `${path}.group[${i}]`;
    if (!hasCode(group.code)) {
      ctx.issues.error('business-rule', where, 'Group should have a code that matches the group definition in the measure');
      return;
    }
    const definition = defined.find((g) => sameCode(g.code, group.code));
    if (!definition) {
      ctx.issues.error('business-rule', where, `The code for this group (${describe(group.code)}) has no match in the measure definition`);
      return;
    }
    matched.add(definition);
    checkGroup(measure, definition, group, report, where, ctx);
  });
  for (const definition of defined) {
    if (!matched.has(definition)) ctx.issues.error('business-rule', path, `The MeasureReport does not include a group for the group with code '${describe(definition.code)}'`);
  }
}

function checkGroup(measure: Measure, definition: MeasureGroup, group: MeasureReportGroup, report: MeasureReport, path: string, ctx: ValidationContext): void {
  const populations = definition.population ?? [];
  (group.population ?? []).forEach((population, i) => {
    const where = `${path}.population[${i}]`;
    if (populations.length > 0 && !populations.some((p) => sameCode(p.code, population.code))) {
      ctx.issues.error('business-rule', where, `The code for this group population (${describe(population.code)}) has no match in the measure definition`);
    }
    if (population.subjectResults && report.type !== 'subject-list') {
      ctx.issues.error('business-rule', where, "Reports where type is not 'subject-list' don't have subjects listed");
    }
  });
  for (const population of populations) {
    if (!(group.population ?? []).some((p) => sameCode(p.code, population.code))) {
      ctx.issues.error('business-rule', path, `The MeasureReport does not include a population for the group population '${describe(population.code)}'`);
    }
  }
  if (group.measureScore && isCohort(measure)) {
    ctx.issues.error('business-rule', `${path}.measureScore`, "No measureScore when the scoring of the measure is 'cohort'");
  }
  const stratifiers = definition.stratifier ?? [];
  const matched = new Set<unknown>();
  (group.stratifier ?? []).forEach((stratifier, i) => {
    const definitionOf = stratifiers.find((s) => (stratifier.code ?? []).some((code) => sameCode(s.code, code)));
    if (!definitionOf) {
      ctx.issues.error('business-rule', `${path}.stratifier[${i}]`, 'Group should have a code that matches the group stratifier definition in the measure');
      return;
    }
    matched.add(definitionOf);
  });
  for (const stratifier of stratifiers) {
    if (!matched.has(stratifier)) {
      ctx.issues.error(
        'business-rule',
        path,
        `The MeasureReport does not include a stratifier for the stratifier with code '${describe(stratifier.code)}'${stratifier.id ? ` (id = '${stratifier.id}')` : ''}`,
      );
    }
  }
}

function isCohort(measure: Measure): boolean {
  return (measure.scoring?.coding ?? []).some((c) => c.code === 'cohort');
}

function hasCode(code: CodeableConcept | undefined): boolean {
  return Boolean(code?.coding?.some((c) => c.code) || code?.text);
}

/** Two CodeableConcepts name the same thing: a shared system and code, or (without codings) the same text. */
function sameCode(a: CodeableConcept | undefined, b: CodeableConcept | undefined): boolean {
  if (!a || !b) return false;
  const codings = a.coding ?? [];
  if (codings.length > 0 || (b.coding ?? []).length > 0) {
    return codings.some((x) => x.code !== undefined && (b.coding ?? []).some((y) => y.code === x.code && (y.system ?? '') === (x.system ?? '')));
  }
  return a.text !== undefined && a.text === b.text;
}

function describe(code: CodeableConcept | undefined): string {
  const coding = code?.coding?.find((c) => c.code);
  return coding ? `${coding.system ?? ''}#${coding.code}` : (code?.text ?? '');
}
