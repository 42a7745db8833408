import type { AuditEvent, Provenance, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { startAuthApp, testKey, userToken, type AuthTestApp } from '../security/support.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { admit, seedPages } from './support.js';

const ORIGIN = 'http://stepwise.test';

/** A browser's part in the conversation, by hand: cookies kept between requests, forms posted. */
class Visitor {
  readonly cookies = new Map<string, string>();
  constructor(private readonly t: TestApp) {}

  async request(path: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { Cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...init.headers };
    if (init.form) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const res = await this.t.app.request(`${ORIGIN}${path}`, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body: init.form ? new URLSearchParams(init.form).toString() : undefined });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (value) this.cookies.set(name, value);
      else this.cookies.delete(name);
    }
    return res;
  }

  /** The CSRF token of the first form on a page. */
  async csrfOf(path: string): Promise<string> {
    const html = await (await this.request(path)).text();
    return /name="csrf" value="([^"]+)"/.exec(html)![1];
  }
}

describe('the pages over HTTP, development mode', () => {
  let t: TestApp;
  let task: Task;
  beforeAll(async () => {
    t = await startTestApp();
    await seedPages(t);
    task = await admit(t, 'http', { family: 'Hughes' });
  });
  afterAll(() => t.close());

  const signedIn = async () => {
    const v = new Visitor(t);
    const csrf = await v.csrfOf('/app/sign-in');
    const res = await v.request('/app/sign-in', { form: { csrf, practitioner: 'Practitioner/nurse-asha', team: 'front-door-team' } });
    expect(res.status).toBe(303);
    return v;
  };

  it('sends a visitor who has not signed in to the sign-in page', async () => {
    const res = await new Visitor(t).request('/app/queue');
    expect([res.status, res.headers.get('Location')]).toEqual([303, '/app/sign-in']);
  });

  it('keeps the session in a Secure, HttpOnly, SameSite=Strict cookie scoped to the pages', async () => {
    const v = new Visitor(t);
    const csrf = await v.csrfOf('/app/sign-in');
    const res = await v.request('/app/sign-in', { form: { csrf, practitioner: 'Practitioner/nurse-asha', team: 'front-door-team' } });
    const session = res.headers.getSetCookie().find((c) => c.startsWith('stepwise-session='))!;
    expect(session.split('; ').slice(1).sort()).toEqual(['HttpOnly', 'Path=/app', 'SameSite=Strict', 'Secure']);
    expect((await v.request('/app/queue')).status).toBe(200);
  });

  it('refuses a sign-in form without its CSRF token, and names what is missing from one with it', async () => {
    const v = new Visitor(t);
    await v.csrfOf('/app/sign-in');
    expect((await v.request('/app/sign-in', { form: { practitioner: 'Practitioner/nurse-asha', team: 'front-door-team' } })).status).toBe(403);
    const csrf = await v.csrfOf('/app/sign-in');
    const res = await v.request('/app/sign-in', { form: { csrf, practitioner: 'Practitioner/nobody' } });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('<a href="#practitioner">Select who you are</a>');
    expect(html).toContain('<a href="#team">Select the team whose queue you are working</a>');
  });

  it('refuses a POST without the session’s CSRF token, or from another site, and changes nothing', async () => {
    const v = await signedIn();
    expect((await v.request(`/app/tasks/${task.id}/claim`, { form: {} })).status).toBe(403);
    expect((await v.request(`/app/tasks/${task.id}/claim`, { form: { csrf: 'x'.repeat(32) } })).status).toBe(403);
    const csrf = await v.csrfOf('/app/queue');
    expect((await v.request(`/app/tasks/${task.id}/claim`, { form: { csrf }, headers: { Origin: 'https://evil.example' } })).status).toBe(403);
    expect((await v.request(`/app/tasks/${task.id}/claim`, { form: { csrf }, headers: { Origin: 'not a url' } })).status).toBe(403);
    expect(((await t.store.read('Task', task.id!)) as Task).meta?.versionId).toBe(task.meta?.versionId);
  });

  it('writes through the pipeline: a claim leaves its Provenance and AuditEvent naming the nurse and the pages', async () => {
    const v = await signedIn();
    const csrf = await v.csrfOf('/app/queue');
    const res = await v.request(`/app/tasks/${task.id}/claim`, { form: { csrf } });
    expect([res.status, res.headers.get('Location')]).toEqual([303, '/app/queue?done=claimed']);
    const claimed = (await t.store.read('Task', task.id!)) as Task;
    expect(claimed.owner?.reference).toBe('Practitioner/nurse-asha');
    const provenance = (await t.store.search(parseSearch('Provenance', [['target', `Task/${task.id}`]]))).matches as Provenance[];
    const made = provenance.find((p) => p.target?.[0].reference === `Task/${task.id}/_history/${claimed.meta?.versionId}`)!;
    expect(made.activity?.text).toBe('$claim');
    expect(made.agent?.[0].who?.display).toContain('Asha Rao (Practitioner/nurse-asha)');
    const events = (await t.store.search(parseSearch('AuditEvent', [['entity', `Task/${task.id}`], ['_count', '50']]))).matches as AuditEvent[];
    expect(events.some((e) => JSON.stringify(e).includes('"page"') && e.agent?.some((a) => a.who?.display?.includes('Asha Rao')))).toBe(true);
  });

  it('serves pages with a Content-Security-Policy that allows no inline script or style', async () => {
    const v = await signedIn();
    const csp = (await v.request('/app/queue')).headers.get('Content-Security-Policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('serves the NHS.UK frontend from node_modules under /app/assets, and nothing else', async () => {
    const v = new Visitor(t);
    const css = await v.request('/app/assets/nhsuk-frontend.min.css');
    expect([css.status, css.headers.get('Content-Type')]).toEqual([200, 'text/css; charset=utf-8']);
    const text = await css.text();
    expect(text).toContain('url(/app/assets/images/');
    expect(text).not.toContain('url(/assets/');
    expect((await v.request('/app/assets/images/favicon.svg')).status).toBe(200);
    expect((await v.request('/app/assets/init.js')).status).toBe(200);
    expect((await v.request('/app/assets/images/..%2f..%2f..%2fpackage.json')).status).toBe(404);
    expect((await v.request('/app/assets/package.json')).status).toBe(404);
  });

  it('offers the triage decision and the redirect for a triage Task only', async () => {
    const held = await admit(t, 'held', { family: 'Hale', held: true });
    const [call] = (await t.store.search(parseSearch('Task', [['part-of', `Task/${held.id}`]]))).matches as Task[];
    const v = await signedIn();
    const res = await v.request(`/app/referrals/${call.id}/decide`);
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('This is a call to the referrer, not a triage');
    const csrf = await v.csrfOf('/app/queue');
    expect((await v.request(`/app/referrals/${call.id}/redirect`, { form: { csrf, 'redirect-rationale': 'x', 'signposted-to': 'y', 'escalation-routes-given': 'yes' } })).status).toBe(409);
    expect(((await t.store.read('Task', call.id!)) as Task).status).toBe(call.status);
  });

  it('answers an unknown page, or a referral nobody has, with an HTML page and 404', async () => {
    const v = await signedIn();
    const missing = await v.request('/app/referrals/no-such-task');
    expect([missing.status, missing.headers.get('Content-Type')]).toEqual([404, 'text/html; charset=UTF-8']);
    expect((await v.request('/app/nowhere')).status).toBe(404);
  });
});

describe('the queue views, by the server’s clock', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await seedPages(t);
  });
  afterAll(() => t.close());

  it('marks work past its due time as overdue, lists it in the overdue view, and names the holders in a referral’s history', async () => {
    const late = await admit(t, 'late', { family: 'Late' });
    t.clock.advance(25 * 3_600_000); // the senior review's 24 hours have passed
    await admit(t, 'fresh', { family: 'Fresh' });
    const v = new Visitor(t);
    const csrf = await v.csrfOf('/app/sign-in');
    await v.request('/app/sign-in', { form: { csrf, practitioner: 'Practitioner/nurse-ben', team: 'front-door-team' } });
    const rowOf = (html: string, family: string) => html.split('<tr').find((r) => r.includes(`Triage for Sam ${family}`)) ?? '';
    const open = await (await v.request('/app/queue')).text();
    expect(rowOf(open, 'Late')).toContain('>Overdue<');
    expect(rowOf(open, 'Fresh')).not.toContain('>Overdue<');
    const overdue = await (await v.request('/app/queue?view=overdue')).text();
    expect([rowOf(overdue, 'Late') !== '', rowOf(overdue, 'Fresh') !== '']).toEqual([true, false]);
    await v.request(`/app/tasks/${late.id}/claim`, { form: { csrf: await v.csrfOf('/app/queue') } });
    const history = await (await v.request(`/app/referrals/${late.id}`)).text();
    // the view is in the audit trail as a read of the referral, by the nurse, about the person
    const viewed = ((await t.store.search(parseSearch('AuditEvent', [['entity', `Task/${late.id}`], ['subtype', 'read'], ['_count', '50']]))).matches as AuditEvent[]).filter((e) =>
      e.entity?.some((x) => x.name === `page /app/referrals/${late.id}`),
    );
    expect(viewed).toHaveLength(1);
    expect(viewed[0].agent?.[0].who?.display).toContain('Ben Okafor');
    expect(viewed[0].entity?.some((x) => x.what?.reference === 'Patient/pat-late')).toBe(true);
    expect(history).toContain('<td class="nhsuk-table__cell">Ben Okafor</td>');
    expect(history).toContain('<td class="nhsuk-table__cell">Front-door team (single point of access)</td>');
  });
});

