import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthApp, testKey, userToken, type AuthTestApp } from '../security/support.js';
import { admit, closeAll, expectAccessible, personContext, screenshot, seedPages, serveInChromium, type Listening } from './support.js';

/** With STEPWISE_AUTH=on, in Chromium: sign in with the identity provider's token, work within its teams. */
describe('signing in with a token from the identity provider, in Chromium', () => {
  let t: AuthTestApp;
  let server: Listening;
  let browser: Browser;
  let idp: Awaited<ReturnType<typeof testKey>>;

  beforeAll(async () => {
    idp = await testKey('ES384');
    t = await startAuthApp({ idpKeys: [idp], serverKey: await testKey('ES384') });
    await seedPages(t);
    await admit(t, 'crisis', { family: 'Crane', reason: 'imminent-risk' });
    await admit(t, 'fd', { family: 'Frost' });
    ({ server, browser } = await serveInChromium(t.app));
  });
  afterAll(() => closeAll(browser, server, t));

  it('refuses a token that does not verify, then signs in with a valid one and shows only its team’s work', async () => {
    const page = await (await personContext(browser)).newPage();
    await page.goto(`${server.url}/app/sign-in`);
    await page.getByLabel('Your token from the identity provider').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.nhsuk-error-summary').waitFor();
    expect(await page.locator('.nhsuk-error-summary a').allTextContents()).toEqual(['The token was not accepted: the token is not a JWT']);
    await expectAccessible(page);
    await screenshot(page, 'sign-in-token-refused');

    const token = await userToken(idp, 'user/*.cruds', { teams: ['crisis-team'], fhirUser: 'Practitioner/nurse-asha' });
    await page.getByLabel('Your token from the identity provider').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/app\/queue$/);
    await page.getByRole('button', { name: 'Claim Triage for Sam Crane' }).waitFor();
    expect(await page.locator('#queue').textContent()).not.toContain('Sam Frost');
    expect(await page.locator('header').textContent()).toContain('Asha Rao');
    await page.getByRole('button', { name: 'Claim Triage for Sam Crane' }).click();
    await page.getByText('You claimed the work').waitFor();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/app\/sign-in$/);
    await page.goto(`${server.url}/app/queue`);
    await page.waitForURL(/\/app\/sign-in$/);
    await page.context().close();
  });
});
