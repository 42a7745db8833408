import type { Practitioner } from '@medplum/fhirtypes';
import { Hono, type Context } from 'hono';
import { FhirError, FhirErrorCode } from '../errors.js';
import { parseSearch } from '../fhir/search/parse.js';
import { fhirBaseOf } from '../http/base-url.js';
import type { Logger } from '../logger.js';
import { PATHWAY } from '../pathway/codes.js';
import { isTriageTask } from '../pathway/redirect-check.js';
import { describeHolder, holderOf } from '../pathway/tasks/team.js';
import { DEVELOPMENT_PRINCIPAL } from '../security/principal.js';
import type { Security } from '../security/security.js';
import { mountAssets } from './assets.js';
import { auditPageView, may, nameOf, requireScope, runPageOperation, storeOf, teamsOf, type PageUser, type WebServices } from './context.js';
import { HandoversPage, loadHandovers } from './handovers.js';
import { loadMeasures } from './measures-data.js';
import { MeasuresPage } from './measures.js';
import { Layout, renderPage, WEB_PREFIX, type FieldError, type NavItem } from './layout.js';
import { SessionEnded, userOf, verifiedUser } from './page-user.js';
import { isQueueView, loadQueue, queueSearch, queueState, whatOf, type QueueView } from './queue-data.js';
import { QueuePage } from './queue.js';
import { loadReferral, LEVELS_OF_SUPPORT } from './referral-data.js';
import { DecisionPage, RedirectPage, ReferralPage } from './referral.js';
import { endSession, MAX_TOKEN_LENGTH, newCsrfToken, readSession, sameToken, signInCsrf, signInCsrfCookie, writeSession } from './session.js';
import { SignInPage } from './sign-in.js';

export { WEB_PREFIX } from './layout.js';

export interface WebOptions {
  /** Authentication as configured; absent: development mode, sign in by choosing who to be. */
  security?: Security;
  baseUrl?: string;
  /** Where the FHIR API is mounted: a token's audience and the audit's observer are under it. */
  fhirPrefix: string;
  /** The store and the write pipeline, once start-up is done. */
  services: () => WebServices | undefined;
  logger: Logger;
}

type Form = Record<string, string | File | (string | File)[]>;
type WebEnv = { Variables: { services: WebServices; fhirBase: string; user: PageUser; form: Form; requestId?: string } };
type C = Context<WebEnv>;

/**
 * The triage pages under /app (src/web/README.md): server-rendered with hono/jsx and the NHS.UK
 * frontend, reading through the signed-in user's store and writing through the one write
 * pipeline, as the FHIR API does.
 */
