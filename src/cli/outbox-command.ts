import { parseArgs } from 'node:util';
import { systemClock, type Clock } from '../clock.js';
import { countByState, listOutbox, OUTBOX_STATES, purgeDelivered, replayDead, type OutboxState } from '../delivery/outbox.js';
import type { Database } from '../store/database.js';
import { migrate } from '../store/migrate.js';
import { PgliteDatabase } from '../store/pglite-database.js';
import { PostgresDatabase } from '../store/postgres-database.js';
import { ExitCode, type CommandIo } from './convert-command.js';

const USAGE = `Usage: stepwise outbox list [--state pending|delivering|delivered|dead] [--partner <id|address>] [--topic <topic>] [--limit <n>] [--json]
       stepwise outbox replay <id>…
       stepwise outbox purge --delivered-before <date or date-time>

Outbound messages to partners (src/delivery). 'list' prints them by id, with their state, attempts,
next attempt and last error, and a count per state; 'replay' sends dead messages again (due now,
retried afresh); 'purge' deletes messages delivered before the date (their payloads are patient
data the partner now holds; dead and pending ones are kept). The database is DATABASE_URL's PostgreSQL, else the embedded one in DATA_DIR
(./data), which must not be open in a running server at the same time.
Exit codes: 0 done, 1 a message to replay is not dead or not there, 2 usage or database error.
`;

/** The database the server uses, as its environment names it. */
export async function openConfiguredDatabase(env: Record<string, string | undefined> = process.env): Promise<Database> {
  const url = env.DATABASE_URL?.trim();
  if (url) {
    const db = new PostgresDatabase({ connectionString: url, poolSize: 2 });
    await migrate(db);
    return db;
  }
  const dir = env.DATA_DIR?.trim() || './data';
  if (!PgliteDatabase.holdsDatabase(dir)) throw new Error(`No Stepwise database in ${dir} (set DATA_DIR or DATABASE_URL)`);
  const db = await PgliteDatabase.open(dir);
  await migrate(db);
  return db;
}

/** `stepwise outbox list --state dead`, `stepwise outbox replay 12 13`. */
export async function runOutbox(args: string[], io: CommandIo, open: () => Promise<Database> = () => openConfiguredDatabase(), clock: Clock = systemClock): Promise<number> {
  const [sub, ...rest] = args;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (err) {
    io.stderr(`${(err as Error).message}\n${USAGE}`);
    return ExitCode.USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help || sub === '--help' || sub === '-h') {
    io.stdout(USAGE);
    return ExitCode.OK;
  }
  if (sub !== 'list' && sub !== 'replay' && sub !== 'purge') {
    io.stderr(`${sub ? `Unknown outbox command '${sub}'` : 'No outbox command given'}\n${USAGE}`);
    return ExitCode.USAGE;
  }
  if (values.state !== undefined && !OUTBOX_STATES.includes(values.state as OutboxState)) {
    io.stderr(`--state must be one of ${OUTBOX_STATES.join(', ')}\n`);
    return ExitCode.USAGE;
  }
  if (values.limit !== undefined && !/^\d{1,4}$/.test(values.limit)) {
    io.stderr('--limit must be a number from 1 to 1000\n');
    return ExitCode.USAGE;
  }
  if (sub === 'replay' && (positionals.length === 0 || positionals.some((id) => !/^\d{1,18}$/.test(id)))) {
    io.stderr(`replay needs one or more outbox ids (digits)\n${USAGE}`);
    return ExitCode.USAGE;
  }
  const before = values['delivered-before'] === undefined ? undefined : new Date(values['delivered-before']);
  if (sub === 'purge' && (!before || Number.isNaN(before.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(values['delivered-before']!))) {
    io.stderr(`purge needs --delivered-before with a date (2026-01-31) or date-time (2026-01-31T00:00:00Z)\n${USAGE}`);
    return ExitCode.USAGE;
  }
  let db: Database;
  try {
    db = await open();
  } catch (err) {
    io.stderr(`stepwise outbox: cannot open the database: ${(err as Error).message}\n`);
    return ExitCode.USAGE;
  }
  try {
    if (sub === 'list') {
      const rows = await listOutbox(db, { state: values.state as OutboxState | undefined, partner: values.partner, topic: values.topic, limit: values.limit ? Number(values.limit) : 100 });
      if (values.json) {
        for (const r of rows) io.stdout(`${JSON.stringify({ ...r, payload: undefined })}\n`);
        return ExitCode.OK;
      }
      for (const r of rows) {
        io.stdout(`${r.id}\t${r.state}\t${r.topic}\t${r.partner}\tattempts ${r.attempts}\tnext ${r.nextAttemptAt}${r.lastError ? `\t${r.lastError.replace(/\s+/g, ' ').slice(0, 200)}` : ''}\n`);
      }
      const counts = await countByState(db);
      io.stdout(`${rows.length} shown; ${OUTBOX_STATES.map((s) => `${counts[s]} ${s}`).join(', ')}\n`);
      return ExitCode.OK;
    }
    if (sub === 'purge') {
      io.stdout(`purged ${await purgeDelivered(db, before!)} messages delivered before ${before!.toISOString()}\n`);
      return ExitCode.OK;
    }
    let failed = 0;
    for (const id of positionals) {
      if (await replayDead(db, id, clock.now())) io.stdout(`replayed ${id}: pending, due now\n`);
      else {
        failed++;
        io.stderr(`${id}: no dead outbox message with this id (only a dead message is replayed)\n`);
      }
    }
    return failed ? ExitCode.INVALID_INPUT : ExitCode.OK;
  } finally {
    await db.close();
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { 'delivered-before': { type: 'string' }, state: { type: 'string' }, partner: { type: 'string' }, topic: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
}
