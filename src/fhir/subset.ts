import { getDataType } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { loadR4Definitions } from './definitions.js';

/** Tag marking a resource that is not complete (http://hl7.org/fhir/R4/search.html#summary). */
const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };
const ALWAYS = ['resourceType', 'id', 'meta'];

export type SummaryMode = 'true' | 'false' | 'text' | 'data' | 'count';

/**
 * Applies _summary and _elements to a resource (http://hl7.org/fhir/R4/search.html#summary,
 * #elements). The result carries the SUBSETTED tag whenever something was left out.
 */
export function subsetResource(resource: Resource, summary?: SummaryMode, elements?: string[]): Resource {
  let keep: Set<string> | undefined;
  let drop: Set<string> | undefined;
  if (elements && elements.length) keep = new Set([...ALWAYS, ...elements.map((e) => e.split('.')[0].replace(/^[A-Z][A-Za-z]+\./, ''))]);
  else if (summary === 'true') keep = new Set([...ALWAYS, ...summaryElements(resource.resourceType)]);
  else if (summary === 'text') keep = new Set([...ALWAYS, 'text', ...mandatoryElements(resource.resourceType)]);
  else if (summary === 'data') drop = new Set(['text']);
  if (!keep && !drop) return resource;
  const out: Record<string, unknown> = {};
  let removed = false;
  for (const [k, v] of Object.entries(resource)) {
    const base = k.startsWith('_') ? k.slice(1) : k;
    if ((keep && !keep.has(base)) || drop?.has(base)) removed = true;
    else out[k] = v;
  }
  if (!removed) return resource;
  const meta = { ...(resource.meta ?? {}) };
  meta.tag = [...(meta.tag ?? []).filter((t) => t.code !== 'SUBSETTED'), SUBSETTED];
  out.meta = meta;
  return out as unknown as Resource;
}

const summaryCache = new Map<string, string[]>();
function summaryElements(type: string): string[] {
  let list = summaryCache.get(type);
  if (!list) {
    loadR4Definitions();
    const schema = getDataType(type);
    list = [...(schema.summaryProperties ?? [])].map((p) => p.replace(/\[x\]$/, ''));
    // choice elements appear as value[x] in the schema: keep every valueXxx spelling
    list = expandChoices(list, schema.elements);
    summaryCache.set(type, list);
  }
  return list;
}

function mandatoryElements(type: string): string[] {
  loadR4Definitions();
  const schema = getDataType(type);
  return expandChoices(
    Object.entries(schema.elements)
      .filter(([path, e]) => !path.includes('.') && e.min > 0)
      .map(([path]) => path.replace(/\[x\]$/, '')),
    schema.elements,
  );
}

function expandChoices(names: string[], elements: Record<string, { type: { code: string }[] }>): string[] {
  const out: string[] = [];
  for (const n of names) {
    const choice = elements[`${n}[x]`];
    if (choice) for (const t of choice.type) out.push(n + t.code[0].toUpperCase() + t.code.slice(1));
    else out.push(n);
  }
  return out;
}
