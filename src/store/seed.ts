import type { Resource } from '@medplum/fhirtypes';
import type { ResourceStore } from './resource-store.js';

/**
 * Writes resources with fixed ids (conformance resources, rule sets) at start-up. Idempotent: an
 * unchanged resource makes no new version, a changed one makes exactly one.
 */
export async function upsertAll(store: ResourceStore, resources: Resource[]): Promise<{ changed: number }> {
  let changed = 0;
  await store.transaction(async (tx) => {
    for (const r of resources) {
      if (!r.id) throw new Error(`${r.resourceType} without id cannot be seeded`);
      if ((await tx.update(r)).changed) changed++;
    }
  });
  return { changed };
}
