import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createAppWithLifecycle, type FhirServices } from './app.js';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DiskCache } from './disk-cache.js';
import { startDelivery } from './delivery/start.js';
import { loadR4Definitions, stepwiseSearchParameters } from './fhir/definitions.js';
import { createServerValidator } from './fhir/server-validator.js';
import { loadStepwiseConformance } from './fhir/stepwise-profiles.js';
import { loadR4Base } from './fhir/validation/r4-definitions.js';
import { closeGracefully } from './http/graceful-close.js';
import { Lifecycle } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import { createMessaging } from './messaging/index.js';
import { sharedBarsValidator } from './messaging/conformance.js';
import { handoverMessagePolicy } from './delivery/handover-message.js';
import { triageOutcomePolicy } from './messaging/triage-outcome.js';
import { SchedulerPoll } from './pathway/scheduler/poll.js';
import { createSecurity } from './security/security.js';
import { seedPathwayData } from './pathway/seed-rules.js';
import { pathwayPolicies } from './pathway/write-policies.js';
import { StoredConformance } from './pipeline/stored-conformance.js';
import { WritePipeline } from './pipeline/write-pipeline.js';
import { sinceProcessStart, Startup, StartupAborted } from './startup.js';
import type { Database } from './store/database.js';
import { openEmbeddedDatabase } from './store/embedded-database.js';
import { migrate } from './store/migrate.js';
import { PostgresDatabase } from './store/postgres-database.js';
import { ResourceStore } from './store/resource-store.js';
import { upsertAll } from './store/seed.js';
import { seedPartnerMappings } from './mapping/publish.js';

/**
 * config -> server -> database -> app services: the one place that wires concrete classes. The
 * server listens first, so health checks answer while the rest starts; the FHIR API answers 503
 * until the database is migrated, the seed data written and the validators built.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const lifecycle = new Lifecycle<FhirServices>();
  const { baseUrl, allowedHosts, maxBodyBytes, maxBundleEntries, inputLimits, rateLimitPerMinute, corsOrigins } = config;
  const security = await createSecurity(config.auth, { dataDir: config.databaseUrl ? undefined : config.dataDir, database: () => lifecycle.services?.store.database });
  const app = createAppWithLifecycle({ logger, baseUrl, allowedHosts, maxBodyBytes, maxBundleEntries, inputLimits, rateLimitPerMinute, corsOrigins, security }, lifecycle);
  const server = await listen(app.fetch, config);
  const { port } = server.address() as AddressInfo;
  logger.info({ port, listeningMs: sinceProcessStart() }, `Stepwise FHIR server listening on http://localhost:${port}/fhir (starting)`);
  logAuthentication(logger, config);

  let db: Database | undefined;
  const started = start(config, logger, lifecycle, (opened) => (db = opened));
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    lifecycle.drain();
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: no new connections, finishing requests in flight');
    // whatever happens below, the process ends
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 10_000).unref();
    const { forced } = await closeGracefully(server, config.shutdownGraceMs);
    if (forced) logger.warn({ graceMs: config.shutdownGraceMs }, 'closed connections whose requests did not finish in time');
    // a start-up step under way finishes before the database closes, and so do a scheduler run and a delivery run
    const pollers = await started.catch(() => undefined);
    for (const poller of pollers ?? []) await poller.stop();
    await db?.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    await started;
    logger.info({ readyMs: sinceProcessStart() }, 'ready');
  } catch (err) {
    if (err instanceof StartupAborted) return;
    logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }
}

/**
 * Opens the database and builds what the FHIR API needs, one logged step at a time; then it is
 * ready, and the pathway scheduler and outbound delivery (unless turned off) start polling.
 * Returns them, to be stopped before the database closes.
 */
