import type { Bundle, CodeSystem, ImplementationGuide, Library, Measure, Questionnaire, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';

const CORE_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

/** Drops the `|version` suffix of a canonical reference (http://hl7.org/fhir/R4/references.html#canonical). */
export function unversioned(canonical: string): string {
  const bar = canonical.indexOf('|');
  return bar < 0 ? canonical : canonical.slice(0, bar);
}

/**
 * Holds the conformance resources a Validator checks against, by canonical URL: StructureDefinitions
 * (core types and resources, profiles, extension definitions), ValueSets and CodeSystems. Stored
 * resources are not modified. `revision` changes on every addition so validators can drop what they
 * compiled from older content.
 */
export class ConformanceRegistry {
  private readonly structureDefinitions = new Map<string, StructureDefinition>();
  private readonly coreTypes = new Map<string, StructureDefinition>();
  private readonly valueSets = new Map<string, ValueSet>();
  private readonly codeSystems = new Map<string, CodeSystem>();
  /** What a QuestionnaireResponse is checked against (QuestionnaireResponse.questionnaire). */
  private readonly questionnaires = new Map<string, Questionnaire>();
  /** What a MeasureReport is checked against (MeasureReport.measure). */
  private readonly measures = new Map<string, Measure>();
  /** The logic a Measure's criteria name (Measure.library). */
  private readonly libraries = new Map<string, Library>();
  /** ImplementationGuide.global: profiles every resource of a type must conform to, by type. */
  private readonly globals = new Map<string, string[]>();
  private readonly resourceTypeNames = new Set<string>();
  private currentRevision = 0;

  get revision(): number {
    return this.currentRevision;
  }

  /** A registry holding the same resources, to add to without changing this one (e.g. to try a profile before storing it). */
  copy(): ConformanceRegistry {
    const out = new ConformanceRegistry();
    for (const [from, to] of [
      [this.structureDefinitions, out.structureDefinitions],
      [this.coreTypes, out.coreTypes],
      [this.valueSets, out.valueSets],
      [this.codeSystems, out.codeSystems],
      [this.questionnaires, out.questionnaires],
      [this.measures, out.measures],
      [this.libraries, out.libraries],
      [this.globals, out.globals],
    ] as [Map<string, unknown>, Map<string, unknown>][]) {
      for (const [k, v] of from) to.set(k, v);
    }
    for (const name of this.resourceTypeNames) out.resourceTypeNames.add(name);
    out.currentRevision = this.currentRevision;
    return out;
  }

  addStructureDefinition(sd: StructureDefinition): this {
    if (sd.resourceType !== 'StructureDefinition' || !sd.url || !sd.type) {
      throw new TypeError('addStructureDefinition needs a StructureDefinition with url and type');
    }
    if (!sd.snapshot?.element?.length && !sd.differential?.element?.length) {
      throw new TypeError(`StructureDefinition ${sd.url} has neither a snapshot nor a differential`);
    }
    this.structureDefinitions.set(unversioned(sd.url), sd);
    // A core type is the specialization the spec defines for it; profiles are constraints.
    if (sd.url === CORE_PREFIX + sd.type && sd.derivation !== 'constraint') {
      this.coreTypes.set(sd.type, sd);
      if (sd.kind === 'resource' && !sd.abstract) this.resourceTypeNames.add(sd.type);
    }
    this.currentRevision++;
    return this;
  }

  addValueSet(vs: ValueSet): this {
    if (vs.resourceType !== 'ValueSet' || !vs.url) throw new TypeError('addValueSet needs a ValueSet with a url');
    this.valueSets.set(unversioned(vs.url), vs);
    this.currentRevision++;
    return this;
  }

  addCodeSystem(cs: CodeSystem): this {
    if (cs.resourceType !== 'CodeSystem' || !cs.url) throw new TypeError('addCodeSystem needs a CodeSystem with a url');
    this.codeSystems.set(unversioned(cs.url), cs);
    this.currentRevision++;
    return this;
  }

  addQuestionnaire(q: Questionnaire): this {
    if (q.resourceType !== 'Questionnaire' || !q.url) throw new TypeError('addQuestionnaire needs a Questionnaire with a url');
    this.questionnaires.set(unversioned(q.url), q);
    this.currentRevision++;
    return this;
  }

  addMeasure(m: Measure): this {
    if (m.resourceType !== 'Measure' || !m.url) throw new TypeError('addMeasure needs a Measure with a url');
    this.measures.set(unversioned(m.url), m);
    this.currentRevision++;
    return this;
  }

  addLibrary(l: Library): this {
    if (l.resourceType !== 'Library' || !l.url) throw new TypeError('addLibrary needs a Library with a url');
    this.libraries.set(unversioned(l.url), l);
    this.currentRevision++;
    return this;
  }

  /** Adds every StructureDefinition, ValueSet, CodeSystem, Questionnaire, Measure and Library in a Bundle; other entries are ignored. */
  addBundle(bundle: Bundle): this {
    for (const entry of bundle.entry ?? []) {
      if (entry.resource) this.addResource(entry.resource);
    }
    return this;
  }

  /** Adds one conformance resource; returns false for resource types the registry does not hold. */
  addResource(resource: Resource): boolean {
    switch (resource.resourceType) {
      case 'StructureDefinition':
        this.addStructureDefinition(resource);
        return true;
      case 'ValueSet':
        this.addValueSet(resource);
        return true;
      case 'CodeSystem':
        this.addCodeSystem(resource);
        return true;
      case 'Questionnaire':
        if (!resource.url) return false;
        this.addQuestionnaire(resource);
        return true;
      case 'Measure':
        if (!resource.url) return false;
        this.addMeasure(resource);
        return true;
      case 'Library':
        if (!resource.url) return false;
        this.addLibrary(resource);
        return true;
      case 'ImplementationGuide':
        this.addImplementationGuide(resource);
        return true;
      default:
        return false;
    }
  }

  getStructureDefinition(url: string): StructureDefinition | undefined {
    return this.structureDefinitions.get(unversioned(url));
  }

  /** The core definition of a type or resource by name, e.g. `HumanName` or `Patient`. */
  getTypeDefinition(typeName: string): StructureDefinition | undefined {
    return this.coreTypes.get(typeName);
  }

  getValueSet(url: string): ValueSet | undefined {
    return this.valueSets.get(unversioned(url));
  }

  getCodeSystem(url: string): CodeSystem | undefined {
    return this.codeSystems.get(unversioned(url));
  }

  getQuestionnaire(url: string): Questionnaire | undefined {
    return this.questionnaires.get(unversioned(url));
  }

  /**
   * Holds an ImplementationGuide's global profiles (implementationguide-definitions.html#ImplementationGuide.global:
   * "a set of profiles that all resources covered by this implementation guide must conform to").
   */
  addImplementationGuide(ig: ImplementationGuide): this {
    for (const g of ig.global ?? []) {
      if (!g?.type || !g.profile) continue;
      const list = this.globals.get(g.type) ?? [];
      if (!list.includes(g.profile)) this.globals.set(g.type, [...list, g.profile]);
    }
    this.currentRevision++;
    return this;
  }

  /** Global profiles of the ImplementationGuides held, for a resource type. */
  globalProfiles(type: string): readonly string[] {
    return this.globals.get(type) ?? [];
  }

  getMeasure(url: string): Measure | undefined {
    return this.measures.get(unversioned(url));
  }

  getLibrary(url: string): Library | undefined {
    return this.libraries.get(unversioned(url));
  }

  allStructureDefinitions(): IterableIterator<StructureDefinition> {
    return this.structureDefinitions.values();
  }

  isResourceType(name: string): boolean {
    return this.resourceTypeNames.has(name);
  }
}
