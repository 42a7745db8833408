import { Hono } from 'hono';
import { compress } from 'hono/compress';
import { FhirError, FhirErrorCode, toOperationOutcome } from './errors.js';
import type { ResourceValidator } from './fhir/resource-validator.js';
import { accessLog } from './http/middleware/access-log.js';
import { correlationId } from './http/middleware/correlation-id.js';
import { requestId, type RequestIdVariables } from './http/middleware/request-id.js';
import { fhirEndpoint, serialize } from './http/fhir-endpoint.js';
import { CONTENT_TYPE, errorFormat } from './http/negotiate.js';
import type { Logger } from './logger.js';
import type { MessageProcessor } from './messaging/processor.js';
import type { ResourceStore } from './store/resource-store.js';

export interface AppDeps {
  store: ResourceStore;
  messaging: MessageProcessor;
  logger: Logger;
  validator: ResourceValidator;
  writeValidation?: 'reject' | 'log';
  baseUrl?: string;
  maxBodyBytes: number;
  maxBundleEntries: number;
}

export const FHIR_PREFIX = '/fhir';

/** The HTTP application: middleware, health endpoints, the FHIR API, and the one error handler. */
export function createApp(deps: AppDeps): Hono<{ Variables: RequestIdVariables }> {
  const app = new Hono<{ Variables: RequestIdVariables }>();
  const { store } = deps;
  const db = store.database;

  app.use('*', requestId());
  app.use('*', correlationId());
  app.use('*', accessLog(deps.logger));
  app.use('*', compress());

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await db.query('SELECT 1');
      return c.json({ status: 'ready', database: db.kind });
    } catch (err) {
      deps.logger.warn({ err }, 'database not reachable');
      return c.json({ status: 'unavailable', database: db.kind }, 503);
    }
  });

  const onInvalidWrite = (resource: { resourceType: string; id?: string }, issues: unknown[]) =>
    deps.logger.warn({ resourceType: resource.resourceType, id: resource.id, issues }, 'accepted a write with validation errors (WRITE_VALIDATION=log)');
  const context = (baseUrl: string) => ({
    store,
    validator: deps.validator,
    writeValidation: deps.writeValidation ?? 'reject',
    onInvalidWrite,
    baseUrl,
    maxBundleEntries: deps.maxBundleEntries,
    messaging: deps.messaging,
  });
  const endpoint = fhirEndpoint(context, {
    prefix: FHIR_PREFIX,
    baseUrl: deps.baseUrl,
    maxBodyBytes: deps.maxBodyBytes,
  });
  app.all(FHIR_PREFIX, endpoint);
  app.all(`${FHIR_PREFIX}/*`, endpoint);

  app.notFound((c) => {
    throw new FhirError(FhirErrorCode.NOT_FOUND, `Nothing at ${c.req.path}; the FHIR API is at ${FHIR_PREFIX}`);
  });

  // The one place where an error becomes a response (http://hl7.org/fhir/R4/http.html#2.21.0.4).
  app.onError((err, c) => {
    const fhirErr =
      err instanceof FhirError
        ? err
        : new FhirError(FhirErrorCode.INTERNAL, 'An internal error occurred; it has been logged with the request id', { cause: err });
    if (!(err instanceof FhirError)) deps.logger.error({ err, requestId: c.get('requestId') }, 'unhandled error');
    const format = errorFormat(c.req.query('_format'), c.req.header('Accept'));
    c.header('Content-Type', CONTENT_TYPE[format]);
    return c.body(serialize(toOperationOutcome(fhirErr), format), fhirErr.status as 500);
  });

  return app;
}
