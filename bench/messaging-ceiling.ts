import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { systemClock } from '../src/clock.js';
import { createMessaging } from '../src/messaging/index.js';
import type { Database, Queryable, QueryOptions } from '../src/store/database.js';
import { PostgresDatabase } from '../src/store/postgres-database.js';
import { barsHeaders, FRONT_DOOR_DOS, REFERRAL_CONTEXT, referralMessage } from '../test/messaging/support.js';
import { fmt } from './stats.js';
import { nhsNumberFor } from './support.js';

interface Captured {
  text: string;
  values: unknown[];
}

/**
 * The database's share of a referral message on its own: the one statement that writes a message
 * (its resources, triage Tasks, AuditEvent, log row) is captured for `count` real messages, as the
 * processor builds them, then replayed over `concurrency` connections with nothing else running.
 * What PostgreSQL can do here bounds what the whole server can.
 */
export async function writeStatementCeiling(databaseUrl: string, count: number, concurrency: number[]): Promise<Record<string, string>> {
  const db = new PostgresDatabase({ connectionString: databaseUrl });
  const captured: Captured[] = [];
  // every read goes to the database; the write statement is kept instead of run, answered as if logged
  const capture = (q: Queryable): Queryable => ({
    query: async <T>(text: string, values: unknown[] = [], opts?: QueryOptions) => {
      if (!text.startsWith('WITH log AS')) return q.query<T>(text, values, opts);
      captured.push({ text, values });
      return [{ seq: '0' }] as T[];
    },
  });
  const capturing: Database = { kind: 'postgres', query: capture(db).query, transaction: (fn) => db.transaction((tx) => fn(capture(tx))), close: () => db.close() };
  const messaging = createMessaging(capturing, systemClock);
  for (let i = 0; i < count; i++) {
    const body = referralMessage({ nhsNumber: nhsNumberFor(5_000_000 + i), bundleId: randomUUID(), freshUrls: true });
    const res = await messaging.process({ body, headers: barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT), async: false, baseUrl: 'http://127.0.0.1/fhir' });
    if (res.status !== 200) throw new Error(`capture: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  await db.close();

  const out: Record<string, string> = {};
  // prepared, as the server prepares it (one name per statement shape)
  const shapes = new Map<string, string>();
  const names = (text: string) => shapes.get(text) ?? (shapes.set(text, `w${shapes.size}`), `w${shapes.size - 1}`);
  let next = 0;
  for (const c of concurrency) {
    const conns = await Promise.all(Array.from({ length: c }, async () => { const k = new pg.Client({ connectionString: databaseUrl }); await k.connect(); return k; }));
    const share = Math.floor((captured.length - next) / concurrency.length);
    const end = next + share;
    const t0 = performance.now();
    const start = next;
    await Promise.all(
      conns.map(async (k) => {
        while (next < end) {
          const s = captured[next++];
          await k.query({ name: names(s.text), text: s.text, values: s.values });
        }
      }),
    );
    const perSecond = ((end - start) / (performance.now() - t0)) * 1000;
    out[`the message's write statement alone, replayed, concurrency ${c}`] = `${fmt(perSecond, 0)} /s`;
    await Promise.all(conns.map((k) => k.end()));
  }
  return out;
}
