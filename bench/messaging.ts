import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { barsHeaders, FRONT_DOOR_DOS, headersAsHttp, REFERRAL_CONTEXT, referralMessage } from '../test/messaging/support.js';
import { writeStatementCeiling } from './messaging-ceiling.js';
import { fmt, measure } from './stats.js';
import { dropDatabase, freePort, freshDatabase, nhsNumberFor, startServer, stopServer } from './support.js';

const DB_NAME = 'stepwise_bench_messaging';

/**
 * BaRS referral messages per second end to end against a server process on PostgreSQL: HTTP,
 * JSON parse, header checks, validation against R4 and the BaRS profiles, MessageDefinition and
 * business rules, identity matching, the front door's triage, and storage of the 10 resources,
 * the triage Tasks, Provenance, AuditEvent and log row in one statement, and the response message.
 * Concurrency 1 and 16, with p50/p99 latency.
 */
export async function benchMessaging(log: (s: string) => void): Promise<Record<string, string>> {
  const dbUrl = await freshDatabase(DB_NAME);
  const port = await freePort();
  const server = await startServer(dbUrl, port);
  const url = `http://127.0.0.1:${port}/fhir/$process-message`;
  const agent = new Agent({ connections: 32, pipelining: 1 });
  let n = 0;
  const send = async (i: number) => {
    const body = referralMessage({ nhsNumber: nhsNumberFor(i), bundleId: randomUUID(), freshUrls: true });
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/fhir+json', ...headersAsHttp(barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT)) },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`$process-message: ${res.statusCode} ${text.slice(0, 500)}`);
    n++;
  };
  const out: Record<string, string> = {};
  try {
    await measure(300, 8, (i) => send(1_000_000 + i)); // warm-up: the validator loads R4 on first use
    const c1 = await measure(1000, 1, (i) => send(i));
    out['referral messages/s, concurrency 1'] = `${fmt(c1.perSecond, 0)} /s (p50 ${fmt(c1.p50, 2)} ms, p99 ${fmt(c1.p99, 2)} ms)`;
    log(`messages c=1: ${out['referral messages/s, concurrency 1']}`);
    const c16 = await measure(5000, 16, (i) => send(10_000 + i));
    out['referral messages/s, concurrency 16'] = `${fmt(c16.perSecond, 0)} /s (p50 ${fmt(c16.p50, 2)} ms, p99 ${fmt(c16.p99, 2)} ms)`;
    log(`messages c=16: ${out['referral messages/s, concurrency 16']}`);
    out['message shape'] = '11 entries (MessageHeader, ServiceRequest, Patient, Encounter, CarePlan, Practitioner, PractitionerRole, 2 Organizations, Consent, HealthcareService); a new Patient per message, Organizations and Practitioner matched; each message also writes its triage Task, clarification and oversight Tasks, Provenance, AuditEvent and log row';
    log(`${n} messages processed`);
    // after the HTTP runs, so the practices and practitioners of the messages are known
    const ceiling = await writeStatementCeiling(dbUrl, 4000, [16, 4]);
    for (const [k, v] of Object.entries(ceiling)) log(`${k}: ${v}`);
    Object.assign(out, ceiling);
  } finally {
    await agent.close();
    await stopServer(server);
    await dropDatabase(DB_NAME);
  }
  return out;
}
