import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { ConformanceQueryable, ResourceValidator, ValidateCallOptions } from '../fhir/resource-validator.js';
import { isCoreDefinition, lenient, usabilityIssues, withElementIds } from '../fhir/validation/conformance-check.js';
import type { Validator } from '../fhir/validation/index.js';
import type { Logger } from '../logger.js';
import { parseStored } from '../store/stored-json.js';

/** The conformance resources validation reads from the store and checks for use when stored (issue 15). */
export const CONFORMANCE_TYPES: readonly string[] = ['StructureDefinition', 'ValueSet', 'CodeSystem'];

/**
 * Every type validation reads from the store: the conformance resources, the definitions a
 * QuestionnaireResponse and a MeasureReport are checked against, the Libraries whose
 * definitions a Measure's criteria name, and the ImplementationGuides whose global profiles
 * `$validate` applies (migrations 22, 23 and 24 move the stamp for these too).
 */
export const DEFINITION_TYPES: readonly string[] = [...CONFORMANCE_TYPES, 'Questionnaire', 'Measure', 'Library', 'ImplementationGuide'];

/**
 * Definitions stored as published (storedAnyway): the types validation reads, and the other
 * conformance and knowledge resources of R4 that implementation guides and the HL7 test suite ship
 * beside them (http://hl7.org/fhir/R4/conformance-module.html, knowledge artifacts).
 */
const STORED_AS_PUBLISHED: readonly string[] = [
  ...DEFINITION_TYPES,
  'CapabilityStatement', 'CompartmentDefinition', 'ConceptMap', 'GraphDefinition', 'MessageDefinition', 'NamingSystem', 'OperationDefinition', 'SearchParameter', 'StructureMap', 'TerminologyCapabilities',
  'ActivityDefinition', 'PlanDefinition',
];

/** Resources checked against a stored definition they name (`questionnaire`, `measure`). */
const DEFINED_BY_STORED = ['QuestionnaireResponse', 'MeasureReport'];

/** Where FHIR R4's own definitions and terminology live; only what the built-in base holds there is kept (an IG's profiles under http://hl7.org/fhir/us/… are not in it). */
const R4_NAMESPACES = ['http://hl7.org/fhir/', 'http://terminology.hl7.org/'];

/**
 * Whether anything stored could change whether a resource is valid: what it validates against
 * beyond the R4 base (which stored resources cannot replace) is named by a `meta.profile`, an
 * extension's url, or a Coding's system (a stored complete CodeSystem must define its code,
 * rules.ts), at any depth (contained resources, Bundle entries), or it is itself a conformance
 * resource (checked against what is stored). A resource with none of these has the same errors
 * whatever is stored, so its write skips the stamp check. (Warnings can differ: a stored code
 * system makes its system known to extensible bindings.)
 */
export function mayUseStored(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(mayUseStored);
  const obj = value as Record<string, unknown>;
  if (typeof obj.resourceType === 'string' && (DEFINITION_TYPES.includes(obj.resourceType) || DEFINED_BY_STORED.includes(obj.resourceType))) return true;
  if ('extension' in obj || 'modifierExtension' in obj) return true;
  if (typeof obj.system === 'string' && typeof obj.code === 'string') return true;
  const meta = obj.meta as { profile?: unknown } | undefined;
  if (meta && typeof meta === 'object' && meta.profile !== undefined) return true;
  for (const key in obj) {
    const v = obj[key];
    if (v !== null && typeof v === 'object' && mayUseStored(v)) return true;
  }
  return false;
}

/** What a StructureDefinition cannot be used without: its identity and what it derives from. */
const NEEDED_TO_USE = new Set(['StructureDefinition.url', 'StructureDefinition.type', 'StructureDefinition.kind', 'StructureDefinition.baseDefinition', 'StructureDefinition.derivation']);

