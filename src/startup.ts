import type { Lifecycle } from './lifecycle.js';
import type { Logger } from './logger.js';

/** Start-up was stopped between two steps because the server is shutting down. */
export class StartupAborted extends Error {
  override name = 'StartupAborted';
}

/**
 * Runs start-up one named step at a time: each is logged with its duration and shown by /readyz
 * while it runs. A shutdown that begins during start-up stops it before the next step.
 */
export class Startup {
  constructor(
    private readonly logger: Logger,
    private readonly lifecycle: Lifecycle<unknown>,
  ) {}

  async step<T>(name: string, run: () => Promise<T> | T, details: (result: T) => object = () => ({})): Promise<T> {
    if (this.lifecycle.phase === 'draining') throw new StartupAborted(`start-up stopped before ${name}: shutting down`);
    this.lifecycle.step = name;
    const start = performance.now();
    const result = await run();
    this.logger.info({ step: name, ms: Math.round(performance.now() - start), ...details(result) }, `start-up: ${name}`);
    return result;
  }
}

/** Milliseconds since this process started (performance.now() counts from then). */
export function sinceProcessStart(): number {
  return Math.round(performance.now());
}
