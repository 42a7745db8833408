import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Queryable } from '../store/database.js';
import { DeliveryPoll } from './poll.js';
import { OutboxSender } from './sender.js';
import { undiciTransport } from './transport.js';

/** Stepwise's version, in NHSD-Requesting-Software. */
const SOFTWARE = { name: 'Stepwise', version: '0.1.0' };

/**
 * Outbound delivery on this instance, as configured (main.ts starts it once ready, beside the
 * pathway scheduler): the sender over undici, polled. `stop` waits for the run under way and
 * closes the connections.
 */
export function startDelivery(db: Queryable, clock: Clock, config: Pick<Config, 'partners' | 'delivery' | 'organisation'>, logger: Logger): { stop(): Promise<void> } {
  const { delivery } = config;
  const transport = undiciTransport(delivery.concurrency);
  const sender = new OutboxSender({
    db,
    clock,
    partners: config.partners,
    transport,
    concurrency: delivery.concurrency,
    leaseMs: delivery.leaseMs,
    backoffMs: delivery.backoffMs,
    maxBackoffMs: delivery.maxBackoffMs,
    horizonMs: delivery.horizonMs,
    sender: { ...config.organisation, software: SOFTWARE },
    logger,
  });
  const poll = new DeliveryPoll(sender, { intervalMs: delivery.intervalMs, logger });
  poll.start();
  logger.info({ partners: config.partners.map((p) => p.id), host: hostname(), concurrency: delivery.concurrency }, 'outbound delivery started');
  return {
    stop: async () => {
      await poll.stop();
      await transport.close();
    },
  };
}
