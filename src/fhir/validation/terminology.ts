import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';
import { type ConformanceRegistry, unversioned } from './registry.js';

/**
 * Local ValueSet expansion and CodeSystem lookup over the registry, without a terminology server.
 * See http://hl7.org/fhir/R4/valueset.html#compositions for compose semantics and
 * http://hl7.org/fhir/R4/codesystem.html#filters for the filters. An answer is three-valued:
 * true (member), false (certainly not a member), undefined (cannot tell: external or unsupported
 * content, e.g. SNOMED CT or a filter we do not implement).
 */
export type Membership = boolean | undefined;

/** Code systems defined outside FHIR that no registry can enumerate, but that are known to exist. */
const externalSystems = new Set([
  'http://snomed.info/sct',
  'http://loinc.org',
  'http://unitsofmeasure.org',
  'http://www.nlm.nih.gov/research/umls/rxnorm',
  'http://hl7.org/fhir/sid/icd-10',
  'http://hl7.org/fhir/sid/icd-10-cm',
  'http://hl7.org/fhir/sid/icd-9-cm',
  'http://hl7.org/fhir/sid/ndc',
  'http://hl7.org/fhir/sid/cvx',
  'http://www.ama-assn.org/go/cpt',
  'http://dicom.nema.org/resources/ontology/DCM',
  'http://nucc.org/provider-taxonomy',
  'http://www.whocc.no/atc',
  'http://www.genenames.org',
  'http://www.ncbi.nlm.nih.gov/clinvar',
  'http://www.nlm.nih.gov/research/umls',
  'http://dmd.nhs.uk',
  'https://dmd.nhs.uk',
  'urn:ietf:bcp:47',
  'urn:ietf:bcp:13',
  'urn:iso:std:iso:3166',
  'urn:iso:std:iso:3166:-2',
  'urn:iso:std:iso:4217',
  'urn:iso:std:iso:11073:10101',
  'urn:oid:1.2.36.1.2001.1005.17',
  'http://unstats.un.org/unsd/methods/m49/m49.htm',
]);

/**
 * The form every code of an external system has, where its standard fixes one: a string of
 * another form is certainly not a code of it, though we cannot list its codes. Jurisdiction
 * (R4 ValueSet/jurisdiction) draws on both: a subdivision of ISO 3166-2 is its country's alpha-2 code,
 * a hyphen and up to three letters or digits (ISO 3166-2); an M49 area is three digits.
 */
const codeForms = new Map<string, RegExp>([
  ['urn:iso:std:iso:3166:-2', /^[A-Z]{2}-[A-Z0-9]{1,3}$/],
  ['http://unstats.un.org/unsd/methods/m49/m49.htm', /^[0-9]{3}$/],
]);

/** Whether `code` cannot be a code of `system` by its form alone. */
function notACodeOf(system: string, code: string): boolean {
  const form = codeForms.get(system);
  return form !== undefined && !form.test(code);
}

interface ConceptIndex {
  /** Whether codes compare case-sensitively (CodeSystem.caseSensitive; absent counts as true). */
  caseSensitive: boolean;
  concepts: Map<string, CodeSystemConcept>;
  children: Map<string, string[]>;
}

/** The codes of one system admitted by a value set; `codes === undefined` means "all of them / unknown". */
export interface SystemPart {
  codes: Set<string> | undefined;
  caseSensitive: boolean;
}

export class Expansion {
  constructor(
    readonly url: string,
    readonly title: string,
    /** @internal codes per system, read when another value set imports this one. */
    readonly parts: Map<string, SystemPart>,
    /** Content we could not interpret without knowing its system, e.g. a missing imported value set. */
    readonly open: boolean,
  ) {}

  /** Systems this value set draws codes from. */
  get systems(): Iterable<string> {
    return this.parts.keys();
  }

  /** Membership of a system|code pair. */
  has(system: string | undefined, code: string): Membership {
    if (system === undefined) return this.hasCode(code) === false ? false : undefined;
    const part = this.parts.get(system);
    if (!part) return this.open ? undefined : false;
    if (!part.codes) return notACodeOf(system, code) && !this.open ? false : undefined;
    if (part.codes.has(part.caseSensitive ? code : code.toLowerCase())) return true;
    return this.open ? undefined : false;
  }

  /** Membership of a bare `code` (no system), as for elements of type code. */
  hasCode(code: string): Membership {
    let unknown = this.open;
    for (const [system, part] of this.parts) {
      if (!part.codes) unknown ||= !notACodeOf(system, code);
      else if (part.codes.has(part.caseSensitive ? code : code.toLowerCase())) return true;
    }
    return unknown ? undefined : false;
  }

