import type { Task } from '@medplum/fhirtypes';
import type { FC } from 'hono/jsx';
import { parseSearch } from '../fhir/search/parse.js';
import { PATHWAY, TaskCode } from '../pathway/codes.js';
import type { ResourceStore } from '../store/resource-store.js';
import type { PageUser } from './context.js';
import { Banner, Csrf, ErrorMessage, ErrorSummary, Layout, WEB_PREFIX, type FieldError, type NavItem } from './layout.js';
import { londonTime, rowOf, type QueueRow } from './queue-data.js';

/** Handovers (transfer-of-responsibility) to the team, or held by the user, that nobody has accepted yet. */
export async function loadHandovers(store: ResourceStore, user: PageUser, now: Date): Promise<QueueRow[]> {
  const common: [string, string][] = [
    ['code', `${PATHWAY.taskCode}|${TaskCode.handover}`],
    ['status', 'requested,received'],
    ['_include', 'Task:patient'],
    ['_include', 'Task:owner'],
    ['_count', '50'],
  ];
  const holders = [user.team && `Organization/${user.team.id}`, user.practitioner].filter((x): x is string => !!x);
  const pages = await Promise.all(holders.map((owner) => store.search(parseSearch('Task', [['owner', owner], ...common]))));
  const included = new Map(pages.flatMap((p) => p.included).map((r) => [`${r.resourceType}/${r.id}`, r]));
  const seen = new Set<string>();
  return pages
    .flatMap((p) => p.matches as Task[])
    .filter((t) => !seen.has(t.id!) && seen.add(t.id!))
    .map((t) => rowOf(t, included, now));
}

const PLAN_PARTS: [string, string][] = [
  ['medication-actions', 'Medication actions'],
  ['safety-measures', 'Immediate safety measures'],
  ['contact-frequency', 'Contact in the next 14 days'],
  ['red-flag-thresholds', 'Red-flag thresholds'],
];

function planPart(task: Task, code: string): string | undefined {
  const input = task.input?.find((i) => i.type?.coding?.some((c) => c.code === code));
  if (!input) return undefined;
  if (input.valueString) return input.valueString;
  const repeat = input.valueTiming?.repeat;
  return repeat ? `${repeat.frequency ?? 1} per ${repeat.period ?? 1} ${repeat.periodUnit ?? ''}`.trim() : input.valueTiming?.code?.text;
}

export const HandoversPage: FC<{ user: PageUser; nav: NavItem[]; rows: QueueRow[]; errors: FieldError[]; notice?: { kind: 'success' | 'important'; text: string }; values?: { task?: string; reason?: string } }> = ({
  user,
  nav,
  rows,
  errors,
  notice,
  values = {},
}) => (
  <Layout title="Handovers awaiting acceptance" user={{ name: user.name, team: user.team?.name, csrf: user.csrf }} nav={nav} hasErrors={errors.length > 0}>
    <ErrorSummary errors={errors} />
    {notice && <Banner kind={notice.kind} title={notice.text} />}
    <h1>Handovers awaiting acceptance</h1>
    <p class="nhsuk-body">The sending lead stays accountable until your team accepts: accepting makes you the accountable lead and opens the first contact, due within the standard.</p>
    {rows.length === 0 ? (
      <p class="nhsuk-body">No handovers are waiting for {user.team?.name ?? 'your team'}.</p>
    ) : (
      rows.map((row) => (
        <section class="nhsuk-card" aria-labelledby={`handover-${row.task.id}`} id={`task-${row.task.id}`}>
          <div class="nhsuk-card__content">
            <h2 class="nhsuk-card__heading nhsuk-heading-m" id={`handover-${row.task.id}`}>
              {row.person?.name ?? 'Person not known'}
            </h2>
            <dl class="nhsuk-summary-list">
              <div class="nhsuk-summary-list__row">
                <dt class="nhsuk-summary-list__key">From</dt>
                <dd class="nhsuk-summary-list__value">{row.task.requester?.display ?? row.task.requester?.reference ?? 'Not given'}</dd>
              </div>
              {PLAN_PARTS.map(([code, text]) => (
                <div class="nhsuk-summary-list__row">
                  <dt class="nhsuk-summary-list__key">{text}</dt>
                  <dd class="nhsuk-summary-list__value">{planPart(row.task, code) ?? 'Not given'}</dd>
                </div>
              ))}
              <div class="nhsuk-summary-list__row">
                <dt class="nhsuk-summary-list__key">Sent</dt>
                <dd class="nhsuk-summary-list__value">{row.task.authoredOn ? londonTime(new Date(row.task.authoredOn)) : 'Not known'}</dd>
              </div>
            </dl>
            <form action={`${WEB_PREFIX}/handovers/${row.task.id}/accept`} method="post" class="app-inline-form">
              <Csrf token={user.csrf} />
              <button class="nhsuk-button" type="submit">
                Accept<span class="nhsuk-u-visually-hidden"> the handover for {row.person?.name ?? 'this person'}</span>
              </button>
            </form>
            <form action={`${WEB_PREFIX}/handovers/${row.task.id}/reject`} method="post" novalidate>
              <Csrf token={user.csrf} />
              <RejectReason taskId={row.task.id!} errors={values.task === row.task.id ? errors : []} value={values.task === row.task.id ? values.reason : undefined} />
              <button class="nhsuk-button nhsuk-button--secondary" type="submit">
                Do not accept<span class="nhsuk-u-visually-hidden"> the handover for {row.person?.name ?? 'this person'}</span>
              </button>
            </form>
          </div>
        </section>
      ))
    )}
  </Layout>
);

const RejectReason: FC<{ taskId: string; errors: FieldError[]; value?: string }> = ({ taskId, errors, value }) => {
  const id = `reason-${taskId}`;
  const error = errors.some((e) => e.field === id);
  return (
    <div class={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
      <label class="nhsuk-label" for={id}>
        Why your team cannot accept it
      </label>
      <ErrorMessage id={id} errors={errors} />
      <textarea class={`nhsuk-textarea${error ? ' nhsuk-textarea--error' : ''}`} id={id} name="reason" rows={2} aria-describedby={error ? `${id}-error` : undefined}>
        {value ?? ''}
      </textarea>
    </div>
  );
};
