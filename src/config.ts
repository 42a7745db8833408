import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { AuthConfigError, loadAuth, type AuthConfig } from './config/auth.js';
import { loadServices, ServicesConfigError, type HostedService } from './config/bars-services.js';
import { defaultAllowedHosts, parseAllowedHost } from './config/allowed-hosts.js';
import { loadPartners, PartnersConfigError, type Partner } from './config/partners.js';

/**
 * Every setting Stepwise reads from its environment, parsed and checked in one place. A bad value
 * stops start-up with a message naming the variable (see `loadConfig`).
 */
const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** postgres://… selects PostgreSQL; empty or unset selects the embedded PGlite database. */
  DATABASE_URL: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), 'must start with postgres:// or postgresql://'),
  /** Where the embedded database keeps its files. */
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20),
  /** PostgreSQL cancels a statement running longer (503 `too-costly`); 0 turns it off. The embedded database cannot (see README). */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
  /** How long a request waits for a free PostgreSQL connection before it is answered 503; 0 waits for ever. */
  DATABASE_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The public base URL of the FHIR endpoint, used in Location headers and Bundle links. */
  BASE_URL: z.string().url().optional(),
  /** Comma-separated hosts (`name` or `name:port`) requests may name in Host; others get 421. Default: BASE_URL's host, else localhost, 127.0.0.1 and [::1] on PORT. */
  ALLOWED_HOSTS: z
    .string()
    .optional()
    .transform((v) => v?.split(',').map((h) => h.trim()).filter(Boolean))
    .refine((list) => list === undefined || list.every((h) => parseAllowedHost(h) !== undefined), 'must be a comma-separated list of host names, each optionally with :port (fhir.example.nhs.uk, localhost:8080, [::1]:8080)'),
  /** Largest request body accepted, in bytes. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(10 * 1024 * 1024),
  /** Largest number of entries in one batch or transaction Bundle. */
  MAX_BUNDLE_ENTRIES: z.coerce.number().int().min(1).default(1000),
  /** Deepest nesting of elements in a request body, JSON or XML (see fhir/input-limits.ts). */
  MAX_NESTING_DEPTH: z.coerce.number().int().min(8).max(1000).default(64),
  /** Most items in any one array of a request body; at least MAX_BUNDLE_ENTRIES. */
  MAX_ARRAY_ITEMS: z.coerce.number().int().min(1).default(10_000),
  /** Longest string in a request body, in characters; `data` (base64Binary) is bounded by MAX_BODY_BYTES only. */
  MAX_STRING_LENGTH: z.coerce.number().int().min(1024).default(1024 * 1024),
  /** Requests a minute per client (429 beyond); 0 turns rate limiting off. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(0),
  /** Comma-separated origins (https://app.example) that browsers may call from; empty: no CORS. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .refine((list) => list.every((o) => /^https?:\/\/[^/\s]+$/.test(o)), 'must be a comma-separated list of origins such as https://app.example.nhs.uk (no path, no trailing slash)'),
  /** `reject`: a write with validation errors is refused. `log`: it is stored and the errors logged. */
  WRITE_VALIDATION: z.enum(['reject', 'log']).default('reject'),
  /** `warn`: a write whose meta.profile names a profile the validator does not hold is checked against the rest and accepted; `reject`: it is refused (422). */
  UNKNOWN_PROFILE: z.enum(['warn', 'reject']).default('warn'),
  /** `warn`: a write carrying an extension the validator has no definition for is accepted with a warning; `reject`: it is refused (422), as the HL7 validator's `$validate` does. */
  UNKNOWN_EXTENSION: z.enum(['warn', 'reject']).default('warn'),
  /** Where start-up keeps what it builds once (see disk-cache.ts); empty turns the cache off. */
  CACHE_DIR: z.string().default(fileURLToPath(new URL('../node_modules/.cache/stepwise', import.meta.url))),
  /** How long a shutdown waits for requests in flight before closing their connections. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(600).default(10),
  /** Hours within which the receiving lead's first contact after crisis care is due once a handover is accepted (72: the national standard after inpatient discharge). */
  FIRST_CONTACT_AFTER_CRISIS_HOURS: z.coerce.number().positive().max(24 * 28).default(72),
  /** `off`: this instance runs no pathway jobs (cadence contacts, reviews, outreach deadlines); others still do. */
  STEPWISE_SCHEDULER: z.enum(['on', 'off']).default('on'),
  /** How often the scheduler looks for due jobs. */
  STEPWISE_SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
  /** `off`: this instance delivers nothing to partners (src/delivery); others still do, and messages stay queued. */
  STEPWISE_DELIVERY: z.enum(['on', 'off']).default('on'),
  /** How often the sender looks for due messages when it found none last time. */
  STEPWISE_DELIVERY_INTERVAL_MS: z.coerce.number().int().min(10).max(600_000).default(1000),
  /** Requests to partners in flight at once, per instance. */
  STEPWISE_DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** The first retry's delay; each further one doubles, up to STEPWISE_DELIVERY_MAX_BACKOFF_MS, with jitter. */
  STEPWISE_DELIVERY_BACKOFF_MS: z.coerce.number().int().min(10).max(3_600_000).default(5000),
  STEPWISE_DELIVERY_MAX_BACKOFF_MS: z.coerce.number().int().min(10).max(86_400_000).default(3_600_000),
  /** How long a message is retried, from when it was queued (or replayed), before it is dead-lettered. */
  STEPWISE_DELIVERY_HORIZON_HOURS: z.coerce.number().positive().max(24 * 90).default(72),
  /** How long a claimed message is leased to its sender; after that (the instance died) any instance sends it again. */
  STEPWISE_DELIVERY_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(120),
  /** Our organisation's ODS code, sent as NHSD-End-User-Organisation on outbound BaRS messages (a placeholder each deployment replaces). */
  STEPWISE_ODS_CODE: z.string().regex(/^[A-Z0-9]{3,10}$/, 'an ODS code: 3 to 10 capital letters and digits').default('RV5'),
  STEPWISE_ORGANISATION_NAME: z.string().min(1).default('Stepwise mental health trust'),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  poolSize: number;
  /** DATABASE_STATEMENT_TIMEOUT_MS, DATABASE_ACQUIRE_TIMEOUT_MS (store/postgres-database.ts). */
  statementTimeoutMs: number;
  acquireTimeoutMs: number;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  baseUrl?: string;
  /** ALLOWED_HOSTS, or its default (http/middleware/allowed-hosts.ts). */
  allowedHosts: string[];
  maxBodyBytes: number;
  maxBundleEntries: number;
  /** MAX_NESTING_DEPTH, MAX_ARRAY_ITEMS, MAX_STRING_LENGTH: bounds on a request body's shape (fhir/input-limits.ts). */
  inputLimits: { maxDepth: number; maxArrayItems: number; maxStringLength: number };
  /** RATE_LIMIT_PER_MINUTE; 0: off. */
  rateLimitPerMinute: number;
  /** CORS_ORIGINS; empty: no CORS headers. */
  corsOrigins: string[];
  writeValidation: 'reject' | 'log';
  /** UNKNOWN_PROFILE: what a write claiming an unknown profile gets (see README, configuration). */
  unknownProfile: 'warn' | 'reject';
  /** UNKNOWN_EXTENSION: what a write carrying an extension without a known definition gets (see README, configuration). */
  unknownExtension: 'warn' | 'reject';
  /** undefined: no cache. */
  cacheDir?: string;
  shutdownGraceMs: number;
  /** FIRST_CONTACT_AFTER_CRISIS_HOURS: a handover's first contact is due within this many hours of acceptance. */
  firstContactAfterCrisisHours: number;
  /** The services Stepwise hosts for BaRS (STEPWISE_BARS_SERVICES), each with its DoS id. */
  barsServices: HostedService[];
  /** The pathway scheduler's poll loop on this instance (STEPWISE_SCHEDULER, STEPWISE_SCHEDULER_INTERVAL_MS). */
  scheduler: { enabled: boolean; intervalMs: number };
  /** STEPWISE_AUTH and what it needs: clients, identity providers, the token key (config/auth.ts). */
  auth: AuthConfig;
  /** STEPWISE_PARTNERS: where outbound messages go, with which credentials (config/partners.ts). */
  partners: Partner[];
  /** STEPWISE_DELIVERY_*: the sender on this instance (src/delivery). */
  delivery: DeliverySettings;
  /** STEPWISE_ODS_CODE, STEPWISE_ORGANISATION_NAME: who we are on outbound BaRS messages. */
  organisation: { odsCode: string; name: string };
}

