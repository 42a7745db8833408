import { IntervalPoll } from '../../interval-poll.js';
import type { Logger } from '../../logger.js';
import type { ResourceStore } from '../../store/resource-store.js';
import { runDueJobs, type RunOptions } from './run.js';

export interface PollOptions extends RunOptions {
  intervalMs: number;
  logger: Logger;
}

/**
 * The in-process trigger of the scheduler: every `intervalMs` it runs the jobs due by the store's
 * clock. The jobs are rows in the database, so an instance that stops loses nothing and any other
 * instance runs them.
 */
export class SchedulerPoll extends IntervalPoll {
  constructor(store: ResourceStore, opts: PollOptions) {
    super(opts.intervalMs, () =>
      runDueJobs(store, store.clock.now(), opts)
        .then((summary) => {
          if (summary.done.length) opts.logger.info({ jobs: summary.done.length }, 'pathway jobs done');
        })
        .catch((err) => opts.logger.error({ err }, 'pathway scheduler run failed')),
    );
  }
}
