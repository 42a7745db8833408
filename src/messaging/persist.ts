import { randomUUID } from 'node:crypto';
import type { Identifier, Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../errors.js';
import { isValidNhsNumber } from '../fhir/nhs-number.js';
import type { Queryable } from '../store/database.js';
import type { ResourceStore } from '../store/resource-store.js';
import { IDENTIFIER } from './bars.js';
import type { Message, MessageEntry } from './message.js';

/** What became of one entry of a message. */
export interface StoredEntry {
  entry: MessageEntry;
  type: string;
  id: string;
  /** created, updated, or matched (an existing resource with the same national identifier). */
  action: 'created' | 'updated' | 'matched';
  /** For a match: the identifier it matched on. */
  matchedOn?: string;
}

/**
 * National identifiers a resource is matched on, in order of preference: a Patient on NHS number,
 * an Organization on ODS code, a Practitioner on SDS user id, SDS role profile id or GMC number.
 */
const MATCH_SYSTEMS: Record<string, string[]> = {
  Patient: [IDENTIFIER.nhsNumber],
  Organization: [IDENTIFIER.ods],
  Practitioner: [IDENTIFIER.sdsUser, IDENTIFIER.sdsRoleProfile, IDENTIFIER.gmc],
};

const NATIONAL_SYSTEMS: string[] = [...Object.values(IDENTIFIER), 'https://fhir.nhs.uk/Id/dos-service-id'];
const canonicalForm = (uri: string) => uri.toLowerCase().replace(/^http:/, 'https:');

/**
 * Identifiers whose system differs from a national identifier system only in case or scheme
 * (`https://fhir.nhs.uk/id/ods-organization-code`, `http://fhir.nhs.uk/Id/dos-service-id`, as in
 * the BaRS examples). URIs compare exactly, so such an identifier is not matched on: the sender is
 * told, with the system it meant.
 */
export function nearMissSystems(entries: MessageEntry[]): { expression: string; system: string; meant: string }[] {
  const out: { expression: string; system: string; meant: string }[] = [];
  for (const e of entries) {
    const ids = (e.resource as { identifier?: Identifier[] }).identifier;
    if (!Array.isArray(ids)) continue;
    ids.forEach((id, i) => {
      if (!id.system || NATIONAL_SYSTEMS.includes(id.system)) return;
      const meant = NATIONAL_SYSTEMS.find((s) => canonicalForm(s) === canonicalForm(id.system!));
      if (meant) out.push({ expression: `${e.path}.identifier[${i}].system`, system: id.system, meant });
    });
  }
  return out;
}

export function matchIdentifier(resource: Resource): Identifier | undefined {
  const systems = MATCH_SYSTEMS[resource.resourceType];
  if (!systems) return undefined;
  const ids = (resource as { identifier?: Identifier[] }).identifier ?? [];
  for (const system of systems) {
    const id = ids.find((i) => i.system === system && i.value && (system !== IDENTIFIER.nhsNumber || isValidNhsNumber(i.value)));
    if (id) return id;
  }
  return undefined;
}

export interface StoreOptions {
  /** Entries (by index) that update an existing resource with this id. */
  updates?: Map<number, { id: string; ifMatch?: number }>;
  /** Whether earlier references of the same sender are updated rather than created again. */
  followReferences: boolean;
}

/**
 * Stores everything a message carries except its MessageHeader, inside the caller's transaction:
 * matched resources keep their id, the rest get ids generated here, and every reference between
 * entries is rewritten to those ids. Identity locks are taken in a fixed order so concurrent
 * messages naming the same people never deadlock and never create one twice.
 */
export async function storeMessageContent(store: ResourceStore, tx: Queryable, message: Message, opts: StoreOptions): Promise<StoredEntry[]> {
  const entries = message.entries.filter((e) => e.index !== 0);
  const plan = new Map<number, StoredEntry>();
  for (const [index, u] of opts.updates ?? []) {
    const entry = entries.find((e) => e.index === index)!;
    plan.set(index, { entry, type: entry.resource.resourceType, id: u.id, action: 'updated' });
  }

  if (opts.followReferences) {
    const refs = entries.filter((e) => e.fullUrl && !plan.has(e.index)).map((e) => e.fullUrl!);
    if (refs.length) {
      const rows = await tx.query<{ reference: string; type: string; id: string }>(
        'SELECT reference, type, id FROM message_reference WHERE source = $1 AND reference = ANY($2::text[])',
        [message.source, refs],
      );
      for (const row of rows) {
        const entry = entries.find((e) => e.fullUrl === row.reference && e.resource.resourceType === row.type);
        if (entry && !MATCH_SYSTEMS[row.type]) plan.set(entry.index, { entry, type: row.type, id: row.id, action: 'updated' });
      }
    }
  }

  const identities = entries
    .filter((e) => !plan.has(e.index))
    .map((e) => ({ e, id: matchIdentifier(e.resource) }))
    .filter((x): x is { e: MessageEntry; id: Identifier } => x.id !== undefined)
    .map((x) => ({ ...x, key: `${x.e.resource.resourceType}|${x.id.system}|${x.id.value}` }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const matchedByKey = new Map<string, string>();
  // Most people and organisations are known already: look them all up in one query without a
  // lock first, so messages naming the same practice do not queue behind each other.
  const known = await lookUpIdentities(tx, identities.map(({ e, id }) => ({ type: e.resource.resourceType, system: id.system!, value: id.value! })));
  for (const { e, id, key } of identities) {
    let existing = matchedByKey.get(key) ?? known.get(key);
    if (!existing && !matchedByKey.has(key)) {
      // unknown: take the identity's lock and look again, so concurrent messages create it once
      await store.lock(`identity:${key}`);
      existing = (await lookUpIdentities(tx, [{ type: e.resource.resourceType, system: id.system!, value: id.value! }])).get(key);
    }
    if (existing) {
      matchedByKey.set(key, existing);
      plan.set(e.index, { entry: e, type: e.resource.resourceType, id: existing, action: 'matched', matchedOn: `${id.system}|${id.value}` });
    } else {
      const fresh = randomUUID();
      matchedByKey.set(key, fresh);
      plan.set(e.index, { entry: e, type: e.resource.resourceType, id: fresh, action: 'created' });
    }
  }
  for (const e of entries) if (!plan.has(e.index)) plan.set(e.index, { entry: e, type: e.resource.resourceType, id: randomUUID(), action: 'created' });

  const rewrite = new Map<string, string>();
  for (const s of plan.values()) {
    const target = `${s.type}/${s.id}`;
    if (s.entry.fullUrl) rewrite.set(s.entry.fullUrl, target);
    if (s.entry.resource.id) rewrite.set(`${s.type}/${s.entry.resource.id}`, target);
  }

  const written = new Set<string>();
  // every new resource of the message is written by one statement (ResourceStore.createMany)
  const creates: { resource: Resource; id: string }[] = [];
  for (const s of plan.values()) {
    const key = `${s.type}/${s.id}`;
    if (written.has(key)) continue; // two entries for one matched person: the first one stands
    written.add(key);
    const resource = withReferences(s.entry.resource, rewrite) as Resource;
    if (s.action === 'created') {
      creates.push({ resource: { ...resource, id: undefined, meta: cleanMeta(resource.meta) } as Resource, id: s.id });
    } else if (s.action === 'updated') {
      const ifMatch = opts.updates?.get(s.entry.index)?.ifMatch;
      try {
        await store.update({ ...resource, id: s.id, meta: cleanMeta(resource.meta) } as Resource, { ifMatch });
      } catch (err) {
        if (err instanceof FhirError && err.code === FhirErrorCode.PRECONDITION_FAILED) {
          throw new FhirError(FhirErrorCode.CONFLICT, { code: 'conflict', expression: `${s.entry.path}.meta.versionId`, message: `${key} has changed since version ${ifMatch}: read it again and send the update based on its current version` });
        }
        throw err;
      }
    }
  }

  await store.createMany(creates);

  const mapped = [...plan.values()].filter((s) => s.entry.fullUrl);
  if (mapped.length) {
    await tx.query(
      `INSERT INTO message_reference (source, reference, type, id)
       SELECT $1, r, t, i FROM unnest($2::text[], $3::text[], $4::text[]) AS u(r, t, i)
       ON CONFLICT (source, reference) DO UPDATE SET type = EXCLUDED.type, id = EXCLUDED.id`,
      [message.source, mapped.map((s) => s.entry.fullUrl!), mapped.map((s) => s.type), mapped.map((s) => s.id)],
    );
  }
  return [...plan.values()].sort((a, b) => a.entry.index - b.entry.index);
}

/**
 * Ids of current resources by national identifier, keyed `Type|system|value`: one query over the
 * index the `identifier` search parameter fills (sp_token), instead of one search per identity.
 */
async function lookUpIdentities(tx: Queryable, wanted: { type: string; system: string; value: string }[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (wanted.length === 0) return found;
  const rows = await tx.query<{ type: string; system: string; code: string; id: string }>(
    `SELECT t.type, t.system, t.code, r.id FROM unnest($1::text[], $2::text[], $3::text[]) AS w(type, system, code)
       JOIN sp_token t ON t.type = w.type AND t.param = 'identifier' AND t.code = w.code AND t.system = w.system
       JOIN resource r ON r.rid = t.rid AND NOT r.deleted
      ORDER BY r.rid`,
    [wanted.map((w) => w.type), wanted.map((w) => w.system), wanted.map((w) => w.value)],
    { prepare: true },
  );
  for (const row of rows) {
    const key = `${row.type}|${row.system}|${row.code}`;
    if (!found.has(key)) found.set(key, row.id);
  }
  return found;
}

/** The sender's version and timestamp are not ours; its profiles are kept. */
function cleanMeta(meta: Resource['meta']): Resource['meta'] {
  if (!meta) return undefined;
  const { versionId: _v, lastUpdated: _l, ...rest } = meta;
  return Object.keys(rest).length ? rest : undefined;
}

/** A copy of `value` with every Reference.reference found in `rewrite` replaced. */
export function withReferences(value: unknown, rewrite: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => withReferences(v, rewrite));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === 'reference' && typeof v === 'string' && rewrite.has(v) ? rewrite.get(v) : withReferences(v, rewrite);
    }
    return out;
  }
  return value;
}
