import type { Logger } from '../logger.js';
import type { OutboxSender } from './sender.js';

/**
 * The in-process trigger of delivery, beside the pathway scheduler's (pathway/scheduler/poll.ts):
 * every `intervalMs` it delivers what is due, and keeps going while there is more. It holds no
 * state: the messages are outbox rows, so an instance that stops loses nothing. The timer is
 * unref'd; `stop` waits for the run under way, before the database closes.
 */
export class DeliveryPoll {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly sender: OutboxSender,
    private readonly opts: { intervalMs: number; logger: Logger },
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.sender
      .drain()
      .then((s) => {
        if (s.delivered || s.dead) this.opts.logger.info({ delivered: s.delivered, retried: s.retried, dead: s.dead }, 'outbound messages');
      })
      .catch((err) => this.opts.logger.error({ err }, 'outbound delivery run failed'))
      .finally(() => {
        this.running = undefined;
      });
  }
}
