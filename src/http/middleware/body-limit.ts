import type { Context, MiddlewareHandler } from 'hono';
import { FhirError, FhirErrorCode } from '../../errors.js';

/**
 * Bounds request bodies as they stream in, so no body larger than `maxBytes` is ever held in
 * memory. A declared Content-Length over the limit is refused before a byte is read; a body
 * without one (chunked) is read chunk by chunk and refused at the first byte past the limit, with
 * the rest left unread (the server discards it, then closes the connection). The answer is 413
 * (RFC 9110 §15.5.14) with `Connection: close`, so the client stops sending. Like hono/body-limit,
 * but it stops reading at the limit and answers through the one error handler.
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const declared = c.req.header('Content-Length');
    // With Content-Length and no Transfer-Encoding, HTTP/1.1 framing delivers exactly that many
    // bytes (RFC 9112 §6.2, §6.3), so the header alone decides.
    if (declared !== undefined && c.req.header('Transfer-Encoding') === undefined) {
      if (Number(declared) > maxBytes) throw tooLarge(c, maxBytes);
      return next();
    }
    const bytes = await readAtMost(body, maxBytes);
    if (!bytes) throw tooLarge(c, maxBytes);
    c.req.raw = new Request(c.req.raw, { body: bytes });
    await next();
  };
}

/** The whole stream, or undefined (and the stream cancelled) as soon as it passes `maxBytes`. */
async function readAtMost(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array | undefined> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, size);
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
}

function tooLarge(c: Context, maxBytes: number): FhirError {
  c.header('Connection', 'close');
  return new FhirError(FhirErrorCode.TOO_LARGE, `The request body is larger than the limit of ${maxBytes} bytes`);
}