/**
 * A definition being stored (STORED_AS_PUBLISHED) is refused only for what stops it being read or used (issue 15:
 * "refuse only what cannot be used"): content that is not FHIR structure, and a StructureDefinition
 * without what it needs (NEEDED_TO_USE; whether it compiles is usabilityIssues'). Other errors —
 * a missing name or status, a binding without strength, an identifier rule — are what published
 * profiles and the HL7 test suite often carry, and what the HL7 validator loads without complaint:
 * they are kept as warnings, so the author still reads them. `$validate` still reports them as errors.
 */
function storedAnyway(issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  return issues.map((i) => {
    if (i.severity !== 'error' || cannotBeRead(i) || NEEDED_TO_USE.has(i.expression?.[0] ?? '')) return i;
    return { ...i, severity: 'warning' as const, diagnostics: `${i.diagnostics ?? i.details?.text ?? ''} (stored anyway: a definition is refused only for what stops it being used)` };
  });
}

/**
 * A structure error that stops content being read: a value of the wrong JSON type, a malformed
 * primitive. An extension used outside its context does not, nor an element R4 does not define
 * (json-walk.ts: "Unknown element"; tools write later versions' elements, such as
 * minValueDuration, which the profile compiler reads and the rest of Stepwise ignores).
 */
function cannotBeRead(issue: OperationOutcomeIssue): boolean {
  if (issue.code !== 'structure') return false;
  if (/(?:^|\.)(?:modifierExtension|extension)\[\d+\]$/.test(issue.expression?.[0] ?? '')) return false;
  return !(issue.diagnostics ?? '').startsWith('Unknown element ');
}

interface Loaded {
  versionId: number;
  resource: Resource;
}

/**
 * The server's validator, kept up to date with the StructureDefinitions, ValueSets and CodeSystems
 * in the store (issue 15): a profile written by any route, on any instance, is used by the next
 * `$validate`, `meta.profile` check and write.
 *
 * How it stays current: every write of one of those types moves `conformance_stamp` in its own
 * transaction (migration 14, a trigger). `prepare` reads that one row; when it differs from the
 * stamp this instance built from, it rebuilds: a fresh validator over the built-in base (R4 and
 * Stepwise's profiles) plus every stored conformance resource, parsing only the rows whose version
 * it has not seen. Compiled profiles and expansions live in the validator, so they are dropped with
 * it: a new version of a profile (or its removal) is never checked against the old one. The stamp
 * is read before the rows, so what is built is never older than the stamp it is filed under.
 *
 * `prepare` runs on the caller's connection: inside a transaction it sees the transaction's own
 * writes (a Bundle that stores a profile and then uses it), and a rollback leaves the stamp at a
 * value this instance has not built, so it rebuilds again.
 */
export class StoredConformance implements ResourceValidator {
  private current: Validator;
  private builtStamp: string | undefined;
  private loaded = new Map<string, Loaded>();
  private building: { stamp: string; done: Promise<void> } | undefined;
  /** Rebuilds started, and the latest one installed: one that started later read later, so an earlier one finishing after it is dropped. */
  private started = 0;
  private installed = 0;

  /** The validator as built, before anything stored was added: what "built in" means. */
  private readonly builtIn: Validator;

  constructor(
    /** The built-in validator every rebuild starts from (a new one each call). */
    private readonly base: () => Validator,
    private readonly logger?: Logger,
  ) {
    this.builtIn = base();
    this.current = this.builtIn;
  }

  /** The validator as last brought up to date. */
  get validator(): Validator {
    return this.current;
  }

