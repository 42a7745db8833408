import type { Server } from 'node:http';

/**
 * Stops accepting connections and lets the requests in flight finish, for at most `graceMs`; then
 * closes the connections still open. Resolves with whether any had to be closed that way.
 */
export function closeGracefully(server: Server, graceMs: number): Promise<{ forced: boolean }> {
  return new Promise((resolve) => {
    let forced = false;
    // a keep-alive connection becomes idle once its request is answered: close it then, not at the deadline
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => {
      forced = true;
      server.closeAllConnections();
    }, graceMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(deadline);
      resolve({ forced });
    });
  });
}
