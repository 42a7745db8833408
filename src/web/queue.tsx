import type { FC } from 'hono/jsx';
import type { PageUser } from './context.js';
import { Banner, Csrf, Layout, WEB_PREFIX, type NavItem } from './layout.js';
import { londonTime, PRIORITY_LABELS, QUEUE_VIEWS, queueState, type QueueRow, type QueueView } from './queue-data.js';

export interface QueueProps {
  user: PageUser;
  nav: NavItem[];
  view: QueueView;
  rows: QueueRow[];
  next?: string;
  /** What the last action did, or why it could not. */
  notice?: { kind: 'success' | 'important'; text: string };
}

/**
 * The team's queue, most urgent first then earliest due: priority, due time and whether it has
 * passed, why work is on hold (the minimum-dataset items still missing), who holds it, and the
 * claim and release buttons. On a phone each row becomes a card (NHS.UK responsive table).
 */
export const QueuePage: FC<QueueProps> = ({ user, nav, view, rows, next, notice }) => (
  <Layout title={`${user.team?.name ?? 'Your'} queue`} user={{ name: user.name, team: user.team?.name, csrf: user.csrf }} nav={nav} scripts={['queue-updates.js']}>
    {notice && <Banner kind={notice.kind} title={notice.text} />}
    <div id="queue-updates" aria-live="polite" data-state-url={`${WEB_PREFIX}/queue/state?view=${view}`} data-rows={queueState(rows).join(',')}></div>
    <h1>{view === 'mine' ? 'Work you hold' : `${user.team?.name ?? 'Team'} queue`}</h1>
    {user.teams.length > 1 && <TeamSwitch user={user} />}
    <nav aria-label="Queue views">
      <ul class="nhsuk-list app-queue-views">
        {(Object.keys(QUEUE_VIEWS) as QueueView[]).map((v) => (
          <li class="app-inline-form">
            <a href={`${WEB_PREFIX}/queue?view=${v}`} aria-current={v === view ? 'page' : undefined} class={v === view ? 'nhsuk-u-font-weight-bold' : undefined}>
              {QUEUE_VIEWS[v]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
    {rows.length === 0 ? (
      <p class="nhsuk-body" id="queue-empty">
        Nothing here: {view === 'overdue' ? 'no open work is past its due time.' : view === 'on-hold' ? 'no work is on hold.' : 'no open work.'}
      </p>
    ) : (
      <QueueTable user={user} rows={rows} view={view} />
    )}
    {next && (
      <p class="nhsuk-body">
        <a href={`${WEB_PREFIX}/queue?view=${view}&cursor=${encodeURIComponent(next)}`}>Next page</a>
      </p>
    )}
  </Layout>
);

const TeamSwitch: FC<{ user: PageUser }> = ({ user }) => (
  <form action={`${WEB_PREFIX}/team`} method="post" class="nhsuk-u-margin-bottom-4">
    <Csrf token={user.csrf} />
    <div class="nhsuk-form-group">
      <label class="nhsuk-label" for="team">
        Team
      </label>
      <select class="nhsuk-select" id="team" name="team">
        {user.teams.map((t) => (
          <option value={t.code} selected={t.code === user.team?.code}>
            {t.name}
          </option>
        ))}
      </select>
      <button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-left-2" type="submit">
        Show queue
      </button>
    </div>
  </form>
);

const QueueTable: FC<{ user: PageUser; rows: QueueRow[]; view: QueueView }> = ({ user, rows, view }) => (
  <table class="nhsuk-table-responsive" id="queue">
    <caption class="nhsuk-table__caption">
      {QUEUE_VIEWS[view]}, most urgent first, then earliest due
    </caption>
    <thead class="nhsuk-table__head">
      <tr>
        <th scope="col">Priority</th>
        <th scope="col">Person</th>
        <th scope="col">Work</th>
        <th scope="col">Due</th>
        <th scope="col">Status</th>
        <th scope="col">Action</th>
      </tr>
    </thead>
    <tbody class="nhsuk-table__body">
      {rows.map((row) => (
        <Row user={user} row={row} />
      ))}
    </tbody>
  </table>
);

const Cell: FC<{ heading: string; children?: unknown }> = ({ heading, children }) => (
  <td class="nhsuk-table__cell">
    <span class="nhsuk-table-responsive__heading" aria-hidden="true">
      {heading}{' '}
    </span>
    <span class="app-cell-body">{children as never}</span>
  </td>
);

const Row: FC<{ user: PageUser; row: QueueRow }> = ({ user, row }) => {
  const { task } = row;
  const priority = PRIORITY_LABELS[task.priority ?? ''] ?? { text: 'Not given', colour: 'grey' };
  const who = row.person?.name ?? 'person not known';
  const label = `${row.what} for ${who}`;
  const mine = row.holder && row.holder.reference === user.practitioner;
  return (
    <tr class="nhsuk-table__row" id={`task-${task.id}`} data-task={task.id}>
      <Cell heading="Priority">
        <strong class={`nhsuk-tag nhsuk-tag--${priority.colour}`}>{priority.text}</strong>
      </Cell>
      <Cell heading="Person">
        {row.person ? (
          <>
            {row.person.name}
            {row.person.nhsNumber && <span class="app-queue-meta">NHS number {row.person.nhsNumber.replace(/^(\d{3})(\d{3})(\d{4})$/, '$1 $2 $3')}</span>}
          </>
        ) : (
          'Not known'
        )}
      </Cell>
      <Cell heading="Work">
        {task.focus?.reference?.startsWith('ServiceRequest/') ? <a href={`${WEB_PREFIX}/referrals/${task.id}`}>{label}</a> : label}
        {task.description && <span class="app-queue-meta">{task.description}</span>}
      </Cell>
      <Cell heading="Due">
        {row.due ? <span class="app-nowrap">{londonTime(row.due)}</span> : 'No due time'}
        {row.overdue && (
          <>
            {' '}
            <strong class="nhsuk-tag nhsuk-tag--red">Overdue</strong>
          </>
        )}
      </Cell>
      <Cell heading="Status">
        {row.onHold ? (
          <>
            <strong class="nhsuk-tag nhsuk-tag--yellow">On hold</strong>
            {row.missing.length > 0 && <span class="app-queue-meta">Waiting for: {row.missing.join('; ')}</span>}
          </>
        ) : (
          <span>{STATUS_TEXT[task.status] ?? task.status}</span>
        )}
        {row.holder && <span class="app-queue-meta">Held by {mine ? 'you' : row.holder.name}</span>}
      </Cell>
      <Cell heading="Action">
        {!row.holder && (
          <form class="app-inline-form" action={`${WEB_PREFIX}/tasks/${task.id}/claim`} method="post">
            <Csrf token={user.csrf} />
            <button class="nhsuk-button nhsuk-button--small" type="submit">
              Claim<span class="nhsuk-u-visually-hidden"> {label}</span>
            </button>
          </form>
        )}
        {mine && (
          <form class="app-inline-form" action={`${WEB_PREFIX}/tasks/${task.id}/release`} method="post">
            <Csrf token={user.csrf} />
            <button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="submit">
              Release<span class="nhsuk-u-visually-hidden"> {label}</span>
            </button>
          </form>
        )}
      </Cell>
    </tr>
  );
};

const STATUS_TEXT: Record<string, string> = {
  requested: 'Waiting to be claimed',
  received: 'Claimed',
  accepted: 'Accepted',
  ready: 'Ready',
  'in-progress': 'In progress',
  'on-hold': 'On hold',
  completed: 'Completed',
};
