import type { Context, MiddlewareHandler } from 'hono';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { PATHWAY_TEAMS } from '../pathway/seed-rules.js';
import type { Database } from '../store/database.js';
import { bundleInteraction, interactionOf } from './fhir-interaction.js';

export interface MetricsSources {
  fhirPrefix: string;
  /** The database, once there is one: pool and queue figures are read at scrape time. */
  database(): Database | undefined;
  /** Whether a name is an R4 resource type: only those become labels, so the label set stays bounded. */
  isResourceType(name: string): boolean;
  logger: Logger;
}

/** Task statuses of work still to do (http://hl7.org/fhir/R4/valueset-task-status.html). */
const OPEN_TASK_STATUSES = ['requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold'];

/**
 * Prometheus metrics of one app (a registry of its own, so several apps in one process keep
 * separate figures): requests by FHIR interaction, resource type and status class, the database
 * pool, the open Tasks of each pathway team's queue, the outbox backlog, and Node's own figures.
 */
export class AppMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'interaction' | 'resource_type' | 'status_class'>;
  private collectingDefaults = false;
  private readonly duration: Histogram<'interaction' | 'resource_type' | 'status_class'>;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    const labelNames = ['interaction', 'resource_type', 'status_class'] as const;
    this.requests = new Counter({ name: 'stepwise_http_requests_total', help: 'HTTP requests, by FHIR interaction (none outside /fhir), resource type and status class', labelNames, registers });
    this.duration = new Histogram({
      name: 'stepwise_http_request_duration_seconds',
      help: 'Time from request to response, by FHIR interaction, resource type and status class',
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    const scrape = (what: string, fn: (db: Database) => Promise<void> | void) => async () => {
      const db = sources.database();
      if (!db) return;
      try {
        await fn(db);
      } catch (err) {
        sources.logger.warn({ err }, `metrics: could not read ${what}`);
      }
    };
    const pool: Gauge<'state'> = new Gauge({
      name: 'stepwise_db_pool_connections',
      help: 'Database connections by state (the embedded database has one and no pool)',
      labelNames: ['state'],
      registers,
      collect: scrape('the pool', (db) => {
        pool.reset();
        for (const [state, n] of Object.entries(db.poolStats?.() ?? {})) if (n !== undefined) pool.set({ state }, n);
      }),
    });
    const openTasks: Gauge<'owner'> = new Gauge({
      name: 'stepwise_open_tasks',
      help: `Tasks with an open status (${OPEN_TASK_STATUSES.join(', ')}) owned by each pathway team`,
      labelNames: ['owner'],
      registers,
      collect: scrape('the queues', async (db) => {
        const rows = await db.query<{ owner: string; n: number }>(
          `SELECT ref.target_id AS owner, count(*)::int AS n
             FROM sp_reference ref
             JOIN sp_token st ON st.rid = ref.rid AND st.param = 'status' AND st.type = 'Task' AND st.code = ANY($2::text[])
            WHERE ref.type = 'Task' AND ref.param = 'owner' AND ref.target_type = 'Organization' AND ref.target_id = ANY($1::text[])
            GROUP BY ref.target_id`,
          [PATHWAY_TEAMS.map((t) => t.id!), OPEN_TASK_STATUSES],
        );
        const byOwner = new Map(rows.map((r) => [r.owner, r.n]));
        for (const team of PATHWAY_TEAMS) openTasks.set({ owner: team.id! }, byOwner.get(team.id!) ?? 0);
      }),
    });
    const outbox: Gauge = new Gauge({
      name: 'stepwise_outbox_queued_messages',
      help: 'Messages to partners queued in the outbox (src/delivery), not yet delivered: pending or being sent',
      registers,
      collect: scrape('the outbox', async (db) => {
        const rows = await db.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM outbox WHERE state <> 'delivered' GROUP BY state`);
        const n = (state: string) => rows.find((r) => r.state === state)?.n ?? 0;
        outbox.set(n('pending') + n('delivering'));
        deadLetters.set(n('dead'));
      }),
    });
    const deadLetters: Gauge = new Gauge({
      name: 'stepwise_outbox_dead_messages',
      help: 'Messages to partners given up on (dead letters): list them with GET /fhir/$outbox?state=dead and replay them',
      registers,
    });
  }

  /** Counts and times every request; FHIR requests by their interaction. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const start = performance.now();
      try {
        await next();
      } finally {
        const labels = { ...(await this.labelsOf(c)), status_class: `${Math.floor(c.res.status / 100)}xx` };
        this.requests.inc(labels);
        this.duration.observe(labels, (performance.now() - start) / 1000);
      }
    };
  }

  async render(): Promise<{ body: string; contentType: string }> {
    // Node's own metrics watch the event loop and GC from then on: not for apps never scraped (tests)
    if (!this.collectingDefaults) {
      collectDefaultMetrics({ register: this.registry });
      this.collectingDefaults = true;
    }
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  private async labelsOf(c: Context): Promise<{ interaction: string; resource_type: string }> {
    const prefix = this.sources.fhirPrefix;
    if (c.req.path !== prefix && !c.req.path.startsWith(`${prefix}/`)) return { interaction: 'none', resource_type: '' };
    const path = c.req.path.slice(prefix.length).replace(/^\/+|\/+$/g, '');
    let { interaction, type } = interactionOf(c.req.method, path);
    if (interaction === 'bundle') {
      // the endpoint has read the body, if it got that far; reading it here would read what it refused
      const body = c.req.bodyCache.arrayBuffer as Promise<ArrayBuffer> | undefined;
      if (body) interaction = bundleInteraction(await body.catch(() => new ArrayBuffer(0)));
    }
    return { interaction, resource_type: type === undefined ? '' : this.sources.isResourceType(type) ? type : 'other' };
  }
}
