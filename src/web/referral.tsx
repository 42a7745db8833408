import type { Flag, RiskAssessment } from '@medplum/fhirtypes';
import type { FC, PropsWithChildren } from 'hono/jsx';
import { isTriageTask, triageLevelOf } from '../pathway/redirect-check.js';
import { holderOf } from '../pathway/tasks/team.js';
import { isFinalTaskStatus } from '../pathway/tasks/transitions.js';
import type { PageUser } from './context.js';
import { Banner, Csrf, ErrorMessage, ErrorSummary, Layout, WEB_PREFIX, type FieldError, type NavItem } from './layout.js';
import { londonTime, missingItems, PRIORITY_LABELS } from './queue-data.js';
import { LEVELS_OF_SUPPORT, type ReferralView } from './referral-data.js';
import { RadioGroup } from './sign-in.js';

interface Common {
  user: PageUser;
  nav: NavItem[];
  view: ReferralView;
}

const personName = (view: ReferralView): string => {
  const n = view.patient?.name?.[0];
  return n ? (n.text ?? [...(n.given ?? []), n.family].filter(Boolean).join(' ')) : 'Person not known';
};

const userBar = (user: PageUser) => ({ name: user.name, team: user.team?.name, csrf: user.csrf });

/**
 * The referral: who it is for and why, its risk flags, what the rules decided and why (rule,
 * version, rationale), the Task's history, and what the nurse can do next.
 */
