import { describe, expect, it } from 'vitest';
import { resourceTypes } from '../resource-types.js';
import { searchParamsFor } from './definitions.js';

describe('searchParamsFor', () => {
  it('gives every resource type, Binary included, the parameters of every resource with their R4 definitions (search.html#all)', () => {
    const lacking: string[] = [];
    for (const type of resourceTypes()) {
      const params = searchParamsFor(type);
      for (const code of ['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source']) {
        const param = params.get(code);
        if (param?.definition.url !== `http://hl7.org/fhir/SearchParameter/Resource-${code.slice(1)}` || param.definition.expression !== `${type}.${code === '_id' ? 'id' : `meta.${code.slice(1)}`}`) {
          lacking.push(`${type} ${code}`);
        }
      }
    }
    expect(lacking).toEqual([]);
  });
});
