import type { Task } from '@medplum/fhirtypes';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHWAY } from '../../src/pathway/codes.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { postgresTestDatabase } from '../support/databases.js';
import { admit, closeAll, expectAccessible, personContext, screenshot, seedPages, serveInChromium, signInAs, type Listening } from './support.js';

// the browser's globals, used inside page.evaluate (the project's types have no DOM library)
declare const document: { activeElement: { id: string; tagName: string; textContent: string | null } | null; documentElement: { scrollWidth: number } };
declare const location: { hash: string };

const FRONT_DOOR = 'Front-door team (single point of access)';

/**
 * The triage pages in real headless Chromium against the server on a real port (development mode,
 * PGlite): sign in, the queue, claim, decide, redirect, a lost race for a claim; axe-core on each
 * page; the keyboard alone; a phone's width. Screenshots go to docs/screenshots/.
 */
describe('the triage pages in Chromium', () => {
  let t: TestApp;
  let server: Listening;
  let browser: Browser;
  const tasks: Record<string, Task> = {};

  beforeAll(async () => {
    t = await startTestApp();
    await seedPages(t);
    tasks.adams = await admit(t, 'adams', { family: 'Adams' });
    tasks.brown = await admit(t, 'brown', { family: 'Brown', held: true });
    tasks.cole = await admit(t, 'cole', { family: 'Cole', reason: 'out-of-scope' });
    tasks.evans = await admit(t, 'evans', { family: 'Evans' });
    tasks.ford = await admit(t, 'ford', { family: 'Ford' });
    ({ server, browser } = await serveInChromium(t.app));
  });
  afterAll(() => closeAll(browser, server, t));

  const read = async (id: string) => (await t.store.read('Task', id)) as Task;
  const row = (page: Page, family: string) => page.locator('#queue tbody tr', { hasText: `Triage for Sam ${family}` });

  it('a triage nurse signs in, sees the queue, claims, records a decision and redirects', async () => {
    const page = await (await personContext(browser)).newPage();
    await page.goto(`${server.url}/app/queue`);
    await page.waitForURL(/\/app\/sign-in$/);
    await expectAccessible(page);
    await screenshot(page, 'sign-in');
    await signInAs(page, server.url, 'Asha Rao', FRONT_DOOR);

    // the queue: priority, due time, on hold with what is missing
    await expect.poll(() => page.locator('h1').textContent()).toContain(FRONT_DOOR);
    await expect.poll(() => row(page, 'Brown').textContent()).toMatch(/On hold.*Waiting for: .*consent/is);
    expect(await row(page, 'Adams').textContent()).toMatch(/Routine.*Triage for Sam Adams.*Waiting to be claimed/s);
    await expectAccessible(page);
    await screenshot(page, 'queue');

    // claim
    await page.getByRole('button', { name: 'Claim Triage for Sam Adams' }).click();
    await page.getByText('You claimed the work').waitFor();
    expect(await row(page, 'Adams').textContent()).toContain('Held by you');
    expect((await read(tasks.adams.id!)).owner?.reference).toBe('Practitioner/nurse-asha');

    // the referral: risk, the rules' decision and rationale, history
    await page.getByRole('link', { name: 'Triage for Sam Adams' }).click();
    await page.getByRole('heading', { name: /Sam Adams/ }).waitFor();
    const decisions = page.locator('.nhsuk-card');
    expect(await decisions.first().textContent()).toMatch(/Rule .*rule set version/);
    expect(await page.locator('#risk-flags').textContent()).toContain('Risk assessment: low');
    expect(await page.locator('table').last().textContent()).toContain('$claim');
    await expectAccessible(page);
    await screenshot(page, 'referral');

    // the decision: both parts required, named in the error summary
    await page.getByRole('link', { name: 'Record the triage decision' }).click();
    await page.getByRole('button', { name: 'Record decision' }).click();
    const summary = page.locator('.nhsuk-error-summary');
    await summary.waitFor();
    expect(await summary.locator('a').allTextContents()).toEqual(['Select the level of support', 'Enter the rationale for the decision']);
    expect(await page.title()).toMatch(/^Error: /);
    await expectAccessible(page);
    await summary.getByRole('link', { name: 'Enter the rationale for the decision' }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('rationale');
    await page.getByLabel('Intensive input').check();
    await page.getByLabel('Rationale').fill('Six weeks of low mood with poor sleep and rising distress: needs more than routine support.');
    await page.getByRole('button', { name: 'Record decision' }).click();
    await page.getByText('Triage decision recorded').waitFor();
    const decided = await read(tasks.adams.id!);
    expect(decided.status).toBe('completed');
    const outcomes = decided.output!.filter((o) => o.type?.coding?.[0]?.code === 'triage-outcome');
    expect(outcomes.map((o) => o.valueCodeableConcept?.coding?.[0]?.code)).toEqual(['intensive-input']);
    expect(decided.note?.[0].text).toContain('rising distress');

    // the redirect: cannot be sent without its rationale, signposting and urgent-route confirmation
    await page.goto(`${server.url}/app/queue`);
    await page.getByRole('button', { name: 'Claim Triage for Sam Cole' }).click();
    await page.getByText('You claimed the work').waitFor();
    await page.getByRole('link', { name: 'Triage for Sam Cole' }).click();
    await page.getByRole('link', { name: 'Redirect to another service' }).click();
    await page.getByRole('button', { name: 'Send redirect' }).click();
    await summary.waitFor();
    expect(await summary.locator('a').allTextContents()).toEqual([
      'Enter the rationale for the redirect',
      'Enter the service the person is signposted to',
      'Confirm that the urgent escalation routes were given',
    ]);
    await expectAccessible(page);
    await screenshot(page, 'redirect-errors');
    await page.getByLabel('Rationale').fill('Debt advice is the need; no mental health need identified at triage.');
    await page.getByLabel('Service the person is signposted to').fill('Citizens Advice Leeds');
    await page.getByRole('button', { name: 'Send redirect' }).click();
    await summary.waitFor();
    expect(await summary.locator('a').allTextContents()).toEqual(['Confirm that the urgent escalation routes were given']);
    expect(await page.getByLabel('Service the person is signposted to').inputValue()).toBe('Citizens Advice Leeds');
    expect((await read(tasks.cole.id!)).status).toBe('received');
    await page.getByLabel(/I gave the person .* urgent escalation routes/).check();
    await page.getByRole('button', { name: 'Send redirect' }).click();
    await page.getByText('Redirect sent').waitFor();
    const redirected = await read(tasks.cole.id!);
    expect(redirected.status).toBe('completed');
    const parts = redirected.output!.filter((o) => o.type?.coding?.[0]?.system === PATHWAY.redirectOutput);
    expect(parts.map((o) => [o.type!.coding![0].code, o.valueString ?? o.valueBoolean])).toEqual([
      ['rationale', 'Debt advice is the need; no mental health need identified at triage.'],
      ['signposted-to', 'Citizens Advice Leeds'],
      ['escalation-routes-given', true],
    ]);
    await page.context().close();
  });

  it('two people claim one Task at once: exactly one wins, the other is told who has it', async () => {
    const asha = await (await personContext(browser)).newPage();
    const ben = await (await personContext(browser)).newPage();
    await signInAs(asha, server.url, 'Asha Rao', FRONT_DOOR);
    await signInAs(ben, server.url, 'Ben Okafor', FRONT_DOOR);
    const claim = (page: Page) => page.getByRole('button', { name: 'Claim Triage for Sam Evans' });
    await Promise.all([claim(asha).waitFor(), claim(ben).waitFor()]);
    await Promise.all([claim(asha).click(), claim(ben).click()]);
    const outcome = async (page: Page) => {
      await page.locator('.nhsuk-notification-banner').waitFor();
      return (await page.locator('.nhsuk-notification-banner').textContent()) ?? '';
    };
    const [a, b] = await Promise.all([outcome(asha), outcome(ben)]);
    const won = [a, b].filter((text) => text.includes('You claimed the work'));
    const lost = [a, b].filter((text) => /(Asha Rao|Ben Okafor) claimed this triage before you/.test(text));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const winner = a.includes('You claimed') ? 'nurse-asha' : 'nurse-ben';
    expect((await read(tasks.evans.id!)).owner?.reference).toBe(`Practitioner/${winner}`);
    expect(lost[0]).toContain(winner === 'nurse-asha' ? 'Asha Rao' : 'Ben Okafor');
    const loser = winner === 'nurse-asha' ? ben : asha;
    await expectAccessible(loser);
    await screenshot(loser, 'claim-lost');
    await asha.context().close();
    await ben.context().close();
  });

  it('is usable with the keyboard alone: skip link first, then claim and release', async () => {
    const page = await (await personContext(browser)).newPage();
    await signInAs(page, server.url, 'Ben Okafor', FRONT_DOOR);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to main content');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#maincontent');
    // tab on until the claim button for Sam Ford has focus, then press it
    const focused = () => page.evaluate(() => (document.activeElement?.tagName === 'BUTTON' ? document.activeElement.textContent : ''));
    const tabTo = async (name: string) => {
      for (let i = 0; i < 80 && (await focused()) !== name; i++) await page.keyboard.press('Tab');
      expect(await focused()).toBe(name);
    };
    await tabTo('Claim Triage for Sam Ford');
    await page.keyboard.press('Enter');
    await page.getByText('You claimed the work').waitFor();
    expect((await read(tasks.ford.id!)).owner?.reference).toBe('Practitioner/nurse-ben');
    await tabTo('Release Triage for Sam Ford');
    await page.keyboard.press('Enter');
    await page.getByText('You released the work').waitFor();
    expect((await read(tasks.ford.id!)).owner?.reference).toBe('Organization/front-door-team');
    await page.context().close();
  });

  it('says, politely, when the queue has changed since it was opened, and reloads only when asked', async () => {
    const page = await (await personContext(browser)).newPage();
    await page.clock.install();
    await signInAs(page, server.url, 'Ben Okafor', FRONT_DOOR);
    await row(page, 'Brown').waitFor();
    const updates = page.locator('#queue-updates');
    expect(await updates.getAttribute('aria-live')).toBe('polite');
    // nothing new: the page asks, and says nothing
    const asked = page.waitForResponse((r) => r.url().includes('/app/queue/state'));
    await page.clock.runFor(31_000);
    expect(await (await asked).json()).toEqual({ rows: expect.arrayContaining([`${tasks.brown.id}/${(await read(tasks.brown.id!)).meta?.versionId}`]) });
    expect(await updates.textContent()).toBe('');
    await admit(t, 'gale', { family: 'Gale' });
    await page.clock.runFor(31_000);
    await updates.getByRole('link', { name: 'Reload the queue' }).waitFor();
    expect(await row(page, 'Gale').count()).toBe(0);
    await expectAccessible(page);
    await updates.getByRole('link', { name: 'Reload the queue' }).click();
    await row(page, 'Gale').waitFor();
    await page.context().close();
  });

  it('fits a phone: 390 px wide, no sideways scrolling, still accessible', async () => {
    const page = await (await personContext(browser, { width: 390, height: 844 })).newPage();
    await signInAs(page, server.url, 'Asha Rao', FRONT_DOOR);
    await row(page, 'Brown').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await expectAccessible(page);
    await screenshot(page, 'queue-phone');
    await page.getByRole('link', { name: 'Triage for Sam Brown' }).click();
    await page.getByRole('heading', { name: /Sam Brown/ }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await expectAccessible(page);
    await page.context().close();
  });
});

/** The race for a claim where it matters: PostgreSQL, several connections, real row locks. */
describe('two people claim one Task at once, on PostgreSQL', () => {
  let t: TestApp;
  let server: Listening;
  let browser: Browser;
  let task: Task;

  beforeAll(async () => {
    t = await startTestApp(() => postgresTestDatabase(10));
    await seedPages(t);
    task = await admit(t, 'race', { family: 'Race' });
    ({ server, browser } = await serveInChromium(t.app));
  });
  afterAll(() => closeAll(browser, server, t));

  it('exactly one wins and the other is told who has it', async () => {
    const pages = await Promise.all([personContext(browser), personContext(browser)].map(async (c) => (await c).newPage()));
    await signInAs(pages[0], server.url, 'Asha Rao', FRONT_DOOR);
    await signInAs(pages[1], server.url, 'Ben Okafor', FRONT_DOOR);
    const claim = (page: Page) => page.getByRole('button', { name: 'Claim Triage for Sam Race' });
    await Promise.all(pages.map((p) => claim(p).waitFor()));
    await Promise.all(pages.map((p) => claim(p).click()));
    const banners = await Promise.all(
      pages.map(async (p) => {
        await p.locator('.nhsuk-notification-banner').waitFor();
        return (await p.locator('.nhsuk-notification-banner').textContent()) ?? '';
      }),
    );
    expect(banners.filter((b) => b.includes('You claimed the work'))).toHaveLength(1);
    expect(banners.filter((b) => / claimed this triage before you/.test(b))).toHaveLength(1);
    const owner = ((await t.store.read('Task', task.id!)) as Task).owner?.reference;
    expect(owner).toBe(banners[0].includes('You claimed') ? 'Practitioner/nurse-asha' : 'Practitioner/nurse-ben');
    await Promise.all(pages.map((p) => p.context().close()));
  });
});
