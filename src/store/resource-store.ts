import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import type { Clock } from '../clock.js';
import { FhirError, FhirErrorCode } from '../errors.js';
import { extractIndexRows } from '../fhir/search/extract.js';
import type { SearchQuery } from '../fhir/search/query.js';
import { isUniqueViolation, type Database, type Queryable } from './database.js';
import { compartmentKeys } from './compartment-keys.js';
import { indexDeleteCtes, indexInsertCtes } from './index-writer.js';
import { runHistory, type HistoryOptions, type HistoryPage } from './history.js';
import { runSearch, type SearchPage } from './search.js';
import { formatFhirJson, parseStored } from './stored-json.js';
import { WriteBatch } from './write-batch.js';
import { addAuditInserts, readAuditEvent, searchAuditEvents } from './audit-log.js';
import type { Compartment } from './compartment.js';
import { compartmentOf } from '../security/compartments.js';
import type { Principal } from '../security/principal.js';
import { SqlParams } from './sql.js';

export type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface StoredVersion {
  type: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
  deleted: boolean;
  /** Absent for a deletion. */
  resource?: Resource;
}

export interface WriteResult {
  resource: Resource;
  /** true when this write created the resource (201), false for an update or an existing match. */
  created: boolean;
  /** false when a conditional create found a match, or an update changed nothing. */
  changed: boolean;
}

/**
 * A record of a write (its AuditEvent), made from the version as stored and created in the same
 * statement as the write itself, so the write and its record commit or fail together.
 */
export type WriteRecord = (stored: Resource, created: boolean) => Resource;

export interface UpdateOptions {
  ifMatch?: number;
  method?: WriteMethod;
  record?: WriteRecord;
}

export interface DeleteResult {
  deleted: boolean;
  versionId?: number;
}

interface CurrentRow {
  rid: string;
  version_id: number;
  last_updated: Date | string;
  deleted: boolean;
  content: string | null;
}

const MAX_WRITE_ATTEMPTS = 5;

/**
 * The FHIR resource store: versioned resources with their search index, over any `Database`.
 * Every rule of writing (versions, If-Match, conditional operations, history) is here, once, above
 * the PGlite and PostgreSQL adapters. Methods called on the store returned by `transaction()` run
 * inside that one database transaction.
 */
export class ResourceStore {
  constructor(
    private readonly db: Database,
    /** The time source of lastUpdated and of every due time computed around a write. */
    readonly clock: Clock,
    private readonly q: Queryable = db,
    private readonly inTransaction = false,
    /**
     * What this store may read and write (store/compartment.ts), added to every query's SQL;
     * undefined: everything, with no SQL added.
     */
    readonly compartment?: Compartment,
  ) {}

  /**
   * The store of one request: every read confined to the principal's compartment (404 outside
   * it), every write refused outside it (403). See src/security/README.md, "Compartments".
   */
  for(principal: Principal): ResourceStore {
    const compartment = compartmentOf(principal);
    // one who sees everything gets this very store: nothing added, not even an object
    return compartment ? new ResourceStore(this.db, this.clock, this.q, this.inTransaction, compartment) : this;
  }

  /**
   * The same connection (and transaction) without a compartment: for what the server does on its
   * own account once a write is allowed (the pathway's policies, the scheduler, messaging's
   * identity look-ups), never for answering a request.
   */
  get unrestricted(): ResourceStore {
    return this.compartment ? new ResourceStore(this.db, this.clock, this.q, this.inTransaction) : this;
  }

  get database(): Database {
    return this.db;
  }

  /**
   * The connection this store's statements run on (its transaction's, when bound): for tables
   * kept beside the resources and written in the same transaction, such as the pathway's jobs.
   */
  get queryable(): Queryable {
    return this.q;
  }

