/**
 * Work run in process every `intervalMs`, never two runs at once: the trigger of time-driven work
 * whose state is all in the database (the pathway scheduler's jobs, the outbox's messages), so an
 * instance that stops loses nothing and any other instance carries on. The timer is unref'd (it
 * never keeps the process alive); `stop` waits for the run under way, before the database closes.
 * `run` reports its own outcome and failures: a rejection here would only be logged by no one.
 */
export class IntervalPoll {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly run: () => Promise<void>,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
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
    this.running = this.run().finally(() => {
      this.running = undefined;
    });
  }
}