  /** Up to `limit` admitted codes for messages, or undefined when the set is open or larger. */
  listCodes(limit: number): string[] | undefined {
    if (this.open) return undefined;
    const out: string[] = [];
    for (const part of this.parts.values()) {
      if (!part.codes) return undefined;
      for (const c of part.codes) {
        if (out.length >= limit) return undefined;
        out.push(c);
      }
    }
    return out;
  }
}

export class Terminology {
  private readonly expansions = new Map<string, Expansion | null>();
  private readonly indexes = new Map<string, ConceptIndex | null>();
  private readonly expanding = new Set<string>();

  constructor(private readonly registry: ConformanceRegistry) {}

  /** Expansion of a value set by canonical URL, cached; undefined when the value set is not in the registry. */
  expand(valueSetUrl: string): Expansion | undefined {
    const url = unversioned(valueSetUrl);
    const cached = this.expansions.get(url);
    if (cached !== undefined) return cached ?? undefined;
    const vs = this.registry.getValueSet(url);
    if (!vs || this.expanding.has(url)) return undefined; // unknown, or an import cycle
    this.expanding.add(url);
    try {
      const expansion = this.compose(vs);
      this.expansions.set(url, expansion);
      return expansion;
    } finally {
      this.expanding.delete(url);
    }
  }

  /** Whether a code is defined by its code system: undefined when the system cannot be enumerated. */
  codeSystemHas(system: string, code: string): Membership {
    const index = this.index(system);
    if (!index) return undefined;
    return index.concepts.has(index.caseSensitive ? code : code.toLowerCase());
  }

  /** A system we have a definition for, or a well-known external terminology. */
  isKnownSystem(system: string): boolean {
    return externalSystems.has(system) || this.registry.getCodeSystem(system) !== undefined;
  }

  private index(system: string): ConceptIndex | undefined {
    const cached = this.indexes.get(system);
    if (cached !== undefined) return cached ?? undefined;
    const cs = this.registry.getCodeSystem(system);
    // A complete code system without concepts (e.g. message-events, whose codes live in
    // MessageDefinitions) cannot be enumerated here.
    const index = cs && cs.content === 'complete' && cs.concept?.length ? buildIndex(cs) : undefined;
    this.indexes.set(system, index ?? null);
    return index;
  }

  private compose(vs: ValueSet): Expansion {
    const parts = new Map<string, SystemPart>();
    let open = false;
    const title = vs.title ?? vs.name ?? vs.url ?? 'value set';
    if (!vs.compose) {
      // A value set with only an expansion (or nothing) we treat as open: we do not trust stale expansions.
      return new Expansion(vs.url as string, title, parts, true);
    }
    for (const include of vs.compose.include ?? []) {
      const result = this.includeResult(include);
      if (result === 'open') {
        open = true;
        continue;
      }
      for (const [system, part] of result) mergePart(parts, system, part);
    }
    for (const exclude of vs.compose.exclude ?? []) {
      const result = this.includeResult(exclude);
      if (result === 'open') {
        open = true;
        continue;
      }
      for (const [system, part] of result) {
        const target = parts.get(system);
        if (!target?.codes) continue;
        if (!part.codes) {
          parts.delete(system);
          continue;
        }
        for (const code of part.codes) target.codes.delete(code);
      }
    }
    return new Expansion(vs.url as string, title, parts, open);
  }

  /** The codes one include (or exclude) clause selects, per system. */
  private includeResult(include: ValueSetComposeInclude): Map<string, SystemPart> | 'open' {
    let result: Map<string, SystemPart> | 'open' | undefined;
    if (include.system) {
      result = new Map([[include.system, this.systemSelection(include.system, include)]]);
    }
    for (const imported of include.valueSet ?? []) {
      const expansion = this.expand(imported);
      if (!expansion) return 'open';
      const importedParts = expansionParts(expansion);
      if (importedParts === 'open') return 'open';
      result = result === undefined ? importedParts : intersect(result as Map<string, SystemPart>, importedParts);
    }
    return result ?? 'open';
  }