describe('a long queue', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await seedPages(t);
    for (let i = 0; i < 30; i++) await admit(t, `many${i}`, { family: `Many${i}` });
  });
  afterAll(() => t.close());

  it('comes 25 rows a page, the next page by a link that neither repeats nor skips a Task', async () => {
    const v = new Visitor(t);
    const csrf = await v.csrfOf('/app/sign-in');
    await v.request('/app/sign-in', { form: { csrf, practitioner: 'Practitioner/nurse-ben', team: 'front-door-team' } });
    const tasksOf = (html: string) => [...html.matchAll(/data-task="([^"]+)"/g)].map((m) => m[1]);
    const first = await (await v.request('/app/queue')).text();
    const next = /<a href="([^"]+)">Next page<\/a>/.exec(first)![1].replaceAll('&amp;', '&');
    // a referral arriving between the pages shifts nothing
    await admit(t, 'between', { family: 'Between' });
    const second = await (await v.request(next)).text();
    expect(tasksOf(first)).toHaveLength(25);
    const all = [...tasksOf(first), ...tasksOf(second)];
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(31); // the thirty, and the newcomer (same rank and due time, later: last)
  });
});

describe('the pages with authentication on: the identity provider’s token, and its compartment', () => {
  let t: AuthTestApp;
  let frontDoor: Task;
  let idp: Awaited<ReturnType<typeof testKey>>;
  beforeAll(async () => {
    idp = await testKey('ES384');
    t = await startAuthApp({ idpKeys: [idp], serverKey: await testKey('ES384') });
    await seedPages(t);
    frontDoor = await admit(t, 'fd', { family: 'Frost' });
    await admit(t, 'crisis', { family: 'Crane', reason: 'imminent-risk' });
  });
  afterAll(() => t.close());

  const signIn = async (token: string) => {
    const v = new Visitor(t);
    const csrf = await v.csrfOf('/app/sign-in');
    return { v, res: await v.request('/app/sign-in', { form: { csrf, token } }) };
  };
  const nurse = (teams: string[], extra = {}) => userToken(idp, 'user/*.cruds', { teams, fhirUser: 'Practitioner/nurse-asha', ...extra });

  it('signs a user in with a valid token, and shows only what the token could read', async () => {
    const { v, res } = await signIn(await nurse(['crisis-team']));
    expect([res.status, res.headers.get('Location')]).toEqual([303, '/app/queue']);
    const queue = await (await v.request('/app/queue')).text();
    expect(queue).toContain('Sam Crane');
    expect(queue).not.toContain('Sam Frost');
    // the front door's referral is outside the crisis team's compartment: as over the API, 404
    expect((await v.request(`/app/referrals/${frontDoor.id}`)).status).toBe(404);
    expect((await t.as(await nurse(['crisis-team']), 'GET', `Task/${frontDoor.id}`)).status).toBe(404);
  });

  it('reads for a page only the types the token’s scopes allow: no names without Patient.r, and says what it left out', async () => {
    const { v } = await signIn(await userToken(idp, 'user/Task.rus', { teams: ['crisis-team'], fhirUser: 'Practitioner/nurse-asha' }));
    const queue = await (await v.request('/app/queue')).text();
    expect(queue).toContain('Triage for person not known');
    expect(queue).not.toContain('Sam Crane');
    const crisis = /data-task="([^"]+)"/.exec(queue)![1];
    const referral = await (await v.request(`/app/referrals/${crisis}`)).text();
    expect(referral).toContain('Your sign-in does not allow reading ServiceRequest, Patient, Flag, RiskAssessment, Provenance, Practitioner, Organization');
    expect(referral).not.toContain('Sam Crane');
    // and what the scopes do not allow at all is refused, as over the API
    const { v: reader } = await signIn(await userToken(idp, 'user/Patient.rs', { teams: ['crisis-team'], fhirUser: 'Practitioner/nurse-asha' }));
    expect((await reader.request('/app/queue')).status).toBe(403);
  });

  it('refuses a token that does not verify, naming why, and keeps no session', async () => {
    const other = await testKey('ES384');
    const { v, res } = await signIn(await userToken(other, 'user/*.cruds', { teams: ['cmht'] }));
    expect(res.status).toBe(422);
    expect(await res.text()).toMatch(/<a href="#token">The token was not accepted: [^<]+<\/a>/);
    expect(v.cookies.has('stepwise-session')).toBe(false);
    const empty = await signIn('');
    expect(empty.res.status).toBe(422);
    // a token too long for a cookie is refused at once, not silently dropped by the browser
    const long = await signIn(await nurse(['crisis-team'], { padding: 'x'.repeat(3000) }));
    expect(long.res.status).toBe(422);
    expect(await long.res.text()).toContain('too long to keep in a browser cookie');
  });

  it('refuses an expired token at sign-in, and ends a session whose token has expired', async () => {
    const expired = await nurse(['crisis-team'], { exp: Math.floor(Date.now() / 1000) - 600 });
    const { res } = await signIn(expired);
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('The token was not accepted: the token has expired');
    // a session cookie still holding it (signed in before it expired) is signed out
    const v = new Visitor(t);
    v.cookies.set('stepwise-session', Buffer.from(JSON.stringify({ csrf: 'c'.repeat(32), token: expired })).toString('base64url'));
    const late = await v.request('/app/queue');
    expect([late.status, late.headers.get('Location')]).toEqual([303, '/app/sign-in?ended=1']);
    expect(v.cookies.has('stepwise-session')).toBe(false);
  });
});
