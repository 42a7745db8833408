import { randomUUID } from 'node:crypto';
import type { Identifier, Resource } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../errors.js';
import { isValidNhsNumber } from '../fhir/nhs-number.js';
import { primitiveRegexes } from '../fhir/validation/primitives.js';
import { isUniqueViolation, type Queryable } from '../store/database.js';
import type { ResourceStore } from '../store/resource-store.js';
import { parseStored } from '../store/stored-json.js';
import { WriteBatch } from '../store/write-batch.js';
import { checkNewResource, runAfterPolicies, writeWithPolicies, type WritePolicy } from '../pathway/write-policies.js';
import { BARS, IDENTIFIER } from './bars.js';
import { refuse } from './refusals.js';
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
    const id = ids.find((i) => i.system === system && i.value && (system !== IDENTIFIER.nhsNumber || isMatchableNhsNumber(i)));
    if (id) return id;
  }
  return undefined;
}

/** Verified, in the UK Core system ('01') or the retired one BaRS 1.x senders still use. */
const VERIFIED = new Set([`${BARS.verificationSystem}|01`, `${BARS.retiredVerificationSystem}|number-present-and-verified`]);

/**
 * A person is matched on an NHS number only when it passes Modulus 11 and, where the sender says
 * how it was verified, it was verified: matching on a number that was not traced could merge two
 * people's records. Such a number is kept on the new Patient, and the answer says it was not used.
 */
export function isMatchableNhsNumber(id: Identifier): boolean {
  if (!id.value || !isValidNhsNumber(id.value)) return false;
  const statuses = (id.extension ?? []).filter((x) => x.url === BARS.nhsNumberVerification).flatMap((x) => x.valueCodeableConcept?.coding ?? []);
  return statuses.length === 0 || statuses.some((c) => VERIFIED.has(`${c.system}|${c.code}`));
}

export interface StoreOptions {
  /** Entries (by index) that update an existing resource with this id. */
  updates?: Map<number, { id: string; ifMatch?: number }>;
  /** Whether earlier references of the same sender are updated rather than created again. */
  followReferences: boolean;
}

/** A national identifier that a message creates a resource for (see migration 004). */
export interface IdentityClaim {
  type: string;
  system: string;
  value: string;
  id: string;
}

/** What storing a message will do, worked out by reading only: nothing is written yet. */
export interface ContentPlan {
  /** Every entry but the MessageHeader, in message order, with the id it gets or matched. */
  entries: StoredEntry[];
  /** New resources, references rewritten, sender's meta dropped, each with its new id. */
  creates: { resource: Resource; id: string }[];
  /** Existing resources the message updates (an update message, or a reference followed). */
  updates: { resource: Resource; entry: MessageEntry; ifMatch?: number }[];
  /** Resources matched on a national identifier, as stored: `Type/id` → resource. */
  matched: Map<string, Resource>;
  claims: IdentityClaim[];
  /** The sender's fullUrls, the ids they now stand for and the sender's meta.lastUpdated (table message_reference). */
  references: { reference: string; type: string; id: string; senderLastUpdated?: string }[];
}

/**
 * Another message claimed one of this message's new identities first, or a claim is stale: plan
 * and write again, after `releaseClaims(stale)` (outside any transaction, so the release holds).
 */
export class IdentityRace extends Error {
  constructor(readonly stale: IdentityClaim[] = []) {
    super('a national identifier was claimed by a concurrent message, or its claim is stale');
  }
}

/** Removes claims whose resource no longer carries the identifier (each only if still claimed for that id). */
export async function releaseClaims(q: Queryable, stale: IdentityClaim[]): Promise<void> {
  if (stale.length === 0) return;
  await q.query(
    'DELETE FROM identity_claim c USING unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS s(type, system, value, id) WHERE (c.type, c.system, c.value, c.id) = (s.type, s.system, s.value, s.id)',
    [stale.map((s) => s.type), stale.map((s) => s.system), stale.map((s) => s.value), stale.map((s) => s.id)],
  );
}

/** Whether a write failed because a concurrent message claimed the same identity first. */
export function isIdentityRace(err: unknown): boolean {
  return err instanceof IdentityRace || isUniqueViolation(err, 'identity_claim_pkey');
}

/**
 * Works out how everything a message carries except its MessageHeader is stored: matched
 * resources keep their id (one query over the identifier index), the rest get ids generated
 * here, and every reference between entries is rewritten to those ids. Reads only, so the writes
 * can go into one statement; two messages creating the same person at once are kept apart by
 * the identity claims written with them (`isIdentityRace`).
 */