export function webPages(opts: WebOptions): Hono<WebEnv> {
  const web = new Hono<WebEnv>();
  const page = async (c: C, body: unknown, status = 200) => c.html(await renderPage(body), status as 200);
  const notFound = (c: C) => page(c, <MessagePage title="Page not found" text="There is no page at this address." />, 404);

  mountAssets(web, WEB_PREFIX, notFound);

  web.use('*', async (c, next) => {
    const services = opts.services();
    if (!services) {
      c.header('Retry-After', '5');
      return page(c, <MessagePage title="Starting up" text="Stepwise is starting up. Try again in a few seconds." />, 503);
    }
    c.set('services', services);
    c.set('fhirBase', fhirBaseOf(c, { prefix: opts.fhirPrefix, baseUrl: opts.baseUrl }));
    if (c.req.method === 'POST') {
      // a form posted from another site is refused whatever it carries (SameSite=Strict keeps the cookie away too)
      const origin = c.req.header('Origin');
      if (origin && origin !== 'null' && hostOf(origin) !== new URL(c.req.url).host) throw forbidden('This form was sent from another site.');
      c.set('form', await c.req.parseBody());
    }
    return next();
  });

  // sign-in and sign-out
  web.get('/sign-in', async (c) => signInPage(c, [], {}, c.req.query('ended') ? 'Your session ended (your token expired or is no longer valid). Sign in again.' : undefined));
  web.post('/sign-in', async (c) => {
    const form = c.get('form');
    if (!sameToken(form.csrf, signInCsrfCookie(c))) throw forbidden('The sign-in form had expired. Reload the page and try again.');
    const csrf = newCsrfToken();
    if (opts.security) {
      const token = typeof form.token === 'string' ? form.token.trim() : '';
      if (!token) return signInPage(c, [{ field: 'token', message: 'Enter your token from the identity provider' }], {}, undefined, 422);
      if (token.length > MAX_TOKEN_LENGTH) return signInPage(c, [{ field: 'token', message: `The token is longer than ${MAX_TOKEN_LENGTH} characters, too long to keep in a browser cookie` }], {}, undefined, 422);
      try {
        const principal = await verifiedUser(opts.security, token, c.get('fhirBase'));
        writeSession(c, WEB_PREFIX, { csrf, token, team: principal.teams[0] });
      } catch (err) {
        if (err instanceof SessionEnded) return signInPage(c, [{ field: 'token', message: `The token was not accepted: ${err.message}` }], {}, undefined, 422);
        throw err;
      }
    } else {
      const practitioner = typeof form.practitioner === 'string' ? form.practitioner : '';
      const team = typeof form.team === 'string' ? form.team : '';
      const errors: FieldError[] = [];
      const store = c.get('services').store;
      if (!/^Practitioner\/[A-Za-z0-9\-.]{1,64}$/.test(practitioner) || !(await store.readOrUndefined('Practitioner', practitioner.slice(13)))) errors.push({ field: 'practitioner', message: 'Select who you are' });
      if (!(await teamsOf(store, DEVELOPMENT_PRINCIPAL)).some((t) => t.code === team)) errors.push({ field: 'team', message: 'Select the team whose queue you are working' });
      if (errors.length) return signInPage(c, errors, { practitioner, team }, undefined, 422);
      writeSession(c, WEB_PREFIX, { csrf, practitioner, team });
    }
    return c.redirect(`${WEB_PREFIX}/queue`, 303);
  });

  async function signInPage(c: C, errors: FieldError[], chosen: { practitioner?: string; team?: string }, notice?: string, status = 200) {
    const csrf = signInCsrf(c, WEB_PREFIX);
    if (opts.security) return page(c, <SignInPage mode="token" csrf={csrf} errors={errors} notice={notice} />, status);
    const store = c.get('services').store;
    const found = await store.search(parseSearch('Practitioner', [['_count', '100']]));
    const practitioners = (found.matches as Practitioner[]).map((p) => ({ reference: `Practitioner/${p.id}`, name: nameOf(p) ?? `Practitioner/${p.id}` }));
    const teams = await teamsOf(store, DEVELOPMENT_PRINCIPAL);
    return page(c, <SignInPage mode="development" csrf={csrf} errors={errors} practitioners={practitioners} teams={teams} chosen={chosen} notice={notice} />, status);
  }

  // everything else needs a session; every POST its CSRF token
  web.use('*', async (c, next) => {
    const session = readSession(c);
    if (!session) return c.redirect(`${WEB_PREFIX}/sign-in`, 303);
    try {
      c.set('user', await userOf(session, c.get('services'), opts.security, c.get('fhirBase')));
    } catch (err) {
      if (!(err instanceof SessionEnded)) throw err;
      endSession(c, WEB_PREFIX);
      return c.redirect(`${WEB_PREFIX}/sign-in?ended=1`, 303);
    }
    if (c.req.method === 'POST' && !sameToken(c.get('form').csrf, session.csrf)) throw forbidden('This form had expired or did not come from Stepwise. Go back, reload the page and try again.');
    return next();
  });

  web.post('/sign-out', (c) => {
    endSession(c, WEB_PREFIX);
    return c.redirect(`${WEB_PREFIX}/sign-in`, 303);
  });
  web.post('/team', (c) => {
    const user = c.get('user');
    const team = user.teams.find((t) => t.code === c.get('form').team);
    const session = readSession(c)!;
    if (team) writeSession(c, WEB_PREFIX, { ...session, team: team.code });
    return c.redirect(`${WEB_PREFIX}/queue`, 303);
  });

  web.get('/', (c) => c.redirect(`${WEB_PREFIX}/queue`, 303));

  // the queue, with claim and release
  const queuePage = async (c: C, view: QueueView, notice?: { kind: 'success' | 'important'; text: string }, status = 200) => {
    const user = c.get('user');
    requireScope(user.principal, 'Task', 's');
    const store = storeOf(c.get('services'), user);
    const options = { team: user.team?.id, practitioner: user.practitioner, now: store.clock.now(), cursor: c.req.query('cursor'), include: includesFor(user) };
    const { rows, next } = await loadQueue(store, view, options);
    await auditPageView(c, c.get('services'), user, c.get('fhirBase'), { interaction: 'search-type', query: `Task?${new URLSearchParams(queueSearch(view, options)).toString()}` });
    return page(c, <QueuePage user={user} nav={navOf('queue')} view={view} rows={rows} next={next} notice={notice} />, status);
  };
  // what the first page of a view shows now, for the live updates (static/queue-updates.js)
  web.get('/queue/state', async (c) => {
    const user = c.get('user');
    requireScope(user.principal, 'Task', 's');
    const store = storeOf(c.get('services'), user);
    const view = c.req.query('view');
    const { rows } = await loadQueue(store, isQueueView(view) ? view : 'open', { team: user.team?.id, practitioner: user.practitioner, now: store.clock.now(), include: { patients: false, holders: false } });
    return c.json({ rows: queueState(rows) });
  });
  web.get('/queue', (c) => {
    const view = c.req.query('view');
    const done = c.req.query('done');
    const notice = done === 'claimed' ? 'You claimed the work: it is in “Held by me”.' : done === 'released' ? 'You released the work: it is back in the team’s queue.' : undefined;
    return queuePage(c, isQueueView(view) ? view : 'open', notice ? { kind: 'success', text: notice } : undefined);
  });
  for (const name of ['claim', 'release'] as const) {
    web.post(`/tasks/:id/${name}`, async (c) => {
      const id = c.req.param('id');
      const back = c.get('form').back === 'referral' ? `${WEB_PREFIX}/referrals/${id}` : `${WEB_PREFIX}/queue`;
      try {
        await runPageOperation(c, c.get('services'), c.get('user'), c.get('fhirBase'), name, id);
      } catch (err) {
        if (!(err instanceof FhirError) || err.status !== 409) throw err;
        return queuePage(c, 'open', { kind: 'important', text: await lostClaimMessage(c, id, err) }, 409);
      }
      return c.redirect(`${back}${back.includes('?') ? '&' : '?'}done=${name === 'claim' ? 'claimed' : 'released'}`, 303);
    });
  }

  // the referral, the decision and the redirect
  const referralOf = async (c: C) => {
    const user = c.get('user');
    requireScope(user.principal, 'Task', 'r');
    return loadReferral(storeOf(c.get('services'), user), c.req.param('id')!, (type, permission) => may(user, type, permission));
  };
  /** The decision and redirect forms are for a triage Task only. */
  const triageOf = async (c: C) => {
    const view = await referralOf(c);
    if (!isTriageTask(view.task)) throw new FhirError(FhirErrorCode.CONFLICT, { code: 'business-rule', message: `This is a ${whatOf(view.task).toLowerCase()}, not a triage: the triage decision is recorded on the referral's triage task.` });
    return view;
  };
  web.get('/referrals/:id', async (c) => {
    const done = c.req.query('done');
    const text = { claimed: 'You claimed this referral.', decided: 'Triage decision recorded.', redirected: 'Redirect sent: the referral is closed with its rationale and signposting.' }[done ?? ''];
    const view = await referralOf(c);
    const focus = [`Task/${view.task.id}`, ...(view.referral ? [`ServiceRequest/${view.referral.id}`] : [])];
    await auditPageView(c, c.get('services'), c.get('user'), c.get('fhirBase'), { interaction: 'read', focus, patient: view.patient ? `Patient/${view.patient.id}` : undefined });
    return page(c, <ReferralPage user={c.get('user')} nav={navOf('queue')} view={view} notice={text ? { kind: 'success', text } : undefined} />);
  });
  web.get('/referrals/:id/decide', async (c) => page(c, <DecisionPage user={c.get('user')} nav={navOf('queue')} view={await triageOf(c)} errors={[]} values={{}} />));
  web.post('/referrals/:id/decide', async (c) => {
    await triageOf(c);
    const form = c.get('form');
    const values = { outcome: str(form.outcome), rationale: str(form.rationale)?.trim() };
    const errors: FieldError[] = [];
    const level = LEVELS_OF_SUPPORT.find((l) => l.code === values.outcome);
    if (!level) errors.push({ field: 'outcome', message: 'Select the level of support' });
    if (!values.rationale) errors.push({ field: 'rationale', message: 'Enter the rationale for the decision' });
    if (!errors.length) {
      try {
        await runPageOperation(c, c.get('services'), c.get('user'), c.get('fhirBase'), 'complete', c.req.param('id'), {
          outputs: [{ type: { coding: [{ system: PATHWAY.taskParameterType, code: 'triage-outcome' }] }, valueCodeableConcept: { coding: [{ system: PATHWAY.levelOfSupport, code: level!.code, display: level!.text }] } }],
          note: `Triage decision: ${level!.text}. ${values.rationale}`,
        });
        return c.redirect(`${WEB_PREFIX}/referrals/${c.req.param('id')}?done=decided`, 303);
      } catch (err) {
        errors.push(...fieldErrorsOf(err, { default: 'outcome' }));
      }
    }
    return page(c, <DecisionPage user={c.get('user')} nav={navOf('queue')} view={await referralOf(c)} errors={errors} values={values} />, 422);
  });
  web.get('/referrals/:id/redirect', async (c) => page(c, <RedirectPage user={c.get('user')} nav={navOf('queue')} view={await triageOf(c)} errors={[]} values={{}} />));
  web.post('/referrals/:id/redirect', async (c) => {
    await triageOf(c);
    const form = c.get('form');
    const values = { rationale: str(form['redirect-rationale'])?.trim(), signpostedTo: str(form['signposted-to'])?.trim(), routesGiven: form['escalation-routes-given'] === 'yes' };
    const errors: FieldError[] = [];
    if (!values.rationale) errors.push({ field: 'redirect-rationale', message: 'Enter the rationale for the redirect' });
    if (!values.signpostedTo) errors.push({ field: 'signposted-to', message: 'Enter the service the person is signposted to' });
    if (!values.routesGiven) errors.push({ field: 'escalation-routes-given', message: 'Confirm that the urgent escalation routes were given' });
    if (!errors.length) {
      const redirectOutput = (code: string) => ({ coding: [{ system: PATHWAY.redirectOutput, code }] });
      try {
        await runPageOperation(c, c.get('services'), c.get('user'), c.get('fhirBase'), 'complete', c.req.param('id'), {
          outputs: [
            { type: { coding: [{ system: PATHWAY.taskParameterType, code: 'triage-outcome' }] }, valueCodeableConcept: { coding: [{ system: PATHWAY.levelOfSupport, code: 'redirected', display: 'Redirected' }] } },
            { type: redirectOutput('rationale'), valueString: values.rationale },
            { type: redirectOutput('signposted-to'), valueString: values.signpostedTo },
            { type: redirectOutput('escalation-routes-given'), valueBoolean: true },
          ],
        });
        return c.redirect(`${WEB_PREFIX}/referrals/${c.req.param('id')}?done=redirected`, 303);
      } catch (err) {
        errors.push(...fieldErrorsOf(err, { default: 'redirect-rationale', rationale: 'redirect-rationale', 'signposted-to': 'signposted-to', 'escalation-routes-given': 'escalation-routes-given' }));
      }
    }
    return page(c, <RedirectPage user={c.get('user')} nav={navOf('queue')} view={await referralOf(c)} errors={errors} values={values} />, 422);
  });

  // handovers awaiting acceptance
  const handoversPage = async (c: C, extra: { errors?: FieldError[]; notice?: { kind: 'success' | 'important'; text: string }; values?: { task?: string; reason?: string } } = {}, status = 200) => {
    const user = c.get('user');
    requireScope(user.principal, 'Task', 's');
    const store = storeOf(c.get('services'), user);
    const rows = await loadHandovers(store, user, store.clock.now());
    await auditPageView(c, c.get('services'), user, c.get('fhirBase'), { interaction: 'search-type', focus: rows.map((r) => `Task/${r.task.id}`) });
    return page(c, <HandoversPage user={user} nav={navOf('handovers')} rows={rows} errors={extra.errors ?? []} notice={extra.notice} values={extra.values} />, status);
  };
  web.get('/handovers', (c) => {
    const done = c.req.query('done');
    const text = done === 'accepted' ? 'Handover accepted: you are now the accountable lead, and the first contact is in your work.' : done === 'rejected' ? 'Handover not accepted: the sending lead stays accountable, and your reason is recorded on the handover.' : undefined;
    return handoversPage(c, { notice: text ? { kind: 'success', text } : undefined });
  });
  web.post('/handovers/:id/accept', async (c) => {
    const id = c.req.param('id');
    const args = [c, c.get('services'), c.get('user'), c.get('fhirBase')] as const;
    try {
      const current = await storeOf(c.get('services'), c.get('user')).read('Task', id);
      // accepting is done by the person who takes the work on: claim it first if nobody holds it
      if (!holderOf(current as never)) await runPageOperation(...args, 'claim', id);
      await runPageOperation(...args, 'accept', id);
    } catch (err) {
      if (!(err instanceof FhirError) || ![409, 422].includes(err.status)) throw err;
      return handoversPage(c, { notice: { kind: 'important', text: `The handover could not be accepted: ${err.message}` } }, err.status);
    }
    return c.redirect(`${WEB_PREFIX}/handovers?done=accepted`, 303);
  });
  web.post('/handovers/:id/reject', async (c) => {
    const id = c.req.param('id');
    const reason = str(c.get('form').reason)?.trim();
    if (!reason) return handoversPage(c, { errors: [{ field: `reason-${id}`, message: 'Enter why your team cannot accept the handover' }], values: { task: id } }, 422);
    try {
      await runPageOperation(c, c.get('services'), c.get('user'), c.get('fhirBase'), 'reject', id, { outputs: [], reason: { text: reason } });
    } catch (err) {
      if (!(err instanceof FhirError) || ![409, 422].includes(err.status)) throw err;
      return handoversPage(c, { errors: [{ field: `reason-${id}`, message: err.message }], values: { task: id, reason } }, err.status);
    }
    return c.redirect(`${WEB_PREFIX}/handovers?done=rejected`, 303);
  });

  // the measures: tables and charts over a period (src/measures, as $evaluate-measure)
  web.get('/measures', async (c) => {
    const user = c.get('user');
    requireScope(user.principal, 'Measure', 'r');
    requireScope(user.principal, 'Task', 's');
    const store = storeOf(c.get('services'), user);
    const today = londonDate(store.clock.now());
    const period = { start: c.req.query('from') || londonDate(new Date(store.clock.now().getTime() - 27 * DAY_MS)), end: c.req.query('to') || today };
    const errors: FieldError[] = [];
    if (!isCalendarDate(period.start)) errors.push({ field: 'from', message: 'Enter the first day as a date, for example 2026-03-01' });
    if (!isCalendarDate(period.end)) errors.push({ field: 'to', message: 'Enter the last day as a date, for example 2026-03-31' });
    if (!errors.length && period.end < period.start) errors.push({ field: 'to', message: 'The last day must be the same as or after the first day' });
    const names = new Map(may(user, 'Organization', 's') ? (await teamsOf(store, DEVELOPMENT_PRINCIPAL)).map((t) => [`Organization/${t.id}`, t.name]) : []);
    const measures = errors.length ? [] : await loadMeasures(store, period, (ref) => names.get(ref) ?? ref);
    return page(c, <MeasuresPage user={user} nav={navOf('measures')} period={period} measures={measures} errors={errors} />, errors.length ? 400 : 200);
  });

  web.all('*', notFound);

  // a page's error is a page: the same FhirError the API would answer with, in words, with its status
  web.onError(async (err, c) => {
    if (err instanceof FhirError) {
      const title = err.status === 404 ? 'Not found' : err.status === 403 ? 'You cannot do this' : 'This could not be done';
      const text = err.status === 404 ? 'There is nothing here that your sign-in can see.' : err.message;
      return page(c as C, <MessagePage title={title} text={text} />, err.status);
    }
    opts.logger.error({ err, requestId: c.get('requestId') }, 'unhandled error on a page');
    return page(c as C, <MessagePage title="Sorry, there is a problem with the service" text="The error has been logged. Try again later." />, 500);
  });

  return web;
}

