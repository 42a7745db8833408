import type { FC } from 'hono/jsx';
import type { PageUser } from './context.js';
import { ErrorMessage, ErrorSummary, Layout, WEB_PREFIX, type FieldError, type NavItem } from './layout.js';
import type { Figure, MeasureView } from './measures-data.js';

export interface MeasuresProps {
  user: PageUser;
  nav: NavItem[];
  period: { start: string; end: string };
  measures: MeasureView[];
  errors: FieldError[];
}

const percent = (x: number | undefined) => (x === undefined ? 'No cases' : `${(x * 100).toFixed(1)}%`);
const minutes = (x: number | undefined) => (x === undefined ? '–' : x >= 120 ? `${(x / 60).toFixed(1)} hours` : `${Math.round(x)} minutes`);

/**
 * The pathway's measures over a period (src/measures, $evaluate-measure): for each, a chart of the
 * proportion overall and by team (server-rendered SVG, no script) and the same figures as tables,
 * with the counts behind each score, by team and by priority.
 */
export const MeasuresPage: FC<MeasuresProps> = ({ user, nav, period, measures, errors }) => (
  <Layout title="Measures" user={{ name: user.name, team: user.team?.name, csrf: user.csrf }} nav={nav} hasErrors={errors.length > 0}>
    <ErrorSummary errors={errors} />
    <h1>Pathway measures</h1>
    <form action={`${WEB_PREFIX}/measures`} method="get" novalidate class="nhsuk-u-margin-bottom-5">
      <DateField id="from" label="From" value={period.start} errors={errors} />
      <DateField id="to" label="To (inclusive)" value={period.end} errors={errors} />
      <button class="nhsuk-button nhsuk-button--secondary" type="submit">
        Show measures
      </button>
    </form>
    <nav aria-label="Measures on this page" class="nhsuk-contents-list">
      <ol class="nhsuk-contents-list__list">
        {measures.map((m) => (
          <li class="nhsuk-contents-list__item">
            <a class="nhsuk-contents-list__link" href={`#${m.id}`}>
              {m.title}
            </a>
          </li>
        ))}
      </ol>
    </nav>
    {measures.map((m) => (
      <MeasureSection m={m} />
    ))}
  </Layout>
);

const DateField: FC<{ id: string; label: string; value: string; errors: FieldError[] }> = ({ id, label, value, errors }) => {
  const error = errors.some((e) => e.field === id);
  return (
    <div class={`nhsuk-form-group app-inline-form${error ? ' nhsuk-form-group--error' : ''}`}>
      <label class="nhsuk-label" for={id}>
        {label}
      </label>
      <ErrorMessage id={id} errors={errors} />
      <input class={`nhsuk-input nhsuk-input--width-10${error ? ' nhsuk-input--error' : ''}`} id={id} name={id} type="date" value={value} aria-describedby={error ? `${id}-error` : undefined} />
    </div>
  );
};

const MeasureSection: FC<{ m: MeasureView }> = ({ m }) => (
  <section aria-labelledby={`${m.id}-title`} id={m.id} class="nhsuk-u-margin-bottom-7">
    <h2 id={`${m.id}-title`}>{m.title}</h2>
    {m.description && <p class="nhsuk-body">{m.description}</p>}
    {m.unavailable ? (
      <p class="nhsuk-body">{m.unavailable}</p>
    ) : (
      <>
        <p class="nhsuk-body-l">
          <strong>{percent(m.overall.score)}</strong> {m.counts.toLowerCase()}
          {m.overall.denominator !== undefined && ` (${m.overall.numerator ?? 0} of ${(m.overall.denominator ?? 0) - (m.overall.excluded ?? 0)} cases)`}
          {m.observesMinutes && `; median ${minutes(m.overall.median)}, 90th percentile ${minutes(m.overall.p90)}`}
        </p>
        <BarChart id={m.id} title={`${m.title}: ${m.counts.toLowerCase()}, overall and by team`} figures={[m.overall, ...m.byTeam]} />
        <FigureTable caption={`${m.title} by team`} heading="Team" figures={[m.overall, ...m.byTeam]} observesMinutes={m.observesMinutes} />
        <FigureTable caption={`${m.title} by priority`} heading="Priority" figures={m.byPriority} observesMinutes={m.observesMinutes} />
      </>
    )}
  </section>
);

const BAR = { left: 210, width: 340, row: 34, top: 10 };

/**
 * A horizontal bar chart as SVG, drawn on the server: one bar per figure, its percentage written
 * beside it. The table after it holds the same figures for those who cannot see the chart, so the
 * image is described by its title and a short summary.
 */
const BarChart: FC<{ id: string; title: string; figures: Figure[] }> = ({ id, title, figures }) => {
  const height = BAR.top * 2 + figures.length * BAR.row;
  return (
    <svg class="app-chart" viewBox={`0 0 600 ${height}`} width="600" height={height} role="img" aria-labelledby={`${id}-chart-title ${id}-chart-desc`} xmlns="http://www.w3.org/2000/svg">
      <title id={`${id}-chart-title`}>{title}</title>
      <desc id={`${id}-chart-desc`}>{figures.map((f) => `${f.label}: ${percent(f.score)}`).join('; ')}. The same figures are in the table below.</desc>
      <line class="app-axis" x1={BAR.left} y1={BAR.top / 2} x2={BAR.left} y2={height - BAR.top / 2} />
      {figures.map((f, i) => {
        const y = BAR.top + i * BAR.row;
        const w = f.score === undefined ? 0 : Math.max(1, f.score * BAR.width);
        return (
          <g>
            <text x={BAR.left - 8} y={y + 20} text-anchor="end">
              {f.label.length > 26 ? `${f.label.slice(0, 25)}…` : f.label}
            </text>
            <rect class={i === 0 ? 'app-bar app-bar--target' : 'app-bar'} x={BAR.left} y={y + 4} width={w} height={BAR.row - 10} />
            <text x={BAR.left + w + 6} y={y + 20}>
              {percent(f.score)}
            </text>
          </g>
        );
      })}
    </svg>
  );
};

const FigureTable: FC<{ caption: string; heading: string; figures: Figure[]; observesMinutes: boolean }> = ({ caption, heading, figures, observesMinutes }) =>
  figures.length === 0 ? null : (
    <div class="app-table-scroll">
      <table class="nhsuk-table">
        <caption class="nhsuk-table__caption nhsuk-table__caption--s">{caption}</caption>
        <thead class="nhsuk-table__head">
          <tr>
            <th scope="col">{heading}</th>
            <th scope="col">Score</th>
            <th scope="col">Numerator</th>
            <th scope="col">Denominator</th>
            <th scope="col">Excluded</th>
            {observesMinutes && <th scope="col">Median</th>}
            {observesMinutes && <th scope="col">90th percentile</th>}
          </tr>
        </thead>
        <tbody class="nhsuk-table__body">
          {figures.map((f) => (
            <tr class="nhsuk-table__row">
              <th scope="row">{f.label}</th>
              <td class="nhsuk-table__cell">{percent(f.score)}</td>
              <td class="nhsuk-table__cell">{f.numerator ?? 0}</td>
              <td class="nhsuk-table__cell">{f.denominator ?? 0}</td>
              <td class="nhsuk-table__cell">{f.excluded ?? 0}</td>
              {observesMinutes && <td class="nhsuk-table__cell">{minutes(f.median)}</td>}
              {observesMinutes && <td class="nhsuk-table__cell">{minutes(f.p90)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
