import { structureMapTransform, type TransformMapCollection } from '@medplum/core';
import type { StructureMap } from '@medplum/fhirtypes';

/**
 * Runs one StructureMap's first group over a source value and a target it fills (the FHIR Mapping
 * Language, http://hl7.org/fhir/R4/mapping-language.html, by @medplum/core). Gives the target.
 */
export function runStructureMap<T extends object>(map: StructureMap, source: { type: string; value: object }, target: { type: string; value: T }, transformMaps: TransformMapCollection): T {
  const [out] = structureMapTransform(map, [source, target], transformMaps);
  return out.value as T;
}

/**
 * Step in code, after a map: a `translate` that finds no match still makes the Coding it was to
 * fill (engine limit: a rule cannot depend on a translation's result), so Codings without a code,
 * and objects and lists left empty, are removed.
 */
export function pruneEmpty<T>(value: T): T {
  if (Array.isArray(value)) {
    const items = value.map(pruneEmpty).filter((v) => !isEmpty(v) && !isCodelessCoding(v));
    return items as T;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const pruned = pruneEmpty(v);
      if (!isEmpty(pruned)) out[k] = pruned;
    }
    return out as T;
  }
  return value;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
}

function isCodelessCoding(v: unknown): boolean {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k === 'system' || k === 'display') && 'system' in v;
}
