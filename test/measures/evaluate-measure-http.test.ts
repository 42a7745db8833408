import type { Measure, MeasureReport, OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStepwiseConformance } from '../../src/fhir/stepwise-profiles.js';
import { serverValidator } from '../../src/fhir/server-validator.js';
import { MEASURES } from '../../src/measures/definitions.js';
import { evaluateMeasure } from '../../src/measures/evaluate.js';
import { TaskCode } from '../../src/pathway/codes.js';
import { PATHWAY_TEAMS } from '../../src/pathway/seed-rules.js';
import type { Principal } from '../../src/security/principal.js';
import { parseScopes } from '../../src/security/scopes.js';
import { upsertAll } from '../../src/store/seed.js';
import { listen, startTestApp, type TestApp } from '../support/app.js';
import { counts, EVALUATED_AT, strataValues, task } from './support.js';

/**
 * Measure/[id]/$evaluate-measure over HTTP (GET and POST, on a real port too), its refusals, and a
 * team's view: a restricted principal counts only its own teams' cases.
 */
const CMHT = 'Organization/cmht';
const CRISIS = 'Organization/crisis-team';
let a: TestApp;

beforeAll(async () => {
  a = await startTestApp();
  await upsertAll(a.store, [...PATHWAY_TEAMS, ...loadStepwiseConformance().filter((r): r is Measure => r.resourceType === 'Measure')]);
  await a.store.update({ resourceType: 'Measure', id: 'not-stepwise', status: 'draft' });
  // cmht: one triaged within standard (60 min), one waiting past its due time; crisis: one triaged late (300 min)
  const triage = (id: string, team: string, f: Partial<Parameters<typeof task>[2]>) =>
    a.store.update(task(id, TaskCode.triage, { patient: `Patient/${id}`, team, priority: 'urgent', status: 'completed', authored: '2026-03-02T09:00:00Z', due: '2026-03-02T13:00:00Z', ...f }));
  await triage('a1', CMHT, { ended: '2026-03-02T10:00:00Z' });
  await triage('a2', CMHT, { status: 'on-hold' });
  await triage('b1', CRISIS, { ended: '2026-03-02T14:00:00Z' });
  a.clock.set(EVALUATED_AT);
});
afterAll(() => a?.close());

const PATH = 'Measure/time-to-triage/$evaluate-measure';
const body = async <T>(res: Response): Promise<T> => (await res.json()) as T;
const issueOf = async (res: Response) => (await body<OperationOutcome>(res)).issue?.[0];

describe('GET and POST', () => {
  it('GET with periodStart and periodEnd answers a summary MeasureReport', async () => {
    const res = await a.fhir('GET', `${PATH}?periodStart=2026-03-01&periodEnd=2026-03-31`);
    expect(res.status).toBe(200);
    const report = await body<MeasureReport>(res);
    expect(report).toMatchObject({ resourceType: 'MeasureReport', status: 'complete', type: 'summary', period: { start: '2026-03-01T00:00:00.000Z', end: '2026-03-31T22:59:59.000Z' } });
    expect(report.measure).toMatch(/\/Measure\/time-to-triage\|0\.1\.0$/);
    // a1 within; a2 and b1 late: 1 / 3
    expect(counts(report)).toEqual({ ip: 3, den: 3, excl: 0, num: 1, score: 0.3333 });
    expect(strataValues(report, 'team')).toEqual([CMHT, CRISIS]);
  });

  it('POST with a Parameters body, subject as a reference: an individual report', async () => {
    const res = await a.fhir('POST', PATH, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'periodStart', valueDate: '2026-03-01' },
        { name: 'periodEnd', valueDateTime: '2026-04-01T00:00:00+01:00' },
        { name: 'subject', valueReference: { reference: 'Patient/b1' } },
        { name: 'reportType', valueCode: 'subject' },
      ],
    });
    expect(res.status).toBe(200);
    const report = await body<MeasureReport>(res);
    expect(report.type).toBe('individual');
    expect(counts(report)).toEqual({ ip: 1, den: 1, excl: 0, num: 0, score: 0 });
  });

  it('the team parameter limits the report to one team', async () => {
    const report = await body<MeasureReport>(await a.fhir('GET', `${PATH}?periodStart=2026-03-01&periodEnd=2026-03-31&team=${CMHT}`));
    expect(counts(report)).toEqual({ ip: 2, den: 2, excl: 0, num: 1, score: 0.5 });
  });

  it('is served on a real port', async () => {
    const server = await listen(a.app);
    try {
      const res = await fetch(`${server.url}/fhir/${PATH}?periodStart=2026-03-01&periodEnd=2026-03-31`, { headers: { Host: 'stepwise.test' } });
      expect(res.status).toBe(200);
      expect(counts(await body<MeasureReport>(res)).ip).toBe(3);
    } finally {
      await server.close();
    }
  });
});