  validate(resource: unknown, callOpts: ValidateCallOptions = {}): OperationOutcomeIssue[] {
    // stored guides' global profiles only where asked for ($validate), never by default
    const opts = { ...callOpts, globalProfiles: callOpts.globalProfiles ?? false };
    const r = resource as Resource | null;
    if (r === null || typeof r !== 'object' || !STORED_AS_PUBLISHED.includes(r.resourceType)) return this.current.validate(resource, opts);
    const issues = opts.storing ? storedAnyway(this.current.validate(resource, opts)) : this.current.validate(resource, opts);
    if (!CONFORMANCE_TYPES.includes(r.resourceType)) return issues;
    if (this.replacesR4(r)) {
      const message = `${(r as { url?: string }).url} is part of FHIR R4 itself: it is stored, but validation keeps using the R4 definition Stepwise is built with`;
      return [...lenient(r, issues), { severity: 'warning', code: 'business-rule', diagnostics: message, details: { text: message }, expression: [`${r.resourceType}.url`] }];
    }
    return [...lenient(r, issues), ...usabilityIssues(r, this.current.registry, { unusable: opts.unusableProfile ?? 'error' })];
  }

  /**
   * Whether a resource would replace one of the R4 base (its types and resources, core extensions,
   * the value sets and code systems of its bindings): those stay as built, so a stored copy cannot
   * change what every resource is checked against. Stepwise's own profiles may be stored again.
   */
  private replacesR4(resource: Resource): boolean {
    const url = (resource as { url?: unknown }).url;
    if (typeof url !== 'string' || !R4_NAMESPACES.some((ns) => url.startsWith(ns))) return false;
    const registry = this.builtIn.registry;
    if (resource.resourceType === 'StructureDefinition') return isCoreDefinition(resource) || registry.getStructureDefinition(url) !== undefined;
    if (resource.resourceType === 'ValueSet') return registry.getValueSet(url) !== undefined;
    return registry.getCodeSystem(url) !== undefined;
  }

  async prepare(db: ConformanceQueryable, resource?: unknown): Promise<void> {
    if (resource !== undefined && !mayUseStored(resource)) return;
    const [row] = await db.query<{ stamp: string }>('SELECT stamp::text AS stamp FROM conformance_stamp');
    if (!row || row.stamp === this.builtStamp) return;
    if (this.building?.stamp === row.stamp) return this.building.done;
    const done = this.rebuild(db, row.stamp);
    this.building = { stamp: row.stamp, done };
    try {
      await done;
    } finally {
      if (this.building?.done === done) this.building = undefined;
    }
  }

  private async rebuild(db: ConformanceQueryable, stamp: string): Promise<void> {
    const generation = ++this.started;
    const rows = await db.query<{ rid: string; version_id: number }>(
      'SELECT rid::text AS rid, version_id FROM resource WHERE type = ANY($1) AND NOT deleted ORDER BY last_updated, rid',
      [DEFINITION_TYPES],
    );
    const unseen = rows.filter((r) => this.loaded.get(r.rid)?.versionId !== r.version_id).map((r) => r.rid);
    const fetched = new Map<string, Loaded>();
    if (unseen.length > 0) {
      const contents = await db.query<{ rid: string; version_id: number; content: string }>(
        'SELECT rid::text AS rid, version_id, content FROM resource WHERE rid = ANY($1::bigint[]) AND NOT deleted',
        [unseen],
      );
      for (const c of contents) fetched.set(c.rid, { versionId: c.version_id, resource: parseStored(c.content) });
    }
    const validator = this.base();
    const loaded = new Map<string, Loaded>();
    for (const { rid } of rows) {
      const entry = fetched.get(rid) ?? this.loaded.get(rid);
      if (!entry) continue; // deleted between the two reads: the next stamp says so
      loaded.set(rid, entry);
      this.add(validator, entry.resource);
    }
    if (generation < this.installed) return;
    this.installed = generation;
    this.current = validator;
    this.loaded = loaded;
    this.builtStamp = stamp;
  }

  /** Adds one stored resource; one that cannot be used is left out (it was refused or warned about when stored). */
  private add(validator: Validator, resource: Resource): void {
    if (this.replacesR4(resource)) return;
    try {
      validator.registry.addResource(resource.resourceType === 'StructureDefinition' ? withElementIds(resource) : resource);
    } catch (err) {
      this.logger?.warn({ err, resourceType: resource.resourceType, id: resource.id }, 'a stored conformance resource cannot be used by validation');
    }
  }
}
