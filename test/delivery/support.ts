import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import type { Partner } from '../../src/config/partners.js';
import { OutboxSender, type SenderOptions } from '../../src/delivery/sender.js';
import { undiciTransport } from '../../src/delivery/transport.js';
import type { TestDatabase } from '../support/databases.js';
import { TestPartner } from '../support/partner.js';

/** The GP practice the tests' messages are addressed to (a DoS service id). */
export const GP = 'https://fhir.nhs.uk/Id/dos-service-id|2000099999';

/** Who we are in the BaRS headers, in every test. */
export const TEST_SENDER = { odsCode: 'RV5', name: 'Test trust', software: { name: 'Stepwise', version: 'test' } };

/** A sender's settings the tests share (four slots, a minute's lease, back-off from a second up to a minute, an hour's horizon). */
export const SENDER_SETTINGS = { concurrency: 4, leaseMs: 60_000, backoffMs: 1000, maxBackoffMs: 60_000, horizonMs: 3_600_000, sender: TEST_SENDER } as const;

/** An outbox sender with the shared settings; `options` names what it sends with, and may change any setting. */
export function testSender(options: Pick<SenderOptions, 'db' | 'clock' | 'partners' | 'transport'> & Partial<SenderOptions>): OutboxSender {
  return new OutboxSender({ ...SENDER_SETTINGS, ...options });
}

export interface PartnerHarness {
  /** A fresh database per test. */
  t: TestDatabase;
  /** Per test, at 2026-03-02T09:00Z. */
  clock: FixedClock;
  /** One partner on a real local port for the whole describe; per test it has received nothing and answers 200 at once. */
  partner: TestPartner;
  /** Per test: the partner as `gp`, serving GP. */
  partners: Partner[];
  transport: ReturnType<typeof undiciTransport>;
}

/**
 * Registers the hooks of a describe that delivers to a TestPartner over undici, and returns their
 * state (read its fields inside tests: they change per test).
 */
export function partnerHarness(open: () => Promise<TestDatabase>): PartnerHarness {
  const h = { transport: undiciTransport(4) } as PartnerHarness;
  beforeAll(async () => {
    h.partner = await new TestPartner().listen();
  });
  afterAll(async () => {
    await h.partner.close();
    await h.transport.close();
  });
  beforeEach(async () => {
    h.t = await open();
    h.clock = new FixedClock(new Date('2026-03-02T09:00:00Z'));
    h.partner.received.length = 0;
    h.partner.answer = () => 200;
    h.partner.delay = () => 0;
    h.partners = [{ id: 'gp', endpoint: h.partner.url, addresses: [GP], auth: { type: 'none' }, timeoutSeconds: 5 }];
  });
  afterEach(async () => h.t.dispose());
  return h;
}
