import { Hono } from 'hono';
import { compress } from 'hono/compress';
import { FhirError, FhirErrorCode, toOperationOutcome } from './errors.js';
import type { ResourceValidator } from './fhir/resource-validator.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from './fhir/input-limits.js';
import { patchLimitsOf } from './fhir/json-patch.js';
import { isResourceType } from './fhir/resource-types.js';
import { accessLog } from './http/middleware/access-log.js';
import { parseAllowedHost, type AllowedHost } from './config/allowed-hosts.js';
import { allowedHosts } from './http/middleware/allowed-hosts.js';
import { bodyLimit } from './http/middleware/body-limit.js';
import { corsFor } from './http/middleware/cors.js';
import { correlationId } from './http/middleware/correlation-id.js';
import { rateLimit } from './http/middleware/rate-limit.js';
import { requestId, type RequestIdVariables } from './http/middleware/request-id.js';
import { securityHeaders } from './http/middleware/security-headers.js';
import { fhirEndpoint, serialize } from './http/fhir-endpoint.js';
import { AppMetrics } from './http/metrics.js';
import { CONTENT_TYPE, errorFormat } from './http/negotiate.js';
import { Lifecycle } from './lifecycle.js';
import { auditRequests, type RequestAudit } from './audit/middleware.js';
import { recordTokenRequests } from './audit/token-request.js';
import { authenticate, mountSecurityRoutes } from './security/http.js';
import { requestorOf, type PrincipalVariables } from './security/principal.js';
import type { Security } from './security/security.js';
import { restSecurity } from './security/smart-configuration.js';
import type { Logger } from './logger.js';
import type { MessageProcessor } from './messaging/processor.js';
import type { WritePolicy } from './pathway/write-policies.js';
import { WritePipeline } from './pipeline/write-pipeline.js';
import { WEB_PREFIX, webPages } from './web/pages.js';
import type { ResourceStore } from './store/resource-store.js';

/** What the FHIR API needs; the server has these only once start-up is done. */
export interface FhirServices {
  store: ResourceStore;
  messaging: MessageProcessor;
  validator: ResourceValidator;
  writeValidation?: 'reject' | 'log';
  /** UNKNOWN_PROFILE: a write's meta.profile the validator does not hold is a warning (`warn`, the default) or refused (`reject`). */
  unknownProfile?: 'warn' | 'reject';
  /** UNKNOWN_EXTENSION: a write's extension the validator has no definition for is a warning (`warn`, the default) or refused (`reject`). */
  unknownExtension?: 'warn' | 'reject';
  /** The pathway's policies as configured (pathwayPolicies); the defaults when absent. */
  policies?: readonly WritePolicy[];
}

export interface AppOptions {
  logger: Logger;
  baseUrl?: string;
  /** ALLOWED_HOSTS: the names (`host` or `host:port`) requests may give in Host; others are 421. */
  allowedHosts: readonly string[];
  maxBodyBytes: number;
  maxBundleEntries: number;
  /** Bounds on a request body's shape (MAX_NESTING_DEPTH, MAX_ARRAY_ITEMS, MAX_STRING_LENGTH); defaults when absent. */
  inputLimits?: InputLimits;
  /** RATE_LIMIT_PER_MINUTE: requests a minute per client; 0 or absent, no limit. */
  rateLimitPerMinute?: number;
  /** CORS_ORIGINS: origins browsers may call from; none, no CORS headers. */
  corsOrigins?: readonly string[];
  /** Authentication (STEPWISE_AUTH=on, security/security.ts); absent: off, every request is the development principal. */
  security?: Security;
}

/** What a request carries through the middleware: its id, and who is asking. */
export type AppVariables = RequestIdVariables & PrincipalVariables & { audit?: RequestAudit };

export interface AppDeps extends FhirServices, AppOptions {}

export const FHIR_PREFIX = '/fhir';

/** Seconds a client is asked to wait (Retry-After) when the FHIR API is not ready yet. */
const RETRY_AFTER_SECONDS = 5;
/** /readyz answers within this, whatever the database is doing (probes commonly wait 1–5 s). */
const READINESS_TIMEOUT_MS = 1000;

/** `work`, or a rejection once `ms` have passed; the timer does not keep the process alive. */
function withinTime<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Health, readiness and metrics answer a busy server too: they are never rate limited. */
const isOperational = (path: string): boolean => path === '/healthz' || path === '/readyz' || path === '/metrics';