export const ReferralPage: FC<Common & { notice?: { kind: 'success' | 'important'; text: string } }> = ({ user, nav, view, notice }) => {
  const { task, referral } = view;
  const priority = PRIORITY_LABELS[task.priority ?? ''];
  const holder = holderOf(task);
  const mine = holder?.reference === user.practitioner;
  const open = !isFinalTaskStatus(task.status);
  const missing = missingItems(task);
  return (
    <Layout title={`Referral for ${personName(view)}`} user={userBar(user)} nav={nav}>
      {notice && <Banner kind={notice.kind} title={notice.text} />}
      <a class="nhsuk-back-link" href={`${WEB_PREFIX}/queue`}>
        Back to the queue
      </a>
      <h1>
        <span class="nhsuk-caption-l">Referral</span>
        {personName(view)}
      </h1>
      <dl class="nhsuk-summary-list">
        <Item term="Priority" value={priority ? priority.text : (task.priority ?? 'Not given')} />
        <Item term="Due" value={task.restriction?.period?.end ? londonTime(new Date(task.restriction.period.end)) : 'No due time'} />
        <Item term="Status" value={`${task.status}${holder ? `, held by ${mine ? 'you' : (holder.display ?? holder.reference)}` : ''}`} />
        <Item term="Reason for referral" value={referral?.reasonCode?.map((r) => r.text ?? r.coding?.[0]?.display ?? r.coding?.[0]?.code).join('; ') || 'Not given'} />
        <Item term="Received" value={task.authoredOn ? londonTime(new Date(task.authoredOn)) : 'Not known'} />
        {missing.length > 0 && <Item term="Waiting for" value={missing.join('; ')} />}
      </dl>

      {view.hidden.length > 0 && (
        <div class="nhsuk-inset-text">
          <span class="nhsuk-u-visually-hidden">Information: </span>
          <p>Your sign-in does not allow reading {view.hidden.join(', ')}: those parts of the referral are not shown.</p>
        </div>
      )}
      <h2>Risk</h2>
      <RiskFlags flags={view.flags} risks={view.risks} />

      <h2>Decisions and their rationale</h2>
      {task.description && (
        <div class="nhsuk-inset-text">
          <span class="nhsuk-u-visually-hidden">Information: </span>
          <p>{task.description}</p>
        </div>
      )}
      {view.decisions.length === 0 ? (
        <p class="nhsuk-body">The rules' records are not shown to your sign-in; the rationale above is the one on the referral's triage task.</p>
      ) : (
        view.decisions.map((d) => (
          <div class="nhsuk-card">
            <div class="nhsuk-card__content">
              <h3 class="nhsuk-card__heading">{d.outcome ?? 'Decision'}</h3>
              <p class="nhsuk-body-s">
                Rule <code>{d.rule}</code>, rule set version {d.ruleSetVersion}
                {d.recorded ? `, ${londonTime(new Date(d.recorded))}` : ''}
                {d.priority ? `, priority ${PRIORITY_LABELS[d.priority]?.text ?? d.priority}` : ''}
              </p>
              <p class="nhsuk-card__description">{d.rationale}</p>
              {d.missing.length > 0 && <p class="nhsuk-body-s">Missing at the time: {d.missing.join('; ')}</p>}
            </div>
          </div>
        ))
      )}
      {view.notes.length > 0 && (
        <>
          <h3>Notes</h3>
          <ul class="nhsuk-list nhsuk-list--bullet">
            {view.notes.map((n) => (
              <li>
                {n.time ? `${londonTime(new Date(n.time))}: ` : ''}
                {n.text}
              </li>
            ))}
          </ul>
        </>
      )}

      <h2>What you can do</h2>
      {!open ? (
        <p class="nhsuk-body">This triage is {task.status}.</p>
      ) : !holder ? (
        <form action={`${WEB_PREFIX}/tasks/${task.id}/claim`} method="post">
          <Csrf token={user.csrf} />
          <input type="hidden" name="back" value="referral" />
          <button class="nhsuk-button" type="submit">
            Claim this referral
          </button>
        </form>
      ) : mine && !isTriageTask(task) ? (
        <p class="nhsuk-body">You hold this task. It is not the triage itself: the triage decision is recorded on the referral's triage task.</p>
      ) : mine ? (
        <ul class="nhsuk-list">
          <li>
            <a class="nhsuk-action-link__link" href={`${WEB_PREFIX}/referrals/${task.id}/decide`}>
              Record the triage decision
            </a>
          </li>
          <li>
            <a href={`${WEB_PREFIX}/referrals/${task.id}/redirect`}>Redirect to another service</a>
          </li>
        </ul>
      ) : (
        <p class="nhsuk-body">Someone else holds this referral; they can release it.</p>
      )}

      <h2>History</h2>
      <div class="app-table-scroll">
        <table class="nhsuk-table">
          <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">Versions of the triage task</caption>
          <thead class="nhsuk-table__head">
            <tr>
              <th scope="col">Version</th>
              <th scope="col">When</th>
              <th scope="col">Status</th>
              <th scope="col">Held by</th>
              <th scope="col">By</th>
            </tr>
          </thead>
          <tbody class="nhsuk-table__body">
            {view.versions.map((v) => (
              <tr class="nhsuk-table__row">
                <td class="nhsuk-table__cell">
                  {v.versionId}
                  {v.activity ? ` (${v.activity})` : ''}
                </td>
                <td class="nhsuk-table__cell">{londonTime(v.at)}</td>
                <td class="nhsuk-table__cell">{v.status}</td>
                <td class="nhsuk-table__cell">{v.holder}</td>
                <td class="nhsuk-table__cell">{v.by ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
};

const Item: FC<{ term: string; value: string }> = ({ term, value }) => (
  <div class="nhsuk-summary-list__row">
    <dt class="nhsuk-summary-list__key">{term}</dt>
    <dd class="nhsuk-summary-list__value">{value}</dd>
  </div>
);

/** "risk-to-self" → "Risk to self": a code read as words when it has no display. */
const sentence = (code: string | undefined) => code && code.charAt(0).toUpperCase() + code.slice(1).replaceAll('-', ' ');

const SEVERITY: Record<string, string> = { PH: 'High', PM: 'Medium', PL: 'Low', PN: 'None' };

const RiskFlags: FC<{ flags: Flag[]; risks: RiskAssessment[] }> = ({ flags, risks }) => {
  const rated = risks.flatMap((r) => (r.prediction ?? []).map((p) => ({ what: p.outcome?.coding?.[0]?.display ?? sentence(p.outcome?.coding?.[0]?.code) ?? p.outcome?.text, level: p.qualitativeRisk?.coding?.[0]?.code })));
  if (flags.length === 0 && rated.length === 0) return <p class="nhsuk-body">No active risk flags or risk assessments.</p>;
  return (
    <ul class="nhsuk-list" id="risk-flags">
      {flags.map((f) => {
        const severity = f.extension?.find((e) => e.url.endsWith('flag-priority'))?.valueCodeableConcept?.coding?.[0]?.code;
        return (
          <li>
            <strong class={`nhsuk-tag nhsuk-tag--${severity === 'PH' ? 'red' : 'orange'}`}>Risk flag{severity ? `: ${SEVERITY[severity] ?? severity}` : ''}</strong> {f.code?.text ?? f.code?.coding?.[0]?.display ?? f.code?.coding?.[0]?.code}
          </li>
        );
      })}
      {rated.map((r) => (
        <li>
          <strong class={`nhsuk-tag nhsuk-tag--${r.level === 'high' ? 'red' : 'grey'}`}>Risk assessment: {r.level ?? 'not rated'}</strong> {r.what}
        </li>
      ))}
    </ul>
  );
};

/** A form about one referral: back to it, the errors summarised, and a heading under the person's name. */
const ReferralFormPage: FC<PropsWithChildren<Common & { title: string; heading: string; errors: FieldError[] }>> = ({ title, heading, user, nav, view, errors, children }) => (
  <Layout title={title} user={userBar(user)} nav={nav} hasErrors={errors.length > 0}>
    <a class="nhsuk-back-link" href={`${WEB_PREFIX}/referrals/${view.task.id}`}>
      Back to the referral
    </a>
    <ErrorSummary errors={errors} />
    <h1>
      <span class="nhsuk-caption-l">{personName(view)}</span>
      {heading}
    </h1>
    {children}
  </Layout>
);

export interface DecisionValues {
  outcome?: string;
  rationale?: string;
}

/** Recording the triage decision: a level of support and the rationale, both required. */
export const DecisionPage: FC<Common & { errors: FieldError[]; values: DecisionValues }> = ({ user, nav, view, errors, values }) => {
  // the outcome the rules proposed on the Task, if any
  const proposed = triageLevelOf(view.task);
  const proposedText = LEVELS_OF_SUPPORT.find((l) => l.code === proposed)?.text;
  return (
    <ReferralFormPage title={`Triage decision for ${personName(view)}`} heading="Record the triage decision" user={user} nav={nav} view={view} errors={errors}>
      <form action={`${WEB_PREFIX}/referrals/${view.task.id}/decide`} method="post" novalidate>
        <Csrf token={user.csrf} />
        <RadioGroup
          name="outcome"
          legend="Level of support"
          hint={proposedText ? `The rules proposed ${proposedText.toLowerCase()}.` : 'The rules did not decide: senior oversight.'}
          options={LEVELS_OF_SUPPORT.map((l) => ({ value: l.code, text: l.text }))}
          chosen={values.outcome}
          errors={errors}
        />
        <TextArea id="rationale" label="Rationale" hint="Why this level of support: what in the referral decided it. It is kept with the decision." value={values.rationale} errors={errors} />
        <button class="nhsuk-button" type="submit">
          Record decision
        </button>
      </form>
    </ReferralFormPage>
  );
};

export interface RedirectValues {
  rationale?: string;
  signpostedTo?: string;
  routesGiven?: boolean;
}

/**
 * A redirect cannot be sent without all three of its parts (domain.md, the single front door, 5):
 * the written rationale, where the person is signposted, and confirmation that the urgent
 * escalation routes were given. Checked here and again by the pathway (redirect-check.ts).
 */
export const RedirectPage: FC<Common & { errors: FieldError[]; values: RedirectValues }> = ({ user, nav, view, errors, values }) => {
  const routesError = errors.some((e) => e.field === 'escalation-routes-given');
  return (
    <ReferralFormPage title={`Redirect the referral for ${personName(view)}`} heading="Redirect to another service" user={user} nav={nav} view={view} errors={errors}>
      <form action={`${WEB_PREFIX}/referrals/${view.task.id}/redirect`} method="post" novalidate>
        <Csrf token={user.csrf} />
        <TextArea id="redirect-rationale" label="Rationale" hint="Why this referral is better met by another service." value={values.rationale} errors={errors} />
        <div class={`nhsuk-form-group${errors.some((e) => e.field === 'signposted-to') ? ' nhsuk-form-group--error' : ''}`}>
          <label class="nhsuk-label" for="signposted-to">
            Service the person is signposted to
          </label>
          <div class="nhsuk-hint" id="signposted-to-hint">
            For example, Citizens Advice Leeds or the local talking therapies service.
          </div>
          <ErrorMessage id="signposted-to" errors={errors} />
          <input
            class={`nhsuk-input${errors.some((e) => e.field === 'signposted-to') ? ' nhsuk-input--error' : ''}`}
            id="signposted-to"
            name="signposted-to"
            type="text"
            value={values.signpostedTo ?? ''}
            aria-describedby={`signposted-to-hint${errors.some((e) => e.field === 'signposted-to') ? ' signposted-to-error' : ''}`}
          />
        </div>
        <div class={`nhsuk-form-group${routesError ? ' nhsuk-form-group--error' : ''}`}>
          <fieldset class="nhsuk-fieldset" aria-describedby={routesError ? 'escalation-routes-given-error' : undefined}>
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Urgent escalation routes</legend>
            <ErrorMessage id="escalation-routes-given" errors={errors} />
            <div class="nhsuk-checkboxes" data-module="nhsuk-checkboxes">
              <div class="nhsuk-checkboxes__item">
                <input class="nhsuk-checkboxes__input" id="escalation-routes-given" name="escalation-routes-given" type="checkbox" value="yes" checked={values.routesGiven} />
                <label class="nhsuk-label nhsuk-checkboxes__label" for="escalation-routes-given">
                  I gave the person (or their referrer) the urgent escalation routes: the crisis line, NHS 111 (option 2) and 999
                </label>
              </div>
            </div>
          </fieldset>
        </div>
        <button class="nhsuk-button" type="submit">
          Send redirect
        </button>
      </form>
    </ReferralFormPage>
  );
};

export const TextArea: FC<{ id: string; label: string; hint?: string; value?: string; errors: FieldError[] }> = ({ id, label, hint, value, errors }) => {
  const error = errors.some((e) => e.field === id);
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
      <label class="nhsuk-label nhsuk-label--s" for={id}>
        {label}
      </label>
      {hint && (
        <div class="nhsuk-hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      <ErrorMessage id={id} errors={errors} />
      <textarea class={`nhsuk-textarea${error ? ' nhsuk-textarea--error' : ''}`} id={id} name={id} rows={4} aria-describedby={describedBy}>
        {value ?? ''}
      </textarea>
    </div>
  );
};