export async function planMessageContent(q: Queryable, message: Message, opts: StoreOptions): Promise<ContentPlan> {
  const entries = message.entries.filter((e) => e.index !== 0);
  const plan = new Map<number, StoredEntry>();
  for (const [index, u] of opts.updates ?? []) {
    const entry = entries.find((e) => e.index === index)!;
    plan.set(index, { entry, type: entry.resource.resourceType, id: u.id, action: 'updated' });
  }

  if (opts.followReferences) {
    const refs = entries.filter((e) => e.fullUrl).map((e) => e.fullUrl!);
    if (refs.length) {
      const rows = await q.query<{ reference: string; type: string; id: string; sender_last_updated: string | null }>(
        'SELECT reference, type, id, sender_last_updated FROM message_reference WHERE source = $1 AND reference = ANY($2::text[])',
        [message.source, refs],
      );
      for (const row of rows) {
        const entry = entries.find((e) => e.fullUrl === row.reference && e.resource.resourceType === row.type);
        if (!entry) continue;
        refuseIfStale(entry, row.sender_last_updated);
        if (!plan.has(entry.index) && !MATCH_SYSTEMS[row.type]) plan.set(entry.index, { entry, type: row.type, id: row.id, action: 'updated' });
      }
    }
  }

  const identities = entries
    .filter((e) => !plan.has(e.index))
    .map((e) => ({ e, id: matchIdentifier(e.resource) }))
    .filter((x): x is { e: MessageEntry; id: Identifier } => x.id !== undefined)
    .map((x) => ({ ...x, key: `${x.e.resource.resourceType}|${x.id.system}|${x.id.value}` }))
    // claims are inserted in key order, so concurrent messages never wait on each other in a cycle
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const known = await lookUpIdentities(q, identities.map(({ e, id }) => ({ type: e.resource.resourceType, system: id.system!, value: id.value! })));
  const stale = [...known.values()].filter((k) => !k.current && k.claimedBy);
  // the resource these identities were claimed for no longer carries them: release, then plan again
  if (stale.length) throw new IdentityRace(stale.map((s) => ({ type: s.type, system: s.system, value: s.value, id: s.claimedBy! })));

  const matched = new Map<string, Resource>();
  const claims = new Map<string, IdentityClaim>();
  const idByKey = new Map<string, string>();
  for (const { e, id, key } of identities) {
    const current = known.get(key)?.current;
    if (current) {
      matched.set(`${current.resourceType}/${current.id}`, current);
      plan.set(e.index, { entry: e, type: e.resource.resourceType, id: current.id!, action: 'matched', matchedOn: `${id.system}|${id.value}` });
    } else if (idByKey.has(key)) {
      // the same new person twice in one message: one resource, the first entry stands
      plan.set(e.index, { entry: e, type: e.resource.resourceType, id: idByKey.get(key)!, action: 'created' });
    } else {
      const fresh = randomUUID();
      idByKey.set(key, fresh);
      claims.set(key, { type: e.resource.resourceType, system: id.system!, value: id.value!, id: fresh });
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
  const creates: ContentPlan['creates'] = [];
  const updates: ContentPlan['updates'] = [];
  for (const s of plan.values()) {
    const key = `${s.type}/${s.id}`;
    if (s.action === 'matched' || written.has(key)) continue; // a match keeps what is stored
    written.add(key);
    const resource = withReferences(s.entry.resource, rewrite) as Resource;
    if (s.action === 'created') creates.push({ resource: { ...resource, id: undefined, meta: cleanMeta(resource.meta) } as Resource, id: s.id });
    else updates.push({ resource: { ...resource, id: s.id, meta: cleanMeta(resource.meta) } as Resource, entry: s.entry, ifMatch: opts.updates?.get(s.entry.index)?.ifMatch });
  }
  const stored = [...plan.values()].sort((a, b) => a.entry.index - b.entry.index);
  return {
    entries: stored,
    creates,
    updates,
    matched,
    claims: [...claims.values()],
    references: stored.filter((s) => s.entry.fullUrl).map((s) => ({ reference: s.entry.fullUrl!, type: s.type, id: s.id, senderLastUpdated: validInstant(s.entry.resource.meta?.lastUpdated) })),
  };
}

/**
 * An update that carries a resource older (by the sender's own meta.lastUpdated) than the version
 * the same sender sent before would overwrite newer information: it is refused as stale.
 */
function refuseIfStale(entry: MessageEntry, previous: string | Date | null): void {
  const sent = validInstant(entry.resource.meta?.lastUpdated);
  if (!sent || previous === null) return;
  const before = new Date(previous);
  if (new Date(sent).getTime() < before.getTime()) {
    throw refuse('staleUpdate', {
      expression: `${entry.path}.meta.lastUpdated`,
      message: `${entry.resource.resourceType} ${entry.fullUrl} was last sent as of ${before.toISOString()}; this update carries an older version (${sent}): send the current one`,
    });
  }
}

/** A FHIR instant (R4 lexical rule) that is also a real date, so PostgreSQL can store it; else undefined. */
function validInstant(value: string | undefined): string | undefined {
  return value && primitiveRegexes.instant.test(value) && !Number.isNaN(Date.parse(value)) ? value : undefined;
}

/**
 * Adds the plan's writes to a batch statement, each gated on `when`: the new resources (and
 * `alsoCreate`, in the same insert), the identity claims and the sender's references. A plan with
 * updates is written by `writePlan`.
 */
export function addPlanToBatch(batch: WriteBatch, store: ResourceStore, plan: ContentPlan, source: string, when: string, alsoCreate: { resource: Resource; id: string }[] = []): Resource[] {
  if (plan.updates.length) throw new Error('a plan with updates is written in a transaction (writePlan)');
  const created = store.addCreates(batch, [...plan.creates, ...alsoCreate], { when });
  if (plan.claims.length) {
    batch.with(
      batch.fresh('claims'),
      (p) =>
        `INSERT INTO identity_claim (type, system, value, id) SELECT * FROM unnest(${p.add(plan.claims.map((c) => c.type), 'text[]')}, ${p.add(plan.claims.map((c) => c.system), 'text[]')}, ${p.add(plan.claims.map((c) => c.value), 'text[]')}, ${p.add(plan.claims.map((c) => c.id), 'text[]')}) WHERE ${when}`,
    );
  }
  if (plan.references.length) {
    const refs = plan.references;
    batch.with(
      batch.fresh('refs'),
      (p) =>
        `INSERT INTO message_reference (source, reference, type, id, sender_last_updated) SELECT ${p.add(source)}, r, t, i, u::timestamptz FROM unnest(${p.add(refs.map((r) => r.reference), 'text[]')}, ${p.add(refs.map((r) => r.type), 'text[]')}, ${p.add(refs.map((r) => r.id), 'text[]')}, ${p.add(refs.map((r) => r.senderLastUpdated ?? null), 'text[]')}) AS x(r, t, i, u) WHERE ${when}
         ON CONFLICT (source, reference) DO UPDATE SET type = EXCLUDED.type, id = EXCLUDED.id, sender_last_updated = EXCLUDED.sender_last_updated`,
    );
  }
  return created;
}

/** Writes a plan inside the caller's transaction: updates (with their If-Match), then everything else in one statement. */
export async function writePlan(store: ResourceStore, tx: Queryable, plan: ContentPlan, source: string, policies?: readonly WritePolicy[]): Promise<void> {
  for (const u of plan.updates) {
    try {
      await writeWithPolicies(store, u.resource, false, (s, r) => s.update(r, { ifMatch: u.ifMatch }), policies);
    } catch (err) {
      if (err instanceof FhirError && err.code === FhirErrorCode.PRECONDITION_FAILED) {
        throw refuse('staleUpdate', {
          expression: `${u.entry.path}.meta.versionId`,
          message: `${u.resource.resourceType}/${u.resource.id} has changed since version ${u.ifMatch}: read it again and send the update based on its current version`,
        });
      }
      throw err;
    }
  }
  const batch = new WriteBatch();
  const creates = plan.creates.map((c) => ({ ...c, resource: checkNewResource(store, { ...c.resource, id: c.id }, policies) }));
  addPlanToBatch(batch, store, { ...plan, creates, updates: [] }, source, 'true');
  await batch.run(tx);
  await runAfterPolicies(store, creates.map((c) => c.resource), policies);
}

interface KnownIdentity {
  type: string;
  system: string;
  value: string;
  /** The current resource carrying the identifier, as stored. */
  current?: Resource;
  /** The id the identity is claimed for, when a message claimed it. */
  claimedBy?: string;
}

/**
 * Current resources and claims by national identifier, keyed `Type|system|value`: one query over
 * the index the `identifier` search parameter fills (sp_token) and the claims, seen in one snapshot.
 */
async function lookUpIdentities(q: Queryable, wanted: { type: string; system: string; value: string }[]): Promise<Map<string, KnownIdentity>> {
  const found = new Map<string, KnownIdentity>();
  if (wanted.length === 0) return found;
  const rows = await q.query<{ type: string; system: string; value: string; content: string | null; claimed_by: string | null }>(
    `SELECT w.type, w.system, w.value, cur.content, c.id AS claimed_by
       FROM unnest($1::text[], $2::text[], $3::text[]) AS w(type, system, value)
       LEFT JOIN LATERAL (
         SELECT r.content FROM sp_token t JOIN resource r ON r.rid = t.rid AND NOT r.deleted
          WHERE t.type = w.type AND t.param = 'identifier' AND t.code = w.value AND t.system = w.system
          ORDER BY r.rid LIMIT 1) cur ON true
       LEFT JOIN identity_claim c ON c.type = w.type AND c.system = w.system AND c.value = w.value`,
    [wanted.map((w) => w.type), wanted.map((w) => w.system), wanted.map((w) => w.value)],
    { prepare: true },
  );
  for (const row of rows) {
    found.set(`${row.type}|${row.system}|${row.value}`, {
      type: row.type,
      system: row.system,
      value: row.value,
      current: row.content ? parseStored(row.content) : undefined,
      claimedBy: row.claimed_by ?? undefined,
    });
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
