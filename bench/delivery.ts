import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { systemClock } from '../src/clock.js';
import type { Partner } from '../src/config/partners.js';
import { enqueue, type OutboxMessage } from '../src/delivery/outbox.js';
import { DeliveryPoll } from '../src/delivery/poll.js';
import { OutboxSender } from '../src/delivery/sender.js';
import { undiciTransport } from '../src/delivery/transport.js';
import { migrate } from '../src/store/migrate.js';
import { PostgresDatabase } from '../src/store/postgres-database.js';
import { fmt, percentile } from './stats.js';
import { dropDatabase, freshDatabase } from './support.js';

const DB_NAME = 'stepwise_bench_delivery';
/** Messages delivered for the throughput figure (BENCH_DELIVERY_MESSAGES). */
const MESSAGES = Number(process.env.BENCH_DELIVERY_MESSAGES ?? 5000);
/** The steady load: messages queued per second, for how many seconds (BENCH_DELIVERY_RATE, BENCH_DELIVERY_SECONDS). */
const RATE = Number(process.env.BENCH_DELIVERY_RATE ?? 100);
const SECONDS = Number(process.env.BENCH_DELIVERY_SECONDS ?? 10);
/** The sender's poll interval under the steady load (BENCH_DELIVERY_INTERVAL_MS; the server's default is 1000). */
const INTERVALS = (process.env.BENCH_DELIVERY_INTERVAL_MS ?? '1000,100').split(',').map(Number);
const CONCURRENCY = 16;
const ADDRESS = 'https://fhir.nhs.uk/Id/dos-service-id|2000099999';

/** A partner on a local port that answers 200 at once and notes when each X-Request-ID arrived. */
async function localPartner(): Promise<{ server: Server; url: string; arrived: Map<string, number> }> {
  const arrived = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrived.set(String(req.headers['x-request-id']), performance.now());
      res.writeHead(200, { 'Content-Type': 'application/fhir+json' });
      res.end('{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`, arrived };
}

/** About the size of a triage-outcome response (a referral, its Task, patient, referrer, consent): 8 KB. */
const PAYLOAD = JSON.stringify({ resourceType: 'Bundle', type: 'message', entry: Array.from({ length: 10 }, (_, i) => ({ fullUrl: `urn:uuid:${randomUUID()}`, resource: { resourceType: 'Basic', id: `r${i}`, text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(700)}</div>` } } })) });

function message(referral: number): OutboxMessage {
  return { topic: 'bench', partner: ADDRESS, idempotencyKey: randomUUID(), orderingKey: `ServiceRequest/r${referral}`, contentType: 'application/fhir+json', payload: PAYLOAD };
}

/**
 * Outbound delivery (issue 14), in process on PostgreSQL to a partner on a local port:
 * throughput at concurrency 16 (a backlog of MESSAGES, five per referral, drained), and the lag
 * from queueing to arrival at the partner (p50, p99) under a steady RATE for SECONDS, at each
 * poll interval.
 */
export async function benchDelivery(log: (line: string) => void): Promise<Record<string, string>> {
  const dbUrl = await freshDatabase(DB_NAME);
  const db = new PostgresDatabase({ connectionString: dbUrl, poolSize: 8 });
  await migrate(db);
  const partner = await localPartner();
  const transport = undiciTransport(CONCURRENCY);
  const partners: Partner[] = [{ id: 'gp', endpoint: partner.url, addresses: [ADDRESS], auth: { type: 'none' }, timeoutSeconds: 30 }];
  const sender = new OutboxSender({
    db,
    clock: systemClock,
    partners,
    transport,
    concurrency: CONCURRENCY,
    leaseMs: 120_000,
    backoffMs: 5000,
    maxBackoffMs: 3_600_000,
    horizonMs: 72 * 3_600_000,
    sender: { odsCode: 'RV5', name: 'Bench trust', software: { name: 'Stepwise', version: 'bench' } },
  });
  const out: Record<string, string> = {};
  try {
    log(`throughput: ${MESSAGES} messages queued, five per referral`);
    const backlog = Array.from({ length: MESSAGES }, (_, i) => message(i % Math.ceil(MESSAGES / 5)));
    for (let i = 0; i < backlog.length; i += 1000) await enqueue(db, backlog.slice(i, i + 1000), systemClock.now());
    const t0 = performance.now();
    // as the server's poll does: keep the slots full until nothing is due
    const s = await sender.drain();
    if (s.delivered !== MESSAGES) throw new Error(`delivered ${JSON.stringify(s)} of ${MESSAGES}`);
    const seconds = (performance.now() - t0) / 1000;
    out[`throughput to a local partner, concurrency ${CONCURRENCY} (${MESSAGES} messages of ${Math.round(PAYLOAD.length / 1024)} KB)`] = `${fmt(MESSAGES / seconds, 0)} messages/s`;

    for (const intervalMs of INTERVALS) {
      log(`steady load: ${RATE}/s for ${SECONDS} s, poll interval ${intervalMs} ms`);
      partner.arrived.clear();
      const queued = new Map<string, number>();
      const poll = new DeliveryPoll(sender, { intervalMs, logger: pino({ level: 'silent' }) });
      poll.start();
      const start = performance.now();
      const total = RATE * SECONDS;
      // one message every 1/RATE s, each its own referral's next message (ten referrals in turn)
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const m = message(i % 10);
        queued.set(m.idempotencyKey, performance.now());
        await enqueue(db, [m], systemClock.now());
      }
      const deadline = performance.now() + 60_000;
      while (partner.arrived.size < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await poll.stop();
      if (partner.arrived.size < total) throw new Error(`only ${partner.arrived.size} of ${total} arrived`);
      const lags = [...queued].map(([key, at]) => partner.arrived.get(key)! - at).sort((a, b) => a - b);
      out[`lag from queued to delivered at ${RATE} messages/s, poll ${intervalMs} ms (p50 / p99 / max)`] = `${fmt(percentile(lags, 50))} / ${fmt(percentile(lags, 99))} / ${fmt(lags.at(-1)!)} ms`;
    }
  } finally {
    await transport.close();
    await new Promise((r) => partner.server.close(r));
    await db.close();
    await dropDatabase(DB_NAME);
  }
  return out;
}