  private systemSelection(system: string, include: ValueSetComposeInclude): SystemPart {
    const index = this.index(system);
    const caseSensitive = index?.caseSensitive ?? true;
    const norm = (c: string): string => (caseSensitive ? c : c.toLowerCase());
    if (include.concept?.length) {
      return { codes: new Set(include.concept.map((c) => norm(c.code as string))), caseSensitive };
    }
    if (!index) return { codes: undefined, caseSensitive };
    let codes: Set<string> | undefined = new Set(index.concepts.keys());
    for (const filter of include.filter ?? []) {
      const selected = applyFilter(index, filter.property as string, filter.op as string, norm(filter.value as string));
      if (!selected) return { codes: undefined, caseSensitive };
      codes = new Set([...codes].filter((c) => selected.has(c)));
    }
    return { codes, caseSensitive };
  }
}

function mergePart(parts: Map<string, SystemPart>, system: string, part: SystemPart): void {
  const existing = parts.get(system);
  if (!existing) {
    parts.set(system, { codes: part.codes && new Set(part.codes), caseSensitive: part.caseSensitive });
  } else if (!existing.codes || !part.codes) {
    existing.codes = undefined;
  } else {
    for (const c of part.codes) existing.codes.add(c);
  }
}

function expansionParts(expansion: Expansion): Map<string, SystemPart> | 'open' {
  return expansion.open ? 'open' : expansion.parts;
}

function intersect(a: Map<string, SystemPart>, b: Map<string, SystemPart>): Map<string, SystemPart> {
  const out = new Map<string, SystemPart>();
  for (const [system, part] of a) {
    const other = b.get(system);
    if (!other) continue;
    if (!part.codes) out.set(system, { ...other });
    else if (!other.codes) out.set(system, { ...part });
    else out.set(system, { codes: new Set([...part.codes].filter((c) => other.codes?.has(c))), caseSensitive: part.caseSensitive });
  }
  return out;
}

function buildIndex(cs: CodeSystem): ConceptIndex {
  const caseSensitive = cs.caseSensitive !== false;
  const concepts = new Map<string, CodeSystemConcept>();
  const children = new Map<string, string[]>();
  const addChild = (parent: string, child: string): void => {
    const list = children.get(parent);
    if (list) list.push(child);
    else children.set(parent, [child]);
  };
  const visit = (list: CodeSystemConcept[] | undefined, parent: string | undefined): void => {
    for (const concept of list ?? []) {
      if (!concept.code) continue;
      const code = caseSensitive ? concept.code : concept.code.toLowerCase();
      concepts.set(code, concept);
      if (parent) addChild(parent, code);
      // Hierarchy may also be stated as properties (http://hl7.org/fhir/R4/codesystem-concept-properties.html).
      for (const p of concept.property ?? []) {
        if ((p.code === 'subsumedBy' || p.code === 'parent') && p.valueCode) addChild(caseSensitive ? p.valueCode : p.valueCode.toLowerCase(), code);
      }
      visit(concept.concept, code);
    }
  };
  visit(cs.concept, undefined);
  return { caseSensitive, concepts, children };
}

function descendants(index: ConceptIndex, code: string, out: Set<string>): Set<string> {
  for (const child of index.children.get(code) ?? []) {
    if (!out.has(child)) {
      out.add(child);
      descendants(index, child, out);
    }
  }
  return out;
}

/** The codes a filter selects, or undefined for filters we do not implement. */
function applyFilter(index: ConceptIndex, property: string, op: string, value: string): Set<string> | undefined {
  switch (op) {
    case 'is-a':
      return property === 'concept' ? descendants(index, value, new Set([value])) : undefined;
    case 'descendent-of':
      return property === 'concept' ? descendants(index, value, new Set()) : undefined;
    case 'is-not-a': {
      if (property !== 'concept') return undefined;
      const excluded = descendants(index, value, new Set([value]));
      return new Set([...index.concepts.keys()].filter((c) => !excluded.has(c)));
    }
    case 'in':
      return property === 'concept' ? new Set(value.split(',').map((v) => v.trim())) : undefined;
    case 'regex': {
      if (property !== 'code') return undefined;
      const re = new RegExp(`^(?:${value})$`);
      return new Set([...index.concepts.keys()].filter((c) => re.test(c)));
    }
    case '=': {
      const out = new Set<string>();
      for (const [code, concept] of index.concepts) {
        const p = concept.property?.find((x) => x.code === property);
        const v = p && (p.valueCode ?? p.valueString ?? p.valueCoding?.code ?? p.valueBoolean ?? p.valueInteger);
        if (v !== undefined && String(v) === value) out.add(code);
      }
      return out;
    }
    default:
      return undefined;
  }
}
