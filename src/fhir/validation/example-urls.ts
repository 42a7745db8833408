import { CANONICAL_RESOURCE_TYPES, heldTypeOf } from './canonical-rules.js';
import type { ValueCheck } from './context.js';
import type { ConformanceRegistry } from './registry.js';

/**
 * URLs in example domains. The specification's own examples use example.org and acme.com
 * (RFC 2606 reserves example.com, .net and .org for documentation), and the OID arcs 2.999 and
 * 1.3.6.1.4.1.32473 are reserved for examples. In real content such a URL names nothing: it is
 * example data copied into production. The HL7 validator allows them unless told not to
 * (`-allow-example-urls false`); then a uri, url, canonical or oid that is an example URL and does
 * not resolve is an error: "Example URLs are not allowed in this context (…)". Here a URL resolves
 * when it names a definition the registry holds.
 *
 * Not checked, as in the HL7 validator: a canonical resource's own `url` (it defines the URL rather
 * than referring to one), `Bundle.entry.fullUrl` (an identity, checked with the Bundle), a local
 * reference `#id`, and `uuid` values.
 */

/** Whether a URL is in an example domain (the HL7 validator's BaseValidator.isExampleUrl). */
export function isExampleUrl(url: string): boolean {
  return (
    EXAMPLE_DOMAINS.some((domain) => url.includes(domain + '/') || url.endsWith(domain)) ||
    url.startsWith('urn:oid:1.3.6.1.4.1.32473.') ||
    url.startsWith('urn:oid:2.999.')
  );
}

const EXAMPLE_DOMAINS = ['example.org', 'acme.com', 'acme.org', 'example.com', 'example.net'];

const URL_TYPES = new Set(['uri', 'url', 'canonical', 'oid']);

/**
 * The example-URL check for one element (`elementPath`, e.g. `Attachment.url`) of a URL type, or
 * undefined where none applies. It runs only when ValidateOptions.allowExampleUrls is false.
 */
export function exampleUrlCheck(typeCode: string, elementPath: string, registry: ConformanceRegistry): ValueCheck | undefined {
  if (!URL_TYPES.has(typeCode) || definesItsUrl(elementPath) || elementPath === 'Bundle.entry.fullUrl') return undefined;
  return (value, path, ctx) => {
    if (ctx.allowExampleUrls !== false || typeof value !== 'string' || value.startsWith('#')) return;
    if (!isExampleUrl(value) || heldTypeOf(value.split('|')[0], registry)) return;
    ctx.issues.error('value', path, `Example URLs are not allowed in this context (${value})`);
  };
}

/** `ValueSet.url` and the like: the URL a canonical resource is known by. */
function definesItsUrl(elementPath: string): boolean {
  const [type, element, more] = elementPath.split('.');
  return element === 'url' && more === undefined && CANONICAL_RESOURCE_TYPES.has(type);
}
