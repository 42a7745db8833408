import type { Resource } from '@medplum/fhirtypes';
import type { ResourceStore } from './resource-store.js';

/**
 * Writes resources with fixed ids (conformance resources, rule sets) at start-up. Idempotent: an
 * unchanged resource makes no new version, a changed one makes exactly one. Those the store holds
 * as they are are found in one query first, so a restart with nothing changed writes nothing.
 */
export async function upsertAll(store: ResourceStore, resources: Resource[]): Promise<{ changed: number }> {
  for (const r of resources) if (!r.id) throw new Error(`${r.resourceType} without id cannot be seeded`);
  const unchanged = await store.holdsUnchanged(resources);
  const maybeChanged = resources.filter((_, i) => !unchanged[i]);
  if (maybeChanged.length === 0) return { changed: 0 };
  let changed = 0;
  await store.transaction(async (tx) => {
    for (const r of maybeChanged) if ((await tx.update(r)).changed) changed++;
  });
  return { changed };
}
