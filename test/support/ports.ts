import { once } from 'node:events';
import { createServer } from 'node:net';

/** A loopback port free at the moment of asking, for a server started as a child process. */
export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}
