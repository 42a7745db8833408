import type { Measure, Task } from '@medplum/fhirtypes';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStepwiseConformance } from '../../src/fhir/stepwise-profiles.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { upsertAll } from '../../src/store/seed.js';
import { handover, leadsOf, personWithPlan, write } from '../pathway/care-support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { admit, closeAll, expectAccessible, personContext, screenshot, seedPages, serveInChromium, signInAs, type Listening } from './support.js';

const CMHT = 'Community mental health team';
const HOUR = 3_600_000;

/** Handovers awaiting acceptance, and the measures page, in Chromium (development mode, PGlite). */
describe('handovers and measures in Chromium', () => {
  let t: TestApp;
  let server: Listening;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp();
    await seedPages(t);
    await upsertAll(t.store, loadStepwiseConformance().filter((r): r is Measure => r.resourceType === 'Measure'));
    // a person on a crisis plan, handed over twice to the CMHT (one to refuse, one to accept)
    await personWithPlan(t.store);
    await write(t.store, handover('h-refuse', { owner: { reference: 'Organization/cmht' } }));
    await write(t.store, handover('h-accept', { owner: { reference: 'Organization/cmht' } }));
    // two referrals: one triaged an hour after receipt, one still waiting (not due yet)
    const done = await admit(t, 'quick', { family: 'Quick' });
    await admit(t, 'waiting', { family: 'Waiting' });
    t.clock.advance(HOUR);
    const claim = await t.fhir('POST', `Task/${done.id}/$claim`, { resourceType: 'Parameters', parameter: [{ name: 'practitioner', valueReference: { reference: 'Practitioner/nurse-asha' } }] });
    expect(claim.status).toBe(200);
    const outcome = { name: 'output', part: [{ name: 'type', valueCodeableConcept: { coding: [{ system: PATHWAY.taskParameterType, code: 'triage-outcome' }] } }, { name: 'value', valueCodeableConcept: { coding: [{ system: PATHWAY.levelOfSupport, code: 'routine-support' }] } }] };
    const complete = await t.fhir('POST', `Task/${done.id}/$complete`, { resourceType: 'Parameters', parameter: [outcome] });
    expect(complete.status).toBe(200);
    ({ server, browser } = await serveInChromium(t.app));
  });
  afterAll(() => closeAll(browser, server, t));

  it('a handover is refused only with a reason, and accepting it makes the nurse the accountable lead', async () => {
    const page = await (await personContext(browser)).newPage();
    await signInAs(page, server.url, 'Asha Rao', CMHT);
    await page.getByRole('link', { name: 'Handovers' }).click();
    await page.locator('#task-h-refuse').waitFor();
    expect(await page.locator('#task-h-refuse').textContent()).toContain('Continue olanzapine 10mg');
    await expectAccessible(page);
    await screenshot(page, 'handovers');

    const refuse = page.locator('#task-h-refuse');
    await refuse.getByRole('button', { name: /Do not accept/ }).click();
    await page.locator('.nhsuk-error-summary').waitFor();
    expect(await page.locator('.nhsuk-error-summary a').allTextContents()).toEqual(['Enter why your team cannot accept the handover']);
    await expectAccessible(page);
    expect(((await t.store.read('Task', 'h-refuse')) as Task).status).toBe('requested');
    await page.locator('#task-h-refuse').getByLabel('Why your team cannot accept it').fill('No capacity this week; the home treatment team keeps the lead');
    await page.locator('#task-h-refuse').getByRole('button', { name: /Do not accept/ }).click();
    await page.getByText('Handover not accepted').waitFor();
    const refused = (await t.store.read('Task', 'h-refuse')) as Task;
    expect([refused.status, refused.statusReason?.text]).toEqual(['rejected', 'No capacity this week; the home treatment team keeps the lead']);

    await page.locator('#task-h-accept').getByRole('button', { name: /Accept/ }).click();
    await page.getByText('Handover accepted').waitFor();
    const accepted = (await t.store.read('Task', 'h-accept')) as Task;
    expect([accepted.status, accepted.owner?.reference]).toEqual(['accepted', 'Practitioner/nurse-asha']);
    expect(await leadsOf(t.store)).toEqual(['Practitioner/nurse-asha']);
    expect(await page.locator('#task-h-accept').count()).toBe(0);
    await page.context().close();
  });

  it('shows each measure as a chart and tables, computed over the period asked for', async () => {
    const page = await (await personContext(browser)).newPage();
    await signInAs(page, server.url, 'Asha Rao', CMHT);
    await page.goto(`${server.url}/app/measures?from=2026-03-01&to=2026-03-31`);
    const section = page.locator('section#time-to-triage');
    await section.waitFor();
    expect(await section.locator('p.nhsuk-body-l').textContent()).toMatch(/^100\.0% triaged within standard \(1 of 1 cases\); median 60 minutes/);
    expect(await section.locator('svg[role="img"] title').textContent()).toContain('Time to triage');
    const overall = section.locator('table').first().locator('tbody tr').first();
    expect((await overall.locator('th, td').allTextContents()).slice(0, 5)).toEqual(['All', '100.0%', '1', '2', '1']);
    expect(await page.locator('section[id]').count()).toBe(9);
    await expectAccessible(page);
    await screenshot(page, 'measures');

    await page.goto(`${server.url}/app/measures?from=2026-02-30&to=2026-03-31`);
    expect(await page.locator('.nhsuk-error-summary a').allTextContents()).toEqual(['Enter the first day as a date, for example 2026-03-01']);
    await expectAccessible(page);
    await page.context().close();
  });
});
