import type { Bundle } from '@medplum/fhirtypes';
import { pino } from 'pino';
import { seedPartnerMappings } from '../../src/mapping/publish.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * A test app ready for $ingest: the pathway's rules and teams, and the partner mappings
 * (StructureMaps, ConceptMaps); it logs errors only, so a failure shows the server's reason.
 */
export async function startIngestApp(): Promise<TestApp> {
  const t = await startTestApp(undefined, { logger: pino({ level: 'error' }) });
  try {
    await seedPathwayData(t.store);
    await seedPartnerMappings(t.store);
    return t;
  } catch (err) {
    await t.close();
    throw err;
  }
}

/** The resources a FHIR search (`Type?params`) answers with, in order. */
export async function searchResources<T>(t: TestApp, query: string): Promise<T[]> {
  return (((await (await t.fhir('GET', query)).json()) as Bundle).entry ?? []).map((e) => e.resource as T);
}
