import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';

const ROOT = new URL('../../', import.meta.url);

interface Running {
  child: ChildProcess;
  port: number;
  url: string;
  /** Every log line so far, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves with the first log line whose msg starts with `msg`. */
  logged(msg: string): Promise<Record<string, unknown>>;
  exit: Promise<number | null>;
}

/** `npm start` as a child process on the embedded database in `dataDir`, on a port of its own. */
async function startStepwise(dataDir: string): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/start.mjs'], {
    cwd: ROOT,
    // not process.env: vitest puts Vite's BASE_URL=/ there, which is not a FHIR base URL
    env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiting: { msg: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    logs.push(line);
    for (const w of waiting.filter((w) => String(line.msg).startsWith(w.msg))) w.resolve(line);
  });
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  const logged = (msg: string) => {
    const seen = logs.find((l) => String(l.msg).startsWith(msg));
    return seen ? Promise.resolve(seen) : new Promise<Record<string, unknown>>((resolve) => waiting.push({ msg, resolve }));
  };
  return { child, port, url: `http://127.0.0.1:${port}`, logs, logged, exit };
}

async function get(url: string): Promise<{ status: number; headers: Headers; body: string } | undefined> {
  try {
    const res = await fetch(url);
    return { status: res.status, headers: res.headers, body: await res.text() };
  } catch {
    return undefined; // not listening (yet, or any more)
  }
}

/** Polls until /readyz answers 200, keeping every answer that came before. */
async function untilReady(s: Running) {
  const seen: { health?: number; ready?: { status: number; body: string }; fhir?: { status: number; retryAfter: string | null; body: string } }[] = [];
  for (;;) {
    if (s.child.exitCode !== null) throw new Error(`the server exited with ${s.child.exitCode}`);
    const health = await get(`${s.url}/healthz`);
    if (health) {
      const ready = await get(`${s.url}/readyz`);
      if (ready?.status === 200) return seen;
      const fhir = await get(`${s.url}/fhir/Patient`);
      seen.push({
        health: health.status,
        ready: ready && { status: ready.status, body: ready.body },
        fhir: fhir && { status: fhir.status, retryAfter: fhir.headers.get('retry-after'), body: fhir.body },
      });
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('npm start, as a real process on a real port', () => {
  const root = mkdtempSync(join(tmpdir(), 'stepwise-startup-'));
  let running: Running | undefined;
  afterEach(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await running.exit;
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('listens before it is ready: health at once, readiness and FHIR 503 until start-up is done', async () => {
    running = await startStepwise(join(root, 'fresh'));
    const beforeReady = await untilReady(running);
    // start-up takes hundreds of milliseconds at the least (database, definitions), so it was seen starting
    expect(beforeReady.length).toBeGreaterThan(0);
    for (const { health, ready, fhir } of beforeReady) {
      expect(health).toBe(200);
      if (ready) expect({ status: ready.status, status_: JSON.parse(ready.body).status }).toEqual({ status: 503, status_: 'starting' });
      if (fhir && fhir.status !== 200) {
        expect(fhir.status).toBe(503);
        expect(fhir.retryAfter).toMatch(/^\d+$/);
        expect(JSON.parse(fhir.body).issue[0].code).toBe('transient');
      }
    }
    expect((await get(`${running.url}/fhir/Patient`))?.status).toBe(200);
    // each step is logged with its duration, then the total from process start
    const ready = await running.logged('ready');
    expect(ready.readyMs).toEqual(expect.any(Number));
    const messages = running.logs.map((l) => String(l.msg)).filter((m) => m !== 'request');
    expect(messages.indexOf('ready')).toBeGreaterThan(0);
    expect(messages[0]).toMatch(/^Stepwise FHIR server listening/);
    // development mode (no STEPWISE_AUTH on the embedded database) is said loudly, at warn, every start
    expect(running.logs.find((l) => String(l.msg).startsWith('AUTHENTICATION IS OFF'))).toMatchObject({ level: 40, auth: 'off', explicit: false });
    const steps = running.logs.filter((l) => String(l.msg).startsWith('start-up: '));
    expect(steps.map((l) => l.step)).toEqual(['database', 'R4 definitions', 'validators', 'published conformance resources', 'pathway rules and teams', 'stored conformance resources', 'partner mappings']);
    for (const step of steps) expect(step.ms).toEqual(expect.any(Number));

    running.child.kill('SIGTERM');
    expect(await running.exit).toBe(0);
  });

  it('on SIGTERM finishes the request in flight, takes no new connections, closes the database and exits 0', async () => {
    running = await startStepwise(join(root, 'fresh'));
    await untilReady(running);
    // a create whose body is still on its way when the signal comes: Expect 100-continue tells us the server has the request
    const body = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'InFlight' }] });
    const socket = connect(running.port, '127.0.0.1');
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.write(
      `POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1:${running.port}\r\nContent-Type: application/fhir+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
    );
    while (!received.includes('100 Continue')) await once(socket, 'data');

    running.child.kill('SIGTERM');
    await running.logged('shutting down');
    expect(await get(`${running.url}/healthz`)).toBeUndefined();
    socket.write(body);
    await once(socket, 'close');
    expect(received).toMatch(/HTTP\/1\.1 201 Created/);
    expect(received).toContain('InFlight');
    expect(await running.exit).toBe(0);
    expect(running.logs.map((l) => l.msg)).toContain('stopped');
  });

  it('reopens an existing data directory with its data, and stops cleanly on SIGTERM during start-up', async () => {
    running = await startStepwise(join(root, 'fresh'));
    while (!(await get(`${running.url}/healthz`)) && running.child.exitCode === null) await new Promise((r) => setTimeout(r, 25));
    running.child.kill('SIGTERM');
    expect(await running.exit).toBe(0);
    running = await startStepwise(join(root, 'fresh'));
    await untilReady(running);
    const database = running.logs.find((l) => l.step === 'database');
    expect(database?.origin).toBe('existing');
    const found = JSON.parse((await get(`${running.url}/fhir/Patient?family=InFlight`))!.body);
    expect(found.total).toBe(1);
    running.child.kill('SIGINT');
    expect(await running.exit).toBe(0);
  });
});