async function start(config: Config, logger: Logger, lifecycle: Lifecycle<FhirServices>, opened: (db: Database) => void): Promise<{ stop(): Promise<void> }[]> {
  const startup = new Startup(logger, lifecycle);
  const cache = new DiskCache(config.cacheDir);
  const db = await startup.step(
    'database',
    async () => {
      if (config.databaseUrl) {
        const pg = new PostgresDatabase({ connectionString: config.databaseUrl, poolSize: config.poolSize, statementTimeoutMs: config.statementTimeoutMs, acquireTimeoutMs: config.acquireTimeoutMs });
        opened(pg);
        return { db: pg, origin: 'existing', migrationsApplied: await migrate(pg) };
      }
      const embedded = await openEmbeddedDatabase(config.dataDir, cache);
      opened(embedded.db);
      return embedded;
    },
    ({ db, ...how }) => ({ database: db.kind, dataDir: config.databaseUrl ? undefined : config.dataDir, ...how }),
  );
  // @medplum/core's schema of the R4 types: FHIRPath, search parameters, XML, _summary
  await startup.step('R4 definitions', () => loadR4Definitions(cache));
  const validator = await startup.step('validators', () => {
    loadR4Base(cache);
    sharedBarsValidator();
    // the built-in profiles, plus the StructureDefinitions, ValueSets and CodeSystems users store (issue 15)
    return new StoredConformance(createServerValidator, logger);
  });
  const store = new ResourceStore(db.db, systemClock);
  // integrators read and search our StructureDefinitions, ValueSets and CodeSystems by url
  await startup.step(
    'published conformance resources',
    () => upsertAll(store, [...loadStepwiseConformance(), ...stepwiseSearchParameters().entry!.map((e) => e.resource!)]),
    ({ changed }) => ({ changed }),
  );
  // the front-door rule set (PlanDefinition), its code systems and the teams it assigns to
  await startup.step('pathway rules and teams', () => seedPathwayData(store), ({ written }) => ({ written: written.length }));
  // the profiles, value sets and code systems stored (users', packages'), so the first request does not wait for them (issue 15)
  await startup.step('stored conformance resources', () => validator.prepare(db.db));
  // the partner mappings' StructureMaps and ConceptMaps, read at StructureMap/[id] and run by $transform (issue 14)
  await startup.step('partner mappings', () => seedPartnerMappings(store), ({ changed }) => ({ changed }));
  // one set of pathway policies, as configured, for every route a write can take
  // and a triage decision on a BaRS referral goes back to its sender through the outbox (issue 14)
  const frontDoor = config.barsServices.find((s) => s.key === 'front-door') ?? config.barsServices[0];
  // the step-down handover leaves from the crisis service (STEPWISE_BARS_SERVICES key crisis-line)
  const crisisLine = config.barsServices.find((s) => s.key === 'crisis-line') ?? frontDoor;
  const policies = [
    ...pathwayPolicies({ firstContactWithinHours: config.firstContactAfterCrisisHours }),
    triageOutcomePolicy({ dosId: frontDoor.dosId, baseUrl: config.baseUrl ?? `http://localhost:${config.port}/fhir` }),
    handoverMessagePolicy({ partners: config.partners, dosId: crisisLine.dosId }),
  ];
  const messaging = createMessaging(db.db, systemClock, config.barsServices, policies);
  lifecycle.ready({ store, messaging, validator, writeValidation: config.writeValidation, unknownProfile: config.unknownProfile, unknownExtension: config.unknownExtension, policies });
  // outbound delivery: outbox rows claimed with SKIP LOCKED, so any number of instances may send
  const delivery = config.delivery.enabled ? startDelivery(db.db, systemClock, config, logger) : undefined;
  if (!config.scheduler.enabled) return delivery ? [delivery] : [];
  // time-driven pathway work: jobs in the database, claimed with SKIP LOCKED, so any number of instances may poll
  const pipeline = new WritePipeline({ validator, policies });
  const origin = { route: 'scheduler' as const, baseUrl: config.baseUrl ?? '(scheduler)', requestor: { name: 'Stepwise scheduler' } };
  const scheduler = new SchedulerPoll(store, { intervalMs: config.scheduler.intervalMs, logger, context: (tx, now) => pipeline.context(tx, origin, now) });
  scheduler.start();
  return [scheduler, ...(delivery ? [delivery] : [])];
}

/** Development mode is said loudly at every start: with auth off anyone who reaches the port can read and change everything. */
function logAuthentication(logger: Logger, config: Config): void {
  const { auth } = config;
  if (auth.mode === 'on') {
    logger.info({ auth: 'on', clients: auth.clients.length, identityProviders: auth.identityProviders.length }, 'authentication on: bearer tokens with SMART scopes');
    return;
  }
  logger.warn(
    { auth: 'off', explicit: auth.explicit },
    'AUTHENTICATION IS OFF (development mode): anyone who can reach this port can read and change every record. ' +
      (auth.explicit ? 'STEPWISE_AUTH=off is set.' : 'This is the default on the embedded database; set STEPWISE_AUTH=on with STEPWISE_CLIENTS or STEPWISE_IDP for real data.'),
  );
}

function listen(fetch: (request: Request) => Response | Promise<Response>, config: Config): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port: config.port, hostname: config.host }, () => resolve(server as Server));
    server.once('error', reject);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
