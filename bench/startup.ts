import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { percentile } from './stats.js';
import { freePort } from './support.js';

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 3);
/** The checkout to start: this one, or another (an older commit, to compare). */
const PROJECT = process.env.BENCH_STARTUP_DIR ?? fileURLToPath(new URL('..', import.meta.url));

/** The `start` script of package.json, run with this Node, so the bench follows whatever it becomes. */
function startCommand(): string[] {
  const pkg = JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const [first, ...rest] = pkg.scripts.start.split(/\s+/);
  if (first !== 'node') throw new Error(`the start script does not begin with node: ${pkg.scripts.start}`);
  return rest;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await request(url);
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

/** Spawns the server on the embedded database in `dataDir`; ms from spawn to /healthz 200 and to /readyz 200. */
async function oneStart(dataDir: string, env: Record<string, string> = {}): Promise<{ healthMs: number; readyMs: number }> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, startCommand(), {
    cwd: PROJECT,
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let healthMs: number | undefined;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
      if (healthMs === undefined && (await answers(`http://127.0.0.1:${port}/healthz`))) healthMs = performance.now() - t0;
      if (healthMs !== undefined && (await answers(`http://127.0.0.1:${port}/readyz`))) return { healthMs, readyMs: performance.now() - t0 };
      if (performance.now() - t0 > 180_000) throw new Error('the server did not become ready in 3 minutes');
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  }
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
const fmt = (xs: number[]) => `median ${Math.round(median(xs))} ms (runs: ${xs.map(Math.round).join(', ')})`;

/**
 * Start-up time of `npm start` on the embedded database: from spawn to /healthz 200 and to /readyz
 * 200, for a fresh DATA_DIR (each run its own) and for one reused across runs (created first), with
 * what start-up caches already built (after the first start of an install); and once with an empty
 * CACHE_DIR and no server bundle, as the very first start of an install is.
 */
export async function benchStartup(log: (line: string) => void): Promise<Record<string, string>> {
  const root = mkdtempSync(join(tmpdir(), 'stepwise-startup-'));
  try {
    rmSync(join(PROJECT, 'node_modules', '.cache', 'stepwise-server'), { recursive: true, force: true });
    const cold = await oneStart(join(root, 'cold'), { CACHE_DIR: join(root, 'empty-cache') });
    log(`fresh data dir, empty caches: healthz ${Math.round(cold.healthMs)} ms, readyz ${Math.round(cold.readyMs)} ms`);
    // and once more to fill the caches this bench's other runs use
    await oneStart(join(root, 'warm'));
    const fresh: { healthMs: number; readyMs: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      fresh.push(await oneStart(join(root, `fresh-${i}`)));
      log(`fresh data dir, run ${i + 1}: healthz ${Math.round(fresh[i].healthMs)} ms, readyz ${Math.round(fresh[i].readyMs)} ms`);
    }
    const reusedDir = join(root, 'reused');
    await oneStart(reusedDir);
    const reused: { healthMs: number; readyMs: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      reused.push(await oneStart(reusedDir));
      log(`reused data dir, run ${i + 1}: healthz ${Math.round(reused[i].healthMs)} ms, readyz ${Math.round(reused[i].readyMs)} ms`);
    }
    return {
      'first start of an install (fresh DATA_DIR, empty caches), spawn to /healthz 200 / /readyz 200': `${Math.round(cold.healthMs)} ms / ${Math.round(cold.readyMs)} ms`,
      'fresh DATA_DIR, spawn to /healthz 200': fmt(fresh.map((r) => r.healthMs)),
      'fresh DATA_DIR, spawn to /readyz 200': fmt(fresh.map((r) => r.readyMs)),
      'reused DATA_DIR, spawn to /healthz 200': fmt(reused.map((r) => r.healthMs)),
      'reused DATA_DIR, spawn to /readyz 200': fmt(reused.map((r) => r.readyMs)),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
