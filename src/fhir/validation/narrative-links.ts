import type { ValidationContext, ValueCheck } from './context.js';

/**
 * A narrative link within the resource (`<a href="#x">`) must lead somewhere: an element or
 * resource with that id (a contained resource, dom-3's way of referring to it), or an anchor
 * (`id` or `name`) in a narrative of the resource, or of another entry of the Bundle it travels in
 * (narrative.html#xhtml: links are to be resolvable). The HL7 validator: "Hyperlink '…' … does not
 * resolve", an error. Rule key `narrative-link`: in a message a content resource's broken link is a
 * warning (messaging/content-policy.ts).
 */

const INTERNAL_LINK = /<a\s[^>]*?href\s*=\s*(?:"#([^"]*)"|'#([^']*)')[^>]*>([\s\S]*?)<\/a>/g;

export const narrativeLinkRule: ValueCheck = (value, path, ctx) => {
  const div = (value as { div?: unknown }).div;
  if (typeof div !== 'string' || !div.includes('href')) return;
  let targets: Set<string> | undefined;
  INTERNAL_LINK.lastIndex = 0;
  for (let m = INTERNAL_LINK.exec(div); m; m = INTERNAL_LINK.exec(div)) {
    const fragment = decodeEntities(m[1] ?? m[2] ?? '');
    if (!fragment) continue;
    targets ??= linkTargets(ctx);
    if (targets.has(fragment)) continue;
    const text = m[3].replace(/<[^>]*>/g, '').trim();
    ctx.issues.error('value', `${path}.div`, `Hyperlink '#${fragment}'${text ? ` for '${text}'` : ''} does not resolve`, 'narrative-link');
  }
};

/** Every id and narrative anchor in the resource (with its container), or in the whole Bundle it is in. */
function linkTargets(ctx: ValidationContext): Set<string> {
  const targets = new Set<string>();
  const roots: unknown[] = [ctx.rootResource.value];
  if (ctx.bundle) roots.push(...ctx.bundle.entryOf.keys());
  for (const root of roots) collect(root, targets, 0);
  return targets;
}

const ANCHOR = /<[A-Za-z][^>]*?\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function collect(value: unknown, into: Set<string>, depth: number): void {
  if (depth > 64 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collect(item, into, depth + 1);
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === 'id' && typeof child === 'string') into.add(child);
    else if (key === 'div' && typeof child === 'string') {
      ANCHOR.lastIndex = 0;
      for (let m = ANCHOR.exec(child); m; m = ANCHOR.exec(child)) into.add(decodeEntities(m[1] ?? m[2] ?? ''));
    } else collect(child, into, depth + 1);
  }
}

function decodeEntities(s: string): string {
  return s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'");
}
