/**
 * The FHIR interaction a request asks for, from its method and URL alone, by the URL patterns of
 * http://hl7.org/fhir/R4/http.html. Used to label metrics, so the answer is one of a fixed set
 * whatever the client sends; it does not say whether Stepwise serves that interaction there.
 */
export type FhirInteraction =
  | 'read'
  | 'vread'
  | 'search-type'
  | 'search-system'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'history'
  | 'transaction'
  | 'batch'
  /** a POST of a Bundle to the base that was refused before its type was read */
  | 'bundle'
  | 'operation'
  | 'capabilities'
  | 'unknown';

export interface InteractionOf {
  interaction: FhirInteraction;
  /** The first path segment when it names a type (not checked against the R4 types here). */
  type?: string;
}

/** `path` is below the FHIR base, without leading or trailing slashes. */
export function interactionOf(method: string, path: string): InteractionOf {
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const s = path === '' ? [] : path.split('/');
  const type = s.length > 0 && !/^[_$]/.test(s[0]) && s[0] !== 'metadata' ? s[0] : undefined;
  const at = (interaction: FhirInteraction): InteractionOf => ({ interaction, type });
  if (s.some((segment) => segment.startsWith('$'))) return at('operation');
  if (s.length === 0) return at(m === 'POST' ? 'bundle' : m === 'GET' ? 'search-system' : 'unknown');
  if (s[0] === 'metadata') return at(s.length === 1 && m === 'GET' ? 'capabilities' : 'unknown');
  if (s[s.length - 1] === '_history' || s[0] === '_history') return at(m === 'GET' && s.length <= 3 ? 'history' : 'unknown');
  if (s.length === 4 && s[2] === '_history') return at(m === 'GET' ? 'vread' : 'unknown');
  if (s.length === 2 && s[1] === '_search') return at(m === 'POST' || m === 'GET' ? 'search-type' : 'unknown');
  if (s.length === 1) return at(({ GET: 'search-type', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as const)[m as 'GET'] ?? 'unknown');
  if (s.length === 2) return at(({ GET: 'read', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as const)[m as 'GET'] ?? 'unknown');
  return at('unknown');
}

/**
 * A Bundle POSTed to the base is a transaction or a batch by its `type`, which comes before the
 * entries in any Bundle a client writes (in XML the order is fixed): only the text before the
 * first entry is looked at, so a large Bundle costs nothing more.
 */
export function bundleInteraction(body: ArrayBuffer): 'transaction' | 'batch' | 'bundle' {
  const head = new TextDecoder().decode(new Uint8Array(body, 0, Math.min(body.byteLength, 4096)));
  const beforeEntries = head.split(/"entry"|<entry[\s>]/)[0];
  const found = /"type"\s*:\s*"(transaction|batch)"/.exec(beforeEntries) ?? /<type\s+value\s*=\s*["'](transaction|batch)["']/.exec(beforeEntries);
  return (found?.[1] as 'transaction' | 'batch' | undefined) ?? 'bundle';
}
