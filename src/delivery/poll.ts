import { IntervalPoll } from '../interval-poll.js';
import type { Logger } from '../logger.js';
import type { OutboxSender } from './sender.js';

/**
 * The in-process trigger of delivery, beside the pathway scheduler's (pathway/scheduler/poll.ts):
 * every `intervalMs` it delivers what is due, and keeps going while there is more. The messages
 * are outbox rows, so an instance that stops loses nothing.
 */
export class DeliveryPoll extends IntervalPoll {
  constructor(sender: OutboxSender, opts: { intervalMs: number; logger: Logger }) {
    super(opts.intervalMs, () =>
      sender
        .drain()
        .then((s) => {
          if (s.delivered || s.dead) opts.logger.info({ delivered: s.delivered, retried: s.retried, dead: s.dead }, 'outbound messages');
        })
        .catch((err) => opts.logger.error({ err }, 'outbound delivery run failed')),
    );
  }
}