export interface DeliverySettings {
  enabled: boolean;
  intervalMs: number;
  concurrency: number;
  backoffMs: number;
  maxBackoffMs: number;
  horizonMs: number;
  leaseMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message} (got ${JSON.stringify(env[String(i.path[0])])})`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const c = parsed.data;
  if (c.MAX_ARRAY_ITEMS < c.MAX_BUNDLE_ENTRIES) {
    // else a Bundle within MAX_BUNDLE_ENTRIES would be refused for its length all the same
    throw new ConfigError(`Invalid configuration:\n  MAX_ARRAY_ITEMS: must be at least MAX_BUNDLE_ENTRIES (${c.MAX_BUNDLE_ENTRIES}) (got ${c.MAX_ARRAY_ITEMS})`);
  }
  let barsServices: HostedService[];
  let auth: AuthConfig;
  let partners: Partner[];
  try {
    barsServices = loadServices(env);
    auth = loadAuth(env, { databaseUrl: c.DATABASE_URL });
    partners = loadPartners(env);
  } catch (err) {
    if (err instanceof ServicesConfigError || err instanceof AuthConfigError || err instanceof PartnersConfigError) throw new ConfigError(err.message);
    throw err;
  }
  // a request still waiting for its partner when its lease ends would be sent again by another instance
  const slow = partners.filter((p) => p.timeoutSeconds >= c.STEPWISE_DELIVERY_LEASE_SECONDS);
  if (slow.length) {
    throw new ConfigError(`Invalid configuration:\n  STEPWISE_DELIVERY_LEASE_SECONDS: must be longer than every partner's timeoutSeconds (${slow.map((p) => `${p.id}: ${p.timeoutSeconds}`).join(', ')}) (got ${c.STEPWISE_DELIVERY_LEASE_SECONDS})`);
  }
  return {
    port: c.PORT,
    host: c.HOST,
    databaseUrl: c.DATABASE_URL,
    dataDir: c.DATA_DIR,
    poolSize: c.DATABASE_POOL_SIZE,
    statementTimeoutMs: c.DATABASE_STATEMENT_TIMEOUT_MS,
    acquireTimeoutMs: c.DATABASE_ACQUIRE_TIMEOUT_MS,
    logLevel: c.LOG_LEVEL,
    baseUrl: c.BASE_URL?.replace(/\/+$/, ''),
    allowedHosts: c.ALLOWED_HOSTS?.length ? c.ALLOWED_HOSTS : defaultAllowedHosts(c.BASE_URL, c.PORT),
    maxBodyBytes: c.MAX_BODY_BYTES,
    maxBundleEntries: c.MAX_BUNDLE_ENTRIES,
    inputLimits: { maxDepth: c.MAX_NESTING_DEPTH, maxArrayItems: c.MAX_ARRAY_ITEMS, maxStringLength: c.MAX_STRING_LENGTH },
    rateLimitPerMinute: c.RATE_LIMIT_PER_MINUTE,
    corsOrigins: c.CORS_ORIGINS,
    writeValidation: c.WRITE_VALIDATION,
    unknownProfile: c.UNKNOWN_PROFILE,
    unknownExtension: c.UNKNOWN_EXTENSION,
    cacheDir: c.CACHE_DIR.trim() || undefined,
    shutdownGraceMs: c.SHUTDOWN_GRACE_SECONDS * 1000,
    firstContactAfterCrisisHours: c.FIRST_CONTACT_AFTER_CRISIS_HOURS,
    barsServices,
    scheduler: { enabled: c.STEPWISE_SCHEDULER === 'on', intervalMs: c.STEPWISE_SCHEDULER_INTERVAL_MS },
    auth,
    partners,
    delivery: {
      enabled: c.STEPWISE_DELIVERY === 'on',
      intervalMs: c.STEPWISE_DELIVERY_INTERVAL_MS,
      concurrency: c.STEPWISE_DELIVERY_CONCURRENCY,
      backoffMs: c.STEPWISE_DELIVERY_BACKOFF_MS,
      maxBackoffMs: Math.max(c.STEPWISE_DELIVERY_MAX_BACKOFF_MS, c.STEPWISE_DELIVERY_BACKOFF_MS),
      horizonMs: c.STEPWISE_DELIVERY_HORIZON_HOURS * 3_600_000,
      leaseMs: c.STEPWISE_DELIVERY_LEASE_SECONDS * 1000,
    },
    organisation: { odsCode: c.STEPWISE_ODS_CODE, name: c.STEPWISE_ORGANISATION_NAME },
  };
}
