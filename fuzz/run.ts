import { runCampaign, type CampaignResult } from './campaign.js';
import { startTarget, type DatabaseKind, type Transport } from './target.js';

/*
 * npm run fuzz: fast-check over JSON and XML bodies, search parameters and BaRS message headers
 * against the whole app with authentication and audit on (issue 13, "Hostile input"). Not part of
 * npm test. Most cases run in-process on PGlite (fast); smaller shares over a loopback socket and
 * on PostgreSQL (skipped, and said so, when none answers at TEST_DATABASE_URL).
 *
 *   FUZZ_CASES         in-process cases on PGlite (default 100000)
 *   FUZZ_SOCKET_CASES  cases over a socket on PGlite (default 2% of FUZZ_CASES)
 *   FUZZ_PG_CASES      in-process cases on PostgreSQL (default 5% of FUZZ_CASES; 0: none)
 *   FUZZ_SEED          the seed to replay a run (printed at the start of every run)
 */

const numberFrom = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number (got ${raw})`);
  return n;
};

const CASES = numberFrom('FUZZ_CASES', 100_000);
const SEED = numberFrom('FUZZ_SEED', Math.floor(Math.random() * 2 ** 31));
const PLAN: { db: DatabaseKind; transport: Transport; cases: number }[] = [
  { db: 'pglite', transport: 'in-process', cases: CASES },
  { db: 'pglite', transport: 'socket', cases: numberFrom('FUZZ_SOCKET_CASES', Math.ceil(CASES * 0.02)) },
  { db: 'postgres', transport: 'in-process', cases: numberFrom('FUZZ_PG_CASES', Math.ceil(CASES * 0.05)) },
];

async function main(): Promise<number> {
  console.log(`npm run fuzz — FUZZ_SEED=${SEED} FUZZ_CASES=${CASES} (replay with the same FUZZ_SEED and FUZZ_CASES)`);
  const results: CampaignResult[] = [];
  for (const [i, step] of PLAN.entries()) {
    if (step.cases === 0) continue;
    const target = await startTarget(step.db, step.transport).catch((err: Error) => {
      if (step.db !== 'postgres') throw err;
      console.log(`PostgreSQL: skipped, none reachable (${err.message})`);
      return undefined;
    });
    if (!target) continue;
    try {
      results.push(await runCampaign(target, step.cases, SEED + i, (line) => console.error(`  … ${line}`)));
    } finally {
      await target.close();
    }
    report(results[results.length - 1]);
    if (results[results.length - 1].failure) break;
  }
  const failed = results.some((r) => r.failure || r.teamB.length);
  console.log(failed ? '\nFAILED' : `\nPASSED: ${results.reduce((n, r) => n + r.cases, 0)} cases, no 5xx, no partial write, no answer over 2 s, no leak of team B's data`);
  return failed ? 1 : 0;
}

function report(r: CampaignResult): void {
  console.log(`\n## ${r.target}: ${r.cases} cases in ${r.seconds.toFixed(1)} s (${(r.cases / r.seconds).toFixed(0)} cases/s)`);
  for (const [kind, byStatus] of Object.entries(r.statuses)) console.log(`- ${kind}: ${Object.entries(byStatus).map(([status, n]) => `${n}× ${status}`).join(', ')}`);
  for (const s of r.slowest) console.log(`- slow: ${s.ms.toFixed(0)} ms ${s.request}`);
  if (r.teamB.length) console.log(`- team B's records were changed: ${r.teamB.join('; ')}`);
  if (r.failure) console.log(`- FAILURE (seed ${SEED}):\n${r.failure}`);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