/** An allowed host as configured; config.ts has checked ALLOWED_HOSTS, so a bad one is the caller's bug. */
function parseHost(text: string): AllowedHost {
  const host = parseAllowedHost(text);
  if (!host) throw new Error(`Not a host name (host or host:port): ${text}`);
  return host;
}

/** The HTTP application over services that exist already (tests, benches): ready at once. */
export function createApp(deps: AppDeps): Hono<{ Variables: AppVariables }> {
  return createAppWithLifecycle(deps, Lifecycle.readyWith<FhirServices>(deps));
}

/**
 * The HTTP application: middleware, health, readiness and metrics endpoints, the FHIR API, and the
 * one error handler. It can serve before the FHIR services exist: health answers at once, and the
 * FHIR API answers 503 until `lifecycle` is ready.
 */
export function createAppWithLifecycle(options: AppOptions, lifecycle: Lifecycle<FhirServices>): Hono<{ Variables: AppVariables }> {
  const app = new Hono<{ Variables: AppVariables }>();
  const { logger } = options;
  const metrics = new AppMetrics({
    fhirPrefix: FHIR_PREFIX,
    database: () => lifecycle.services?.store.database,
    // the R4 types are loaded by start-up; before that no request gets as far as a type
    isResourceType: (name) => lifecycle.services !== undefined && isResourceType(name),
    logger,
  });

  app.use('*', requestId());
  app.use('*', correlationId());
  app.use('*', accessLog(logger));
  app.use('*', metrics.middleware());
  app.use('*', compress());
  // an AuditEvent for every request to the FHIR API, discovery and the token endpoint
  // (audit/middleware.ts): around the Host check and authentication, so a 421 or a 401 is recorded too
  const trail = () => lifecycle.services && { db: lifecycle.services.store.database, clock: lifecycle.services.store.clock };
  const fallbackBase = `http://${options.allowedHosts[0] ?? 'localhost'}${FHIR_PREFIX}`;
  const audit = auditRequests({ prefix: FHIR_PREFIX, baseUrl: options.baseUrl, trail, logger, fallbackBase });
  for (const path of [FHIR_PREFIX, `${FHIR_PREFIX}/*`, '/.well-known/*', '/auth/*']) app.use(path, audit);
  // hostile input (issue 13): headers on every response; CORS only for configured origins
  const cors = corsFor(options.corsOrigins ?? []);
  app.use('*', securityHeaders({ https: options.baseUrl?.startsWith('https:') ?? false, cors: cors !== undefined, pagesPrefix: WEB_PREFIX }));
  if (cors) app.use('*', cors);
  // before anything derives a URL from the request (links, Location, the audit's observer, token audiences)
  app.use('*', allowedHosts(options.allowedHosts.map(parseHost), isOperational));
  // who is asking (401 without a valid bearer token), before throttling keys on it
  const securityHttp = { prefix: FHIR_PREFIX, baseUrl: options.baseUrl };
  app.use(FHIR_PREFIX, authenticate(options.security, securityHttp));
  app.use(`${FHIR_PREFIX}/*`, authenticate(options.security, securityHttp));
  // per-client throttling (after authentication, so the key is the client), then the body bound,
  // before any handler reads a body
  if (options.rateLimitPerMinute) app.use('*', rateLimit({ perMinute: options.rateLimitPerMinute, exempt: isOperational }));
  app.use('*', bodyLimit(options.maxBodyBytes));

  // liveness: the process answers
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // readiness: send FHIR traffic here (not while starting or draining, nor without a database)
  app.get('/readyz', async (c) => {
    const services = lifecycle.services;
    if (lifecycle.phase === 'starting' || !services) return c.json({ status: 'starting', step: lifecycle.step }, 503);
    const db = services.store.database;
    if (lifecycle.phase === 'draining') return c.json({ status: 'draining', database: db.kind }, 503);
    try {
      // a starved pool or a stuck database is "not ready" within the probe's own time, never a hang
      await withinTime(db.query('SELECT 1'), READINESS_TIMEOUT_MS);
      return c.json({ status: 'ready', database: db.kind });
    } catch (err) {
      logger.warn({ err }, 'database not reachable');
      return c.json({ status: 'unavailable', database: db.kind }, 503);
    }
  });
  app.get('/metrics', async (c) => {
    const { body, contentType } = await metrics.render();
    return c.body(body, 200, { 'Content-Type': contentType });
  });

  // SMART discovery and the token endpoint (only with auth on); each token request is audited
  mountSecurityRoutes(app, options.security, { ...securityHttp, onTokenRequest: recordTokenRequests(trail, options.baseUrl) });

  const onInvalidWrite = (resource: { resourceType: string; id?: string }, issues: unknown[]) =>
    logger.warn({ resourceType: resource.resourceType, id: resource.id, issues }, 'accepted a write with validation errors (WRITE_VALIDATION=log)');
  const pipelines = new WeakMap<FhirServices, WritePipeline>();
  const pipelineOf = (services: FhirServices) => {
    let pipeline = pipelines.get(services);
    if (!pipeline) pipelines.set(services, (pipeline = new WritePipeline({ validator: services.validator, writeValidation: services.writeValidation ?? 'reject', unknownProfile: services.unknownProfile, unknownExtension: services.unknownExtension, onInvalidWrite, policies: services.policies })));
    return pipeline;
  };
  const endpoint = fhirEndpoint(
    (baseUrl, requestId, principal, audit) => {
      const services = lifecycle.services!;
      return {
        // the principal's store: its reads confined to its compartment, in SQL (security/compartments.ts)
        store: services.store.for(principal),
        validator: services.validator,
        writeValidation: services.writeValidation ?? 'reject',
        onInvalidWrite,
        baseUrl,
        maxBundleEntries: options.maxBundleEntries,
        patchLimits: patchLimitsOf(options.inputLimits ?? DEFAULT_INPUT_LIMITS, options.maxBodyBytes),
        messaging: services.messaging,
        pipeline: pipelineOf(services),
        principal,
        security: options.security ? restSecurity(baseUrl) : undefined,
        origin: { route: 'rest', baseUrl, requestId, requestor: requestorOf(principal, audit?.address), audit: audit?.scope, principal },
      };
    },
    { prefix: FHIR_PREFIX, baseUrl: options.baseUrl, maxBodyBytes: options.maxBodyBytes, inputLimits: options.inputLimits ?? DEFAULT_INPUT_LIMITS },
  );
  const fhir = async (c: Parameters<typeof endpoint>[0]) => {
    if (!lifecycle.services) {
      c.header('Retry-After', String(RETRY_AFTER_SECONDS));
      throw new FhirError(FhirErrorCode.UNAVAILABLE, 'Stepwise is starting up and cannot serve FHIR requests yet; try again shortly');
    }
    return endpoint(c);
  };
  app.all(FHIR_PREFIX, fhir);
  app.all(`${FHIR_PREFIX}/*`, fhir);

  // the triage pages (src/web/README.md): same store, compartments and write pipeline as the API
  const pageServices = () => lifecycle.services && { store: lifecycle.services.store, pipeline: pipelineOf(lifecycle.services) };
  app.route(WEB_PREFIX, webPages({ security: options.security, baseUrl: options.baseUrl, fhirPrefix: FHIR_PREFIX, services: pageServices, logger }));

  app.notFound((c) => {
    throw new FhirError(FhirErrorCode.NOT_FOUND, `Nothing at ${c.req.path}; the FHIR API is at ${FHIR_PREFIX}`);
  });

  // The one place where an error becomes a response (http://hl7.org/fhir/R4/http.html#2.21.0.4).
  app.onError((err, c) => {
    const fhirErr =
      err instanceof FhirError
        ? err
        : new FhirError(FhirErrorCode.INTERNAL, 'An internal error occurred; it has been logged with the request id', { cause: err });
    if (!(err instanceof FhirError)) logger.error({ err, requestId: c.get('requestId') }, 'unhandled error');
    // a 503 is the database busy or a query stopped (store/database.ts): worth trying again later
    if (fhirErr.status === 503) c.header('Retry-After', String(RETRY_AFTER_SECONDS));
    const format = errorFormat(c.req.query('_format'), c.req.header('Accept'));
    c.header('Content-Type', CONTENT_TYPE[format]);
    return c.body(serialize(toOperationOutcome(fhirErr), format), fhirErr.status as 500);
  });

  return app;
}
