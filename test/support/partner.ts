import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request a partner received. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** X-Request-ID, lower-cased header. */
  requestId: string;
}

/**
 * A partner's `$process-message` on a real local port: records every request, answers `status`
 * (200 by default; set `answer` to change it per request). `close` and `listen` again on the same
 * port stand for an outage and a recovery.
 */
export class TestPartner {
  readonly received: Received[] = [];
  answer: (r: Received) => number = () => 200;
  /** What happened, in order: `in <body>` when a request arrived, `out <body>` when it was answered. */
  readonly events: string[] = [];
  /** Milliseconds to wait before answering a request (a slow partner). */
  delay: (r: Received) => number = () => 0;
  private server: Server | undefined;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/fhir`;
  }

  async listen(port = this.port): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), requestId: String(req.headers['x-request-id'] ?? '') };
        this.received.push(r);
        this.events.push(`in ${r.body}`);
        const status = this.answer(r);
        setTimeout(() => {
          this.events.push(`out ${r.body}`);
          res.writeHead(status, { 'Content-Type': 'application/fhir+json' });
          res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: status < 300 ? 'information' : 'error', code: status < 300 ? 'informational' : 'exception', diagnostics: `answered ${status}` }] }));
        }, this.delay(r));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening and drops kept-alive connections: the partner is down. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}
