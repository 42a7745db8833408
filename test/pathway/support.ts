import type { Bundle, Resource } from '@medplum/fhirtypes';
import { FixedClock } from '../../src/clock.js';
import type { ReferralContext } from '../../src/pathway/referral-context.js';
import { seedPathwayData } from '../../src/pathway/seed-rules.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { migrate } from '../../src/store/migrate.js';
import { pgliteFromTemplate, type TestDatabase } from '../support/databases.js';

export interface PathwayTestStore {
  t: TestDatabase;
  store: ResourceStore;
  clock: FixedClock;
  /** Stores a referral context with its own ids. */
  put(ctx: ReferralContext): Promise<void>;
}

/** Monday 2 March 2026, 09:00 London (GMT). */
export const MONDAY_9AM = new Date('2026-03-02T09:00:00Z');

/** A migrated PGlite database with the pathway rules and teams seeded as of MONDAY_9AM. */
const seededPglite = () =>
  pgliteFromTemplate('pathway-seeded', async (db) => {
    await migrate(db);
    await seedPathwayData(new ResourceStore(db, new FixedClock(MONDAY_9AM)));
  });

export async function pathwayStore(open?: () => Promise<TestDatabase>): Promise<PathwayTestStore> {
  const t = await (open ?? seededPglite)();
  const clock = new FixedClock(MONDAY_9AM);
  const store = new ResourceStore(t.db, clock);
  if (open) await seedPathwayData(store);
  return {
    t,
    store,
    clock,
    put: async (ctx) => {
      const all = [ctx.patient, ctx.requester, ...ctx.related, ctx.referral].filter((r): r is Resource => r !== undefined);
      await store.transaction(async (tx) => {
        for (const r of all) await tx.update(r);
      });
    },
  };
}

export function entries(bundle: Bundle): Resource[] {
  return (bundle.entry ?? []).map((e) => e.resource!).filter(Boolean);
}
