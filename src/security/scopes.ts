/**
 * SMART on FHIR scopes (http://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html):
 * `context/Type.permissions`, where context is `system`, `user` or `patient`, Type a resource type
 * or `*`, and permissions the v2 letters `cruds` (a subset, in that order) or the v1 words `read`
 * (= rs), `write` (= cud) and `*` (= cruds).
 *
 * A v2 scope with a query (`patient/Observation.rs?category=…`) narrows access in a way this
 * server cannot yet enforce, so it grants nothing: a narrower grant is never widened. Scopes that
 * are not about resources (`openid`, `fhirUser`, `launch/patient`, `offline_access`) grant nothing
 * here either.
 */

export type Permission = 'c' | 'r' | 'u' | 'd' | 's';
export type ScopeContext = 'system' | 'user' | 'patient';

export interface Scope {
  context: ScopeContext;
  /** A resource type, or `*` for every type. */
  type: string;
  permissions: ReadonlySet<Permission>;
}

const ORDER: readonly Permission[] = ['c', 'r', 'u', 'd', 's'];
const V1: Record<string, Permission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };
const SHAPE = /^(system|user|patient)\/(\*|[A-Z][A-Za-z]{0,63})\.([a-z*]+)$/;

/** One scope string as a Scope, or undefined when it is not a resource scope this server grants. */
export function parseScope(text: string): Scope | undefined {
  const m = SHAPE.exec(text);
  if (!m) return undefined;
  const permissions = V1[m[3]] ?? v2Permissions(m[3]);
  if (!permissions) return undefined;
  return { context: m[1] as ScopeContext, type: m[2], permissions: new Set(permissions) };
}

/** `cruds` letters: each at most once, in that order (SMART v2 §"Scopes for requesting FHIR resources"). */
function v2Permissions(letters: string): Permission[] | undefined {
  let at = 0;
  const out: Permission[] = [];
  for (const letter of letters) {
    const index = ORDER.indexOf(letter as Permission, at);
    if (index < 0) return undefined;
    out.push(ORDER[index]);
    at = index + 1;
  }
  return out.length ? out : undefined;
}

/** A space-separated scope string (RFC 6749 §3.3) as the resource scopes it grants. */
export function parseScopes(text: string | undefined): Scope[] {
  return (text ?? '')
    .split(' ')
    .filter((s) => s.length > 0)
    .flatMap((s) => parseScope(s) ?? []);
}

/** The v2 text of a scope: `system/Task.rs`. */
export function formatScope(scope: Scope): string {
  return `${scope.context}/${scope.type}.${ORDER.filter((p) => scope.permissions.has(p)).join('')}`;
}

/** Whether any scope grants `permission` on `type` (`*` as the type asks for a wildcard grant). */
export function allows(scopes: readonly Scope[], type: string, permission: Permission): boolean {
  return scopes.some((s) => (s.type === '*' || s.type === type) && s.permissions.has(permission));
}

/**
 * What a client may have of what it asked for: each requested scope narrowed by each registered
 * scope of the same context, e.g. asked `system/*.rs`, registered `system/Task.cruds` → granted
 * `system/Task.rs`. Scopes that narrow to nothing are dropped; duplicates are removed.
 */
export function intersectScopes(requested: readonly Scope[], registered: readonly Scope[]): Scope[] {
  const granted = new Map<string, Scope>();
  for (const want of requested) {
    for (const have of registered) {
      if (want.context !== have.context) continue;
      const type = want.type === '*' ? have.type : have.type === '*' || have.type === want.type ? want.type : undefined;
      if (!type) continue;
      const permissions = new Set([...want.permissions].filter((p) => have.permissions.has(p)));
      if (permissions.size === 0) continue;
      const scope = { context: want.context, type, permissions };
      granted.set(formatScope(scope), scope);
    }
  }
  return [...granted.values()];
}