  /**
   * Runs `fn` with a store bound to one transaction: all or nothing. Nested calls join the
   * outer transaction. A race on a new resource id (two update-as-creates) re-runs `fn`.
   */
  async transaction<T>(fn: (store: ResourceStore) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction((tx) => fn(new ResourceStore(this.db, this.clock, tx, true, this.compartment)));
      } catch (err) {
        if (attempt < MAX_WRITE_ATTEMPTS && isUniqueViolation(err, 'resource_type_id')) continue;
        throw err;
      }
    }
  }

  /** Advisory lock held until the transaction ends; serializes writers on the same key. */
  async lock(key: string): Promise<void> {
    if (!this.inTransaction) throw new Error('lock() needs a transaction');
    await this.q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
  }

  async read(type: string, id: string): Promise<Resource> {
    if (type === 'AuditEvent') {
      const found = await readAuditEvent(this.q, id, this.compartment);
      if (!found) throw new FhirError(FhirErrorCode.NOT_FOUND, `AuditEvent/${id} is not known`);
      return found;
    }
    const p = new SqlParams();
    const where = `a.type = ${p.add(type)} AND a.id = ${p.add(id)}${this.visibleAnd('a', p, type)}`;
    const rows = await this.q.query<CurrentRow>(`SELECT a.rid::text AS rid, a.version_id, a.last_updated, a.deleted, a.content FROM resource a WHERE ${where}`, p.values, { prepare: true });
    const row = rows[0];
    if (!row) throw new FhirError(FhirErrorCode.NOT_FOUND, `${type}/${id} is not known`);
    if (row.deleted) throw new FhirError(FhirErrorCode.GONE, `${type}/${id} was deleted (version ${row.version_id})`);
    return parseStored(row.content!);
  }

  /**
   * The current version with its row locked until the transaction ends (SELECT … FOR UPDATE), for
   * a read-decide-write such as a Task operation: concurrent ones on the same resource take turns.
   */
  async readForUpdate(type: string, id: string): Promise<Resource> {
    if (!this.inTransaction) throw new Error('readForUpdate() needs a transaction');
    const row = await this.lockCurrent(type, id);
    if (!row) throw new FhirError(FhirErrorCode.NOT_FOUND, `${type}/${id} is not known`);
    await this.requireWritable(row, type, id);
    if (row.deleted) throw new FhirError(FhirErrorCode.GONE, `${type}/${id} was deleted (version ${row.version_id})`);
    return parseStored(row.content!);
  }

  async readOrUndefined(type: string, id: string): Promise<Resource | undefined> {
    if (type === 'AuditEvent') return readAuditEvent(this.q, id, this.compartment);
    const p = new SqlParams();
    const rows = await this.q.query<CurrentRow>(`SELECT a.content FROM resource a WHERE a.type = ${p.add(type)} AND a.id = ${p.add(id)} AND NOT a.deleted${this.visibleAnd('a', p, type)}`, p.values);
    return rows[0] ? parseStored(rows[0].content!) : undefined;
  }

  /**
   * For each resource, whether the store holds it exactly as given (its current version, written
   * from the same JSON), read in one query. false means it may differ: `update` then decides.
   */
  async holdsUnchanged(resources: Resource[]): Promise<boolean[]> {
    if (resources.length === 0) return [];
    const p = new SqlParams();
    const types = p.add(resources.map((r) => r.resourceType), 'text[]');
    const ids = p.add(resources.map((r) => r.id ?? ''), 'text[]');
    const rows = await this.q.query<{ type: string; id: string; version_id: number; last_updated: Date | string; content: string }>(
      `SELECT r.type, r.id, r.version_id, r.last_updated, r.content FROM unnest(${types}, ${ids}) AS k(type, id)
         JOIN resource r ON r.type = k.type AND r.id = k.id AND NOT r.deleted${this.visibleAnd('r', p)}`,
      p.values,
    );
    const current = new Map(rows.map((row) => [`${row.type}/${row.id}`, row]));
    return resources.map((r) => {
      const row = current.get(`${r.resourceType}/${r.id}`);
      return !!row && formatFhirJson(withMeta(r, r.id!, row.version_id, new Date(row.last_updated))) === row.content;
    });
  }

  /**
   * Current resources of each `[type, param]` whose reference search parameter `param` refers to
   * `target` (`Type/id`): a reverse include of several kinds at once, in one query.
   */
  async readReferring(target: string, sources: [type: string, param: string][]): Promise<Resource[]> {
    const [targetType, targetId] = target.split('/');
    const p = new SqlParams();
    const types = p.add(sources.map((s) => s[0]), 'text[]');
    const params = p.add(sources.map((s) => s[1]), 'text[]');
    const rows = await this.q.query<{ content: string }>(
      `SELECT s.content FROM unnest(${types}, ${params}) AS w(type, param)
         JOIN sp_reference ref ON ref.type = w.type AND ref.param = w.param AND ref.target_id = ${p.add(targetId)} AND ref.target_type = ${p.add(targetType)}
         JOIN resource s ON s.rid = ref.rid AND NOT s.deleted${this.visibleAnd('s', p)}
        GROUP BY s.rid, s.content ORDER BY s.rid LIMIT 1000`,
      p.values,
      { prepare: true },
    );
    return rows.map((r) => parseStored(r.content));
  }

  async vread(type: string, id: string, versionId: string): Promise<Resource> {
    // an AuditEvent has one version, ever
    if (type === 'AuditEvent') {
      const found = versionId === '1' ? await readAuditEvent(this.q, id, this.compartment) : undefined;
      if (!found) throw new FhirError(FhirErrorCode.NOT_FOUND, `AuditEvent/${id} has no version ${versionId}`);
      return found;
    }
    const vid = /^\d{1,9}$/.test(versionId) ? Number(versionId) : NaN;
    const p = new SqlParams();
    // a version is seen as the resource is now: the current row decides (history.ts says why)
    const confined = this.compartment ? ` AND EXISTS (SELECT 1 FROM resource a WHERE a.rid = v.rid${this.visibleAnd('a', p, type)})` : '';
    const rows = Number.isNaN(vid)
      ? []
      : await this.q.query<CurrentRow>(
          `SELECT v.deleted, v.content, v.version_id FROM resource_version v WHERE v.type = ${p.add(type)} AND v.id = ${p.add(id)} AND v.version_id = ${p.add(vid)}${confined}`,
          p.values,
        );
    const row = rows[0];
    if (!row) throw new FhirError(FhirErrorCode.NOT_FOUND, `${type}/${id} has no version ${versionId}`);
    if (row.deleted) throw new FhirError(FhirErrorCode.GONE, `Version ${versionId} of ${type}/${id} is a deletion`);
    return parseStored(row.content!);
  }

  /** Appends an AuditEvent to the audit trail (it is never changed or deleted). */
  async appendAuditEvent(event: Resource): Promise<Resource> {
    const batch = new WriteBatch();
    const [kept] = addAuditInserts(batch, [event]);
    await batch.run(this.q);
    return kept;
  }

  /** Creates a resource with a server-assigned id (http://hl7.org/fhir/R4/http.html#create). */
  async create<T extends Resource>(resource: T, method: WriteMethod = 'POST', id: string = randomUUID(), record?: WriteRecord): Promise<T & { id: string }> {
    await this.requireWithin(resource, id);
    const batch = new WriteBatch();
    const [stored] = this.addCreates(batch, [{ resource, id }], { method });
    if (record) addAuditInserts(batch, [record(stored, true)]);
    try {
      await batch.run(this.q);
    } catch (err) {
      if (isUniqueViolation(err, 'resource_type_id') && method === 'POST') {
        throw new FhirError(FhirErrorCode.CONFLICT, `${stored.resourceType}/${id} already exists`);
      }
      throw err;
    }
    return stored as T & { id: string };
  }

  /**
   * Creates several resources, each with its given id, in one statement whatever their number:
   * the resources, their first versions and all their index rows (see `addCreates`).
   */
  async createMany(items: { resource: Resource; id: string }[], method: WriteMethod = 'POST'): Promise<Resource[]> {
    for (const item of items) await this.requireWithin(item.resource, item.id);
    const batch = new WriteBatch();
    const stored = this.addCreates(batch, items, { method });
    try {
      await batch.run(this.q);
    } catch (err) {
      if (isUniqueViolation(err, 'resource_type_id')) throw new FhirError(FhirErrorCode.CONFLICT, 'One of the resources to create already exists');
      throw err;
    }
    return stored;
  }

  /**
   * Adds the creation of `items` (each with its given id, version 1) to a batch statement: their
   * rids are drawn from the sequence inside the statement, then the resources, their versions and
   * their index rows are inserted. With `when` (a SQL condition over earlier CTEs of the batch),
   * nothing is written unless it holds. Returns the resources as they will be stored.
   */
  addCreates(batch: WriteBatch, items: { resource: Resource; id: string }[], opts: { method?: WriteMethod; when?: string } = {}): Resource[] {
    // an AuditEvent, however it comes (a message may carry one), joins the audit trail
    if (items.some((i) => i.resource.resourceType === 'AuditEvent')) {
      const audits = items.filter((i) => i.resource.resourceType === 'AuditEvent');
      const kept = new Map(addAuditInserts(batch, audits.map((i) => ({ ...i.resource, id: i.id })), opts.when, true).map((a) => [a.id, a]));
      const others = this.addCreates(batch, items.filter((i) => i.resource.resourceType !== 'AuditEvent'), opts);
      return items.map((i) => kept.get(i.id) ?? others.shift()!);
    }
    if (items.length === 0) return [];
    const now = this.clock.now();
    const stored = items.map((i) => withMeta(i.resource, i.id, 1, now));
    const n = batch.fresh('new');
    const p = batch.params;
    const at = p.add(now.toISOString(), 'timestamptz');
    const method = p.add(opts.method ?? 'POST');
    const indexed = stored.map((r, ord) => ({ ord, type: r.resourceType, id: r.id!, lastUpdated: r.meta!.lastUpdated!, rows: extractIndexRows(r) }));
    const rows = [
      p.add(stored.map((_, i) => i), 'int[]'),
      p.add(stored.map((r) => r.resourceType), 'text[]'),
      p.add(stored.map((r) => r.id), 'text[]'),
      p.add(stored.map((r) => formatFhirJson(r)), 'text[]'),
      // unnest would flatten a text[][], so each resource's keys travel as one JSON array
      p.add(indexed.map((x, i) => JSON.stringify(compartmentKeys(x.type, stored[i].id!, x.rows))), 'text[]'),
    ];
    const gate = opts.when ? ` WHERE ${opts.when}` : '';
    batch.with(n, () => `SELECT u.ord, nextval(pg_get_serial_sequence('resource', 'rid')) AS rid, u.type, u.id, u.content, u.keys FROM unnest(${rows.join(', ')}) AS u(ord, type, id, content, keys)${gate}`);
    batch.with(
      `${n}_r`,
      () => `INSERT INTO resource (rid, type, id, version_id, last_updated, content, compartments) OVERRIDING SYSTEM VALUE
        SELECT rid, type, id, 1, ${at}, content, ARRAY(SELECT json_array_elements_text(keys::json)) FROM ${n}`,
    );
    batch.with(`${n}_v`, () => `INSERT INTO resource_version (rid, version_id, type, id, last_updated, method, content) SELECT rid, 1, type, id, ${at}, ${method}, content FROM ${n}`);
    for (const [kind, sql] of indexInsertCtes(indexed, n, p)) batch.with(`${n}_${kind}`, () => sql);
    return stored;
  }

  /**
   * Update, or create with the client's id when none exists (http://hl7.org/fhir/R4/http.html#upsert).
   * The current row is locked first, so concurrent updates queue and every one gets its own version.
   */
  async update<T extends Resource>(resource: T, opts: UpdateOptions = {}): Promise<WriteResult & { resource: T }> {
    return this.transaction(async (store) => store.updateLocked(resource, opts));
  }

  private async updateLocked<T extends Resource>(resource: T, opts: UpdateOptions): Promise<WriteResult & { resource: T }> {
    const type = resource.resourceType;
    const id = resource.id!;
    const current = await this.lockCurrent(type, id);
    if (!current) {
      if (opts.ifMatch !== undefined) throw new FhirError(FhirErrorCode.PRECONDITION_FAILED, `If-Match W/"${opts.ifMatch}" given, but ${type}/${id} does not exist`);
      return { resource: await this.create(resource, 'PUT', id, opts.record), created: true, changed: true };
    }
    await this.requireWritable(current, type, id);
    if (opts.ifMatch !== undefined && opts.ifMatch !== current.version_id) {
      throw new FhirError(FhirErrorCode.PRECONDITION_FAILED, `Version conflict: If-Match W/"${opts.ifMatch}" but ${type}/${id} is at version ${current.version_id}`);
    }
    if (!current.deleted && current.content && sameContent(parseStored(current.content), resource)) {
      // an update that changes nothing makes no new version (as HAPI and Medplum do)
      return { resource: parseStored(current.content) as T, created: false, changed: false };
    }
    await this.requireWithin(resource, id);
    const versionId = current.version_id + 1;
    const stored = withMeta(resource, id, versionId, this.nextTimestamp(current.last_updated));
    await this.writeVersion(current.rid, stored, opts.method ?? 'PUT', opts.record?.(stored, current.deleted));
    return { resource: stored, created: current.deleted, changed: true };
  }

  /** Deletes a resource: a new version marked deleted; reads then answer 410 (R4 http.html#delete). */
  async delete(type: string, id: string, opts: { ifMatch?: number; record?: (versionId: number) => Resource } = {}): Promise<DeleteResult> {
    return this.transaction(async (store) => {
      const current = await store.lockCurrent(type, id);
      if (current) await store.requireWritable(current, type, id);
      if (opts.ifMatch !== undefined && opts.ifMatch !== current?.version_id) {
        throw new FhirError(FhirErrorCode.PRECONDITION_FAILED, `Version conflict: If-Match W/"${opts.ifMatch}" but ${type}/${id} is ${current ? `at version ${current.version_id}` : 'unknown'}`);
      }
      if (!current || current.deleted) return { deleted: false };
      const versionId = current.version_id + 1;
      const at = store.nextTimestamp(current.last_updated);
      const batch = new WriteBatch();
      const p = batch.params;
      const rid = p.add(current.rid, 'bigint');
      const atp = p.add(at.toISOString(), 'timestamptz');
      const vp = p.add(versionId);
      batch.with('u', () => `UPDATE resource SET version_id = ${vp}, last_updated = ${atp}, deleted = true, content = NULL WHERE rid = ${rid}`);
      batch.with('v', () => `INSERT INTO resource_version (rid, version_id, type, id, last_updated, deleted, method) VALUES (${rid}, ${vp}, ${p.add(type)}, ${p.add(id)}, ${atp}, true, 'DELETE')`);
      for (const [name, sql] of indexDeleteCtes(rid)) batch.with(name, () => sql);
      if (opts.record) addAuditInserts(batch, [opts.record(versionId)]);
      await batch.run(store.q);
      return { deleted: true, versionId };
    });
  }

  /**
   * Conditional create (If-None-Exist, http://hl7.org/fhir/R4/http.html#ccreate): no match creates,
   * one match returns it unchanged, several is 412. Writers with the same criteria take turns under
   * an advisory lock, so concurrent identical requests create exactly one resource.
   */
  async conditionalCreate<T extends Resource>(resource: T, criteria: SearchQuery, criteriaText: string, record?: WriteRecord): Promise<WriteResult & { resource: T }> {
    return this.transaction(async (store) => {
      await store.lock(`conditional:${criteria.resourceType}?${criteriaText}`);
      const found = await store.matches(criteria);
      if (found.length > 1) throw new FhirError(FhirErrorCode.PRECONDITION_FAILED, `If-None-Exist '${criteriaText}' matched ${found.length} resources`);
      if (found.length === 1) return { resource: found[0] as T, created: false, changed: false };
      return { resource: await store.create(resource, 'POST', randomUUID(), record), created: true, changed: true };
    });
  }

  /** Conditional update (R4 http.html#cond-update): the criteria pick the resource to update. */
  async conditionalUpdate<T extends Resource>(resource: T, criteria: SearchQuery, criteriaText: string, opts: UpdateOptions = {}): Promise<WriteResult & { resource: T }> {
    return this.transaction(async (store) => {
      await store.lock(`conditional:${criteria.resourceType}?${criteriaText}`);
      const found = await store.matches(criteria);
      if (found.length > 1) throw new FhirError(FhirErrorCode.PRECONDITION_FAILED, `Conditional update '${criteriaText}' matched ${found.length} resources`);
      if (found.length === 1) {
        const id = found[0].id!;
        if (resource.id && resource.id !== id) {
          throw new FhirError(FhirErrorCode.INVALID, { message: `Resource id ${resource.id} differs from the id ${id} of the resource the criteria matched`, expression: `${resource.resourceType}.id` });
        }
        return store.updateLocked({ ...resource, id }, opts);
      }
      if (resource.id) return store.updateLocked(resource, opts);
      return { resource: await store.create(resource, 'POST', randomUUID(), opts.record), created: true, changed: true };
    });
  }

  /** Conditional delete of a single match (R4 http.html#cdelete); several matches is 412. */
  async conditionalDelete(criteria: SearchQuery, criteriaText: string): Promise<DeleteResult> {
    return this.transaction(async (store) => {
      await store.lock(`conditional:${criteria.resourceType}?${criteriaText}`);
      const found = await store.matches(criteria);
      if (found.length > 1) throw new FhirError(FhirErrorCode.PRECONDITION_FAILED, `Conditional delete '${criteriaText}' matched ${found.length} resources`);
      if (found.length === 0) return { deleted: false };
      return store.delete(criteria.resourceType, found[0].id!);
    });
  }

  /** Up to two resources matching the criteria: enough to tell none, one and several apart. */
  async matches(criteria: SearchQuery): Promise<Resource[]> {
    const page = await this.search({ ...criteria, count: 2, total: 'none', sort: [], include: [], revinclude: [], cursor: undefined, summary: undefined });
    return page.matches;
  }

  async search(query: SearchQuery): Promise<SearchPage> {
    if (query.resourceType === 'AuditEvent') return searchAuditEvents(this.q, query, this.compartment);
    return runSearch(this.q, query, this.compartment);
  }

  async history(opts: HistoryOptions): Promise<HistoryPage> {
    return runHistory(this.q, opts, this.compartment);
  }

  private async lockCurrent(type: string, id: string): Promise<CurrentRow | undefined> {
    const rows = await this.q.query<CurrentRow>(
      'SELECT rid::text AS rid, version_id, last_updated, deleted, content FROM resource WHERE type = $1 AND id = $2 FOR UPDATE',
      [type, id],
      { prepare: true },
    );
    return rows[0];
  }

  /** ` AND <visible>` for the row `a`, or nothing when this store sees everything. */
  private visibleAnd(a: string, p: SqlParams, type?: string): string {
    return this.compartment ? ` AND ${this.compartment.visible(a, p, type)}` : '';
  }

  /**
   * A write to an existing resource outside the compartment is 403 (issue 13: "A denied write is
   * 403"): its current version, deleted or not, must be visible.
   */
  private async requireWritable(current: CurrentRow, type: string, id: string): Promise<void> {
    if (!this.compartment) return;
    const p = new SqlParams();
    const rows = await this.q.query<{ ok: boolean }>(`SELECT ${this.compartment.visible('a', p, type)} AS ok FROM resource a WHERE a.rid = ${p.add(current.rid, 'bigint')}`, p.values);
    if (!rows[0]?.ok) throw outsideCompartment(type, id);
  }

  /** The version about to be written must stay within the compartment (compartment.ts, `writable`): else 403. */
  private async requireWithin(resource: Resource, id: string): Promise<void> {
    if (!this.compartment) return;
    const p = new SqlParams();
    const keys = compartmentKeys(resource.resourceType, id, extractIndexRows(resource));
    const rows = await this.q.query<{ ok: boolean }>(this.compartment.writable(p, resource.resourceType, keys), p.values);
    if (!rows[0]?.ok) throw outsideCompartment(resource.resourceType, id);
  }

  /** lastUpdated never goes backwards within one resource's history, whatever the clock says. */
  private nextTimestamp(previous: Date | string): Date {
    const now = this.clock.now();
    const prev = new Date(previous).getTime();
    return now.getTime() > prev ? now : new Date(prev + 1);
  }

  /** A resource's next version and its index rows in one statement, with `record` (its AuditEvent) created alongside. */
  private async writeVersion(rid: string, stored: Resource, method: WriteMethod, record?: Resource): Promise<void> {
    const batch = new WriteBatch();
    const p = batch.params;
    const ridp = p.add(rid, 'bigint');
    const vp = p.add(Number(stored.meta!.versionId));
    const at = p.add(stored.meta!.lastUpdated, 'timestamptz');
    const c = p.add(formatFhirJson(stored));
    const indexed = [{ ord: 0, type: stored.resourceType, id: stored.id!, lastUpdated: stored.meta!.lastUpdated!, rows: extractIndexRows(stored) }];
    const keys = p.add(compartmentKeys(stored.resourceType, stored.id!, indexed[0].rows), 'text[]');
    batch.with('cur', () => `UPDATE resource SET version_id = ${vp}, last_updated = ${at}, deleted = false, content = ${c}, compartments = ${keys} WHERE rid = ${ridp} RETURNING rid, 0 AS ord`);
    batch.with('v', () => `INSERT INTO resource_version (rid, version_id, type, id, last_updated, method, content) VALUES (${ridp}, ${vp}, ${p.add(stored.resourceType)}, ${p.add(stored.id)}, ${at}, ${p.add(method)}, ${c})`);
    for (const [name, sql] of indexDeleteCtes(ridp)) batch.with(name, () => sql);
    for (const [kind, sql] of indexInsertCtes(indexed, 'cur', p)) batch.with(`i_${kind}`, () => sql);
    if (record) addAuditInserts(batch, [record]);
    await batch.run(this.q);
  }
}

function outsideCompartment(type: string, id: string): FhirError {
  return new FhirError(FhirErrorCode.FORBIDDEN, `${type}/${id} is in a compartment (a person's record, or another team's work) this token's teams do not reach`);
}

function withMeta<T extends Resource>(resource: T, id: string, versionId: number, at: Date): T {
  const { resourceType, id: _old, meta: oldMeta, ...rest } = resource;
  const meta = { ...(oldMeta ?? {}), versionId: String(versionId), lastUpdated: at.toISOString() };
  return { resourceType, id, meta, ...rest } as T;
}

/** Whether two versions differ only in meta.versionId / meta.lastUpdated. */
function sameContent(a: Resource, b: Resource): boolean {
  const strip = (r: Resource) => {
    const { versionId: _v, lastUpdated: _l, ...meta } = r.meta ?? {};
    return JSON.stringify(canonical({ ...r, meta: Object.keys(meta).length ? meta : undefined }));
  };
  return strip(a) === strip(b);
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