/** The includes of a queue page the user's scopes allow. */
const includesFor = (user: PageUser) => ({ patients: may(user, 'Patient', 'r'), holders: may(user, 'Practitioner', 'r') });

const navOf = (current: 'queue' | 'handovers' | 'measures'): NavItem[] => [
  { href: `${WEB_PREFIX}/queue`, text: 'Queue', current: current === 'queue' },
  { href: `${WEB_PREFIX}/handovers`, text: 'Handovers', current: current === 'handovers' },
  { href: `${WEB_PREFIX}/measures`, text: 'Measures', current: current === 'measures' },
];

const DAY_MS = 86_400_000;
const LONDON_DATE = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });
/** "2026-03-02": the London calendar day of an instant. */
const londonDate = (d: Date): string => LONDON_DATE.format(d);
const isCalendarDate = (s: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T12:00:00Z`)) && new Date(`${s}T12:00:00Z`).toISOString().slice(0, 10) === s;

/** The host an Origin header names, or undefined when it is not a URL. */
function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const forbidden = (message: string) => new FhirError(FhirErrorCode.FORBIDDEN, { code: 'forbidden', message });

/** A lost race for a Task, told as the person who lost it needs to hear it: who has it now. */
async function lostClaimMessage(c: C, id: string, err: FhirError): Promise<string> {
  const task = await storeOf(c.get('services'), c.get('user')).readOrUndefined('Task', id);
  const holder = task && holderOf(task as never);
  if (!holder) return `This could not be done: ${err.message}`;
  const person = holder.reference?.startsWith('Practitioner/') && may(c.get('user'), 'Practitioner', 'r') ? await storeOf(c.get('services'), c.get('user')).readOrUndefined('Practitioner', holder.reference.slice(13)) : undefined;
  const name = nameOf(person) ?? describeHolder(holder);
  return holder.reference === c.get('user').practitioner ? `You already hold this ${whatOf(task as never).toLowerCase()}.` : `${name} claimed this ${whatOf(task as never).toLowerCase()} before you. It stays with them unless they release it.`;
}

/** The issues of a refused write as form errors, each on the field it names (else `fields.default`). */
function fieldErrorsOf(err: unknown, fields: Record<string, string> & { default: string }): FieldError[] {
  if (!(err instanceof FhirError) || ![403, 409, 412, 422].includes(err.status)) throw err;
  return err.issues.map((issue) => {
    const text = issue.diagnostics ?? err.message;
    const part = Object.keys(fields).find((k) => k !== 'default' && text.includes(`#${k}`));
    return { field: part ? fields[part] : fields.default, message: text };
  });
}

const MessagePage = ({ title, text }: { title: string; text: string }) => (
  <Layout title={title}>
    <h1>{title}</h1>
    <p class="nhsuk-body">{text}</p>
    <p class="nhsuk-body">
      <a href={`${WEB_PREFIX}/queue`}>Go to the queue</a>
    </p>
  </Layout>
);
