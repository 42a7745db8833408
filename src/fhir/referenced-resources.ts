import type { Reference, Resource } from '@medplum/fhirtypes';

/** A literal relative reference, `Type/id` (no base, no version). */
const LOCAL_REFERENCE = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

/** `Type/id` as its type and id, or undefined for anything else (absolute, versioned, `#contained`, a bare id). */
export function parseLocalReference(ref: Reference | string | undefined): { key: string; type: string; id: string } | undefined {
  const m = LOCAL_REFERENCE.exec(typeof ref === 'string' ? ref : (ref?.reference ?? ''));
  return m ? { key: m[0], type: m[1], id: m[2] } : undefined;
}

/**
 * The resources a message carries beside its focus, gathered by following references: each
 * reference is read once, found or not (a Task's owner is usually its team as well), and the
 * resources come back in the order they were first named.
 */
export class ReferencedResources {
  private readonly found = new Map<string, Resource>();
  private readonly asked = new Set<string>();

  constructor(private readonly read: (type: string, id: string) => Promise<Resource | undefined>) {}

  /** The resource `ref` names, read the first time it is named. */
  async visit(ref: Reference | string | undefined): Promise<Resource | undefined> {
    const local = parseLocalReference(ref);
    if (!local) return undefined;
    if (!this.asked.has(local.key)) {
      this.asked.add(local.key);
      const r = await this.read(local.type, local.id);
      if (r) this.found.set(local.key, r);
    }
    return this.found.get(local.key);
  }

  /** A resource found another way (a search), in its place in the order. */
  add(resource: Resource): void {
    const key = `${resource.resourceType}/${resource.id}`;
    this.asked.add(key);
    this.found.set(key, resource);
  }

  get resources(): Resource[] {
    return [...this.found.values()];
  }
}
