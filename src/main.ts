import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig } from './config.js';
import { stepwiseSearchParameters } from './fhir/definitions.js';
import { serverValidator } from './fhir/server-validator.js';
import { loadStepwiseConformance } from './fhir/stepwise-profiles.js';
import { createMessaging } from './messaging/index.js';
import { sharedBarsValidator } from './messaging/conformance.js';
import { seedPathwayData } from './pathway/seed-rules.js';
import { createLogger } from './logger.js';
import type { Database } from './store/database.js';
import { migrate } from './store/migrate.js';
import { PgliteDatabase } from './store/pglite-database.js';
import { PostgresDatabase } from './store/postgres-database.js';
import { ResourceStore } from './store/resource-store.js';
import { upsertAll } from './store/seed.js';

/** config -> database -> app -> server: the one place that wires concrete classes. */
async function main(): Promise<void> {
  let config;
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
  const db: Database = config.databaseUrl
    ? new PostgresDatabase({ connectionString: config.databaseUrl, poolSize: config.poolSize })
    : await PgliteDatabase.open(config.dataDir);
  const applied = await migrate(db);
  logger.info({ database: db.kind, dataDir: config.databaseUrl ? undefined : config.dataDir, migrationsApplied: applied }, 'database ready');

  const store = new ResourceStore(db, systemClock);
  // integrators read and search our StructureDefinitions, ValueSets and CodeSystems by url
  const published = await upsertAll(store, [...loadStepwiseConformance(), ...stepwiseSearchParameters().entry!.map((e) => e.resource!)]);
  logger.info({ conformanceResourcesChanged: published.changed }, 'published conformance resources');
  // the front-door rule set (PlanDefinition), its code systems and the teams it assigns to
  const pathway = await seedPathwayData(store);
  logger.info({ pathwayResourcesWritten: pathway.written.length }, 'pathway rules and teams ready');

  // build the BaRS validator now, not on the first message
  sharedBarsValidator();
  const app = createApp({
    store,
    messaging: createMessaging(db, systemClock, config.barsServices),
    logger,
    validator: serverValidator(),
    writeValidation: config.writeValidation,
    baseUrl: config.baseUrl,
    maxBodyBytes: config.maxBodyBytes,
    maxBundleEntries: config.maxBundleEntries,
  });
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    logger.info({ port: info.port }, `Stepwise FHIR server listening on http://localhost:${info.port}/fhir`);
  });

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close(() => void db.close().finally(() => process.exit(0)));
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
