import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Practitioner, Resource, Task } from '@medplum/fhirtypes';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { admitReferral } from '../../src/pathway/front-door.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { upsertAll } from '../../src/store/seed.js';
import { completeContext, indicator } from '../pathway/builders.js';
import { listen, type TestApp } from '../support/app.js';


// the browser's globals, used inside page.evaluate (the project's types have no DOM library)
declare const document: unknown;
declare const window: object;

/** Debian's chromium (apt-get install chromium; .ci/run installs it when missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export type Listening = Awaited<ReturnType<typeof listen>>;

/** The app on a real port, and a Chromium to browse it (the server is closed again if Chromium does not start). */
export async function serveInChromium(app: TestApp['app']): Promise<{ server: Listening; browser: Browser }> {
  const server = await listen(app);
  try {
    return { server, browser: await launchChromium() };
  } catch (err) {
    await server.close();
    throw err;
  }
}

/** Closes each in turn (browser, server, app), skipping any that the set-up did not get to open. */
export async function closeAll(...opened: ({ close(): Promise<unknown> } | undefined)[]): Promise<void> {
  for (const o of opened) await o?.close();
}

/**
 * A browser context for one person. The pages' CSP allows no inline script, and axe-core is
 * injected as one, so the test context bypasses CSP (the pages' own scripts are files anyway).
 */
export function personContext(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<BrowserContext> {
  return browser.newContext({ viewport, bypassCSP: true });
}

export const NURSES: Practitioner[] = [
  { resourceType: 'Practitioner', id: 'nurse-asha', active: true, name: [{ given: ['Asha'], family: 'Rao' }] },
  { resourceType: 'Practitioner', id: 'nurse-ben', active: true, name: [{ given: ['Ben'], family: 'Okafor' }] },
];

/**
 * A referral admitted at the front door with ids of its own (`pat-<key>`, `sr-<key>`, …): complete
 * by default; `held` leaves out consent and medication, so the Task waits for them.
 */
export async function admit(t: TestApp, key: string, opts: { family: string; held?: boolean; reason?: string } = { family: 'Smith' }): Promise<Task> {
  const ctx = completeContext({
    patient: { name: [{ family: opts.family, given: ['Sam'] }] },
    referral: { reasonCode: opts.reason ? [indicator(opts.reason)] : [{ text: 'Low mood and poor sleep for six weeks' }] },
  });
  const resources = [ctx.patient!, ctx.requester!, ...ctx.related.filter((r) => !opts.held || r.resourceType === 'RiskAssessment'), ctx.referral];
  const renamed = JSON.parse(JSON.stringify(resources).replace(/-1"/g, `-${key}"`)) as Resource[];
  await upsertAll(t.store, renamed);
  return (await admitReferral(t.store, { serviceRequestId: `sr-${key}` }, { clock: t.clock })).task;
}

/** The pathway's rules and teams, and the nurses. */
export async function seedPages(t: TestApp): Promise<void> {
  await seedPathwayData(t.store);
  await upsertAll(t.store, NURSES);
}

/** axe-core (WCAG 2.0, 2.1 and 2.2 A and AA rules) in the page as it is now: no violations. */
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
export async function expectAccessible(page: Page): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; help: string; nodes: { target: unknown }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return result.violations.map((v) => ({ id: v.id, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  expect(violations, `axe on ${page.url()}`).toEqual([]);
}

export const SCREENSHOTS = new URL('../../docs/screenshots/', import.meta.url);

/**
 * Keeps a screenshot in docs/screenshots when UPDATE_SCREENSHOTS is set (`UPDATE_SCREENSHOTS=1 npx
 * vitest run test/web`): an ordinary test run leaves the committed images alone.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!process.env.UPDATE_SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  // the NHS.UK font blocks text until it has loaded: a picture taken sooner shows empty boxes
  await page.evaluate('document.fonts.ready.then(() => undefined)');
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
}

/** Signs in, in development mode, as a nurse for a team (by the labels a person reads). */
export async function signInAs(page: Page, baseUrl: string, nurse: string, team: string): Promise<void> {
  await page.goto(`${baseUrl}/app/sign-in`);
  await page.getByLabel(nurse).check();
  await page.getByLabel(team).check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/app\/queue/);
}
