import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, startTestApp, type TestApp } from '../support/app.js';

/** Issue 13, hostile input: bodies are bounded as they stream in, over a real socket. */
const LIMIT = 256 * 1024; // the test app's maxBodyBytes

let t: TestApp;
let server: Awaited<ReturnType<typeof listen>>;
beforeAll(async () => {
  t = await startTestApp();
  server = await listen(t.app);
});
afterAll(async () => {
  await server.close();
  await t.close();
});

interface RawExchange {
  socket: Socket;
  /** Everything the server has sent so far. */
  received: () => string;
  closed: Promise<void>;
}

function open(head: string): RawExchange {
  const { port } = new URL(server.url);
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (received += d));
  socket.on('error', () => undefined); // the server may reset a connection whose body it will not read
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(head);
  return { socket, received: () => received, closed };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('the body limit, over a real socket', () => {
  it('answers 413 to a chunked body without Content-Length as soon as it passes the limit, before the client has finished', async () => {
    const x = open('POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = `{"resourceType":"Patient","name":[{"family":"${'x'.repeat(16 * 1024)}"}]}`;
    const intended = 64 * 1024 * 1024; // what this client means to send: 256 times the limit
    let sent = 0;
    while (sent < intended && !x.received().includes('\r\n\r\n') && !x.socket.destroyed) {
      const ok = x.socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      sent += chunk.length;
      if (!ok) await new Promise((resolve) => x.socket.once('drain', resolve));
      await tick();
    }
    // the answer came while most of the body was still to be sent: it was never read, let alone buffered
    expect(sent).toBeLessThan(intended / 16);
    expect(x.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(x.received().toLowerCase()).toContain('connection: close');
    // and the server ends the connection rather than read the rest
    await x.closed;
    const body = JSON.parse(x.received().slice(x.received().indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, ''));
    expect(body.resourceType).toBe('OperationOutcome');
    expect(body.issue[0].code).toBe('too-costly');
    expect(body.issue[0].diagnostics).toBe(`The request body is larger than the limit of ${LIMIT} bytes`);
  });

  it('answers 413 to a declared Content-Length over the limit without reading a byte of the body', async () => {
    const x = open(`POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`);
    await x.closed;
    expect(x.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(x.received()).toContain('too-costly');
  });

  it('accepts a chunked body within the limit', async () => {
    const family = `Chunked${Date.now()}`;
    const text = JSON.stringify({ resourceType: 'Patient', name: [{ family }] });
    const body = new ReadableStream({
      start(controller) {
        // two chunks, and no Content-Length: fetch sends it chunked
        controller.enqueue(new TextEncoder().encode(text.slice(0, 10)));
        controller.enqueue(new TextEncoder().encode(text.slice(10)));
        controller.close();
      },
    });
    const res = await fetch(`${server.url}/fhir/Patient`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(201);
    expect(((await res.json()) as { name: { family: string }[] }).name[0].family).toBe(family);
  });

  it('answers 413 in-process too, where a Request body has no Content-Length', async () => {
    const res = await t.fhir('POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'x'.repeat(LIMIT) }] });
    expect(res.status).toBe(413);
  });
});
