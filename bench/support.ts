import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import pg from 'pg';
import { request } from 'undici';
import { nhsNumberCheckDigit } from '../src/fhir/nhs-number.js';

/** The PostgreSQL server the benchmarks use; each creates a database of its own and drops it. */
export const BENCH_PG = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A scratch database for one benchmark: dropped if left over, created empty; its URL. */
export async function freshDatabase(name: string): Promise<string> {
  await dropDatabase(name);
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(BENCH_PG);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

async function admin(fn: (c: pg.Client) => Promise<unknown>): Promise<void> {
  const c = new pg.Client({ connectionString: BENCH_PG });
  await c.connect();
  try {
    await fn(c);
  } finally {
    await c.end();
  }
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

/**
 * `npm start` as a child process on PostgreSQL (with `env` added to its environment), once /readyz answers. With
 * `BENCH_CPU_PROFILE=<dir>` the server writes a V8 CPU profile there when it stops.
 */
export async function startServer(databaseUrl: string, port: number, env: Record<string, string> = {}): Promise<ChildProcess> {
  const profile = process.env.BENCH_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/main.ts'], {
    // the bench measures the server, not sign-in: authentication off, as said explicitly on PostgreSQL
    // (`env` overrides it: bench security measures both)
    env: { ...process.env, DATABASE_URL: databaseUrl, STEPWISE_AUTH: 'off', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 240; i++) {
    try {
      const res = await request(`http://127.0.0.1:${port}/readyz`);
      await res.body.dump();
      if (res.statusCode === 200) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill();
  throw new Error('the server did not become ready');
}

export async function stopServer(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await once(child, 'exit').catch(() => undefined);
}

/** A valid NHS number for each i (nine-digit stems whose Modulus 11 check would be 10 are skipped). */
export function nhsNumberFor(i: number, base = 400_000_000): string {
  for (let k = i * 2; ; k++) {
    const nine = String(base + (k % 500_000_000)).padStart(9, '0');
    const check = nhsNumberCheckDigit(nine);
    if (check !== undefined) return nine + check;
  }
}
