import { Agent, request } from 'undici';

/** One HTTP POST to a partner and what came back; a network failure or a timeout throws. */
export type Transport = (url: string, init: { headers: Record<string, string>; body: string; timeoutMs: number }) => Promise<{ status: number; body: string }>;

/** Most of a partner's answer kept for the outbox's last_error: enough to read an OperationOutcome's first issue. */
const MAX_ANSWER_CHARS = 2000;

/**
 * The sender's transport: undici's `request` over one keep-alive pool per instance, at most
 * `connections` sockets per partner origin (the sender's concurrency).
 */
export function undiciTransport(connections = 16): Transport & { close(): Promise<void> } {
  const agent = new Agent({ connections, keepAliveTimeout: 10_000 });
  const post: Transport = async (url, init) => {
    const res = await request(url, { method: 'POST', headers: init.headers, body: init.body, dispatcher: agent, headersTimeout: init.timeoutMs, bodyTimeout: init.timeoutMs });
    return { status: res.statusCode, body: (await res.body.text()).slice(0, MAX_ANSWER_CHARS) };
  };
  return Object.assign(post, { close: () => agent.close() });
}

/**
 * The same over the global fetch: what msw intercepts in tests (msw patches globalThis.fetch and
 * node:http, not undici's own request).
 */
export const fetchTransport: Transport = async (url, init) => {
  const res = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, signal: AbortSignal.timeout(init.timeoutMs) });
  return { status: res.status, body: (await res.text()).slice(0, MAX_ANSWER_CHARS) };
};
