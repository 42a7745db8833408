/**
 * Where the server is in its life: `starting` (listening, answering health checks, but the database
 * and the validators are not ready), `ready` (serving FHIR) and `draining` (shutting down: in-flight
 * requests finish, load balancers are told to go elsewhere). The services the FHIR API needs exist
 * only from `ready` on.
 */
export type Phase = 'starting' | 'ready' | 'draining';

export class Lifecycle<S> {
  private current: Phase = 'starting';
  private held: S | undefined;
  /** What start-up is doing now, for /readyz. */
  step: string | undefined;

  /** A lifecycle that is ready from the start, for apps built over services that already exist. */
  static readyWith<S>(services: S): Lifecycle<S> {
    const lifecycle = new Lifecycle<S>();
    lifecycle.ready(services);
    return lifecycle;
  }

  get phase(): Phase {
    return this.current;
  }

  /** The services, once ready; still there while draining, for the requests in flight. */
  get services(): S | undefined {
    return this.held;
  }

  ready(services: S): void {
    if (this.current !== 'starting') throw new Error(`cannot become ready while ${this.current}`);
    this.held = services;
    this.current = 'ready';
    this.step = undefined;
  }

  drain(): void {
    this.current = 'draining';
  }
}
