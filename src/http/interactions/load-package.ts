import type { OperationOutcome } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, badRequest } from '../../errors.js';
import { PackageError, readNpmPackage } from '../../fhir/npm-package.js';
import { loadPackages } from '../../pipeline/package-load.js';
import { ADMIN_SCOPE, isAdmin } from '../../security/admin.js';
import type { Handler } from './context.js';

/** The route of `$load-package`, whose body is a .tgz rather than a FHIR resource (fhir-endpoint.ts). */
export const LOAD_PACKAGE_PATH = '$load-package';

/** Media types a FHIR NPM package is sent as. */
export const PACKAGE_MEDIA_TYPES = new Set(['application/gzip', 'application/x-gzip', 'application/octet-stream', 'application/tar+gzip']);

/**
 * POST [base]/$load-package: loads a FHIR NPM package (.tgz) into the store as conformance
 * resources (pipeline/package-load.ts), for validation against them (issue 15). Stepwise's own
 * operation: what a server validates against is the administrator's to change, so it needs the
 * stepwise/admin scope (and the types' update scopes, security/access.ts). `missingDependencies=warn`
 * stores a package whose dependencies are not loaded. The answer is 200 with an OperationOutcome:
 * what was loaded, then every warning.
 */
export const loadPackageOperation: Handler = async (ctx, req) => {
  if (!isAdmin(ctx.principal)) {
    throw new FhirError(FhirErrorCode.FORBIDDEN, `Loading a package changes what every request is validated against; it needs the ${ADMIN_SCOPE} scope`);
  }
  if (!(req.body instanceof Uint8Array)) throw badRequest('$load-package takes the package itself as the body: a .tgz sent as application/gzip or application/octet-stream');
  const missing = new Map(req.query).get('missingDependencies') ?? 'refuse';
  if (missing !== 'refuse' && missing !== 'warn') throw badRequest(`missingDependencies must be refuse or warn, got '${missing}'`);
  let pkg;
  try {
    pkg = readNpmPackage(req.body);
  } catch (err) {
    if (err instanceof PackageError) throw badRequest(err.message);
    throw err;
  }
  const report = await loadPackages(ctx.pipeline, ctx.store, ctx.origin, [pkg], { missingDependencies: missing });
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [
      ...report.packages.map((p) => {
        const message = `Loaded ${p.name}#${p.version}: ${p.written} conformance resources written, ${p.unchanged} unchanged, ${p.skipped} other files left out`;
        return { severity: 'information' as const, code: 'informational' as const, diagnostics: message, details: { text: message } };
      }),
      ...report.issues,
    ],
  };
  return { status: 200, headers: {}, body: outcome };
};