describe('refusals', () => {
  it.each([
    ['periodEnd missing', `${PATH}?periodStart=2026-03-01`, 'periodEnd'],
    ['periodStart not a date', `${PATH}?periodStart=March&periodEnd=2026-03-31`, 'periodStart'],
    ['a dateTime without a zone', `${PATH}?periodStart=2026-03-01T00:00:00&periodEnd=2026-03-31`, 'periodStart'],
    ['periodEnd before periodStart', `${PATH}?periodStart=2026-03-31&periodEnd=2026-03-01`, 'periodEnd'],
    ['subject not a Patient', `${PATH}?periodStart=2026-03-01&periodEnd=2026-03-31&subject=Group/1`, 'subject'],
    ['team not a reference', `${PATH}?periodStart=2026-03-01&periodEnd=2026-03-31&team=a%20b`, 'team'],
    ['a report type Stepwise does not offer', `${PATH}?periodStart=2026-03-01&periodEnd=2026-03-31&reportType=subject-list`, 'reportType'],
    ['reportType subject without the subject', `${PATH}?periodStart=2026-03-01&periodEnd=2026-03-31&reportType=subject`, 'subject'],
    ['an R4 parameter Stepwise does not offer', `${PATH}?periodStart=2026-03-01&periodEnd=2026-03-31&practitioner=Practitioner/1`, 'practitioner'],
  ])('%s: 400 at its parameter', async (_what, path, expression) => {
    const res = await a.fhir('GET', path);
    expect(res.status).toBe(400);
    expect((await issueOf(res))?.expression).toEqual([expression]);
  });

  it('a POST parameter without a usable value: 400 at its place', async () => {
    const res = await a.fhir('POST', PATH, { resourceType: 'Parameters', parameter: [{ name: 'periodStart', valueDate: '2026-03-01' }, { name: 'periodEnd', valueString: 'soon' }] });
    expect(res.status).toBe(400);
    expect((await issueOf(res))?.expression).toEqual(['Parameters.parameter[1]']);
  });

  it('a body that is not Parameters: 400', async () => {
    expect((await a.fhir('POST', PATH, { resourceType: 'Patient' })).status).toBe(400);
  });

  it('an unknown Measure: 404; a Measure with no Stepwise definition: 422', async () => {
    expect((await a.fhir('GET', 'Measure/nope/$evaluate-measure?periodStart=2026-03-01&periodEnd=2026-03-31')).status).toBe(404);
    const res = await a.fhir('GET', 'Measure/not-stepwise/$evaluate-measure?periodStart=2026-03-01&periodEnd=2026-03-31');
    expect(res.status).toBe(422);
    expect((await issueOf(res))?.expression).toEqual(['Measure']);
  });

  it('every report is valid R4 and matches its Measure, with cases and without', async () => {
    const validator = serverValidator();
    for (const { id } of MEASURES) {
      for (const query of ['periodStart=2026-03-01&periodEnd=2026-03-31', 'periodStart=2025-01-01&periodEnd=2025-01-31', 'periodStart=2026-03-01&periodEnd=2026-03-31&subject=Patient/a1']) {
        const report = await body<MeasureReport>(await a.fhir('GET', `Measure/${id}/$evaluate-measure?${query}`));
        const errors = validator.validate(report).filter((i) => i.severity === 'error' || i.severity === 'fatal');
        expect(errors.map((i) => `${id} ${query}: ${i.diagnostics}`)).toEqual([]);
      }
    }
  });

  it('the CapabilityStatement offers the operation on Measure', async () => {
    const cs = await body<{ rest: { resource: { type: string; operation?: { name: string }[] }[] }[] }>(await a.fhir('GET', 'metadata'));
    const measure = cs.rest[0].resource.find((r) => r.type === 'Measure');
    expect(measure?.operation?.map((o) => o.name)).toContain('evaluate-measure');
  });
});

describe("a team's view", () => {
  const nurseOf = (...teams: string[]): Principal => ({ kind: 'user', clientId: 'web', user: 'nurse', teams, scopes: parseScopes('user/*.rs'), scope: 'user/*.rs' });
  const march = { periodStart: '2026-03-01', periodEnd: '2026-03-31' };

  it("counts only the team's own cases, and shows only its own strata", async () => {
    const report = await evaluateMeasure(a.store.for(nurseOf('cmht')), 'time-to-triage', march);
    expect(counts(report)).toEqual({ ip: 2, den: 2, excl: 0, num: 1, score: 0.5 });
    expect(strataValues(report, 'team')).toEqual([CMHT]);
  });

  it("asking for another team's cases finds none; a principal with no team sees nothing", async () => {
    expect(counts(await evaluateMeasure(a.store.for(nurseOf('cmht')), 'time-to-triage', { ...march, team: CRISIS })).ip).toBe(0);
    expect(counts(await evaluateMeasure(a.store.for(nurseOf()), 'time-to-triage', march)).ip).toBe(0);
  });

  it("a case counted for the team through its owner's organisation is counted only when the team may read it", async () => {
    await a.store.update({ resourceType: 'PractitionerRole', id: 'dr-cmht', organization: { reference: CMHT } });
    const esc = task('esc-px', TaskCode.escalation, { patient: 'Patient/px', owner: 'PractitionerRole/dr-cmht', priority: 'asap', status: 'completed', authored: '2026-03-03T09:00:00Z', due: '2026-03-03T13:00:00Z' });
    await a.store.update(esc);
    const review = () => evaluateMeasure(a.store.for(nurseOf('cmht')), 'time-to-clinical-review', march);
    // the trust sees it under cmht; cmht's nurse cannot read it (px is on no cmht caseload)
    expect(counts(await evaluateMeasure(a.store, 'time-to-clinical-review', { ...march, team: CMHT })).ip).toBe(1);
    expect(counts(await review()).ip).toBe(0);
    // once cmht has an open Task for px, px is on its caseload and the escalation is readable
    await a.store.update(task('px-contact', TaskCode.contact, { patient: 'Patient/px', team: CMHT, status: 'ready', authored: '2026-03-03T10:00:00Z' }));
    expect(counts(await review()).ip).toBe(1);
  });

  it('a principal of every team (*) sees the whole trust', async () => {
    expect(counts(await evaluateMeasure(a.store.for(nurseOf('*')), 'time-to-triage', march)).ip).toBe(3);
  });
});
