import type { Logger } from '../../logger.js';
import type { ResourceStore } from '../../store/resource-store.js';
import { runDueJobs, type RunOptions } from './run.js';

export interface PollOptions extends RunOptions {
  intervalMs: number;
  logger: Logger;
}

/**
 * The in-process trigger of the scheduler: every `intervalMs` it runs the jobs due by the store's
 * clock. It holds no state of its own: the jobs are rows in the database, so an instance that stops
 * loses nothing and any other instance runs them. The timer is unref'd (it never keeps the process
 * alive); `stop` waits for a run under way, before the database closes.
 */
export class SchedulerPoll {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: ResourceStore,
    private readonly opts: PollOptions,
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

  /** One run, unless the previous one is still going. */
  private tick(): void {
    if (this.running) return;
    this.running = runDueJobs(this.store, this.store.clock.now(), this.opts)
      .then((summary) => {
        if (summary.done.length) this.opts.logger.info({ jobs: summary.done.length }, 'pathway jobs done');
      })
      .catch((err) => this.opts.logger.error({ err }, 'pathway scheduler run failed'))
      .finally(() => {
        this.running = undefined;
      });
  }
}
