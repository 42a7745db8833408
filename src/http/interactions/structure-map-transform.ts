import type { Parameters, Resource, StructureMap } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, badRequest } from '../../errors.js';
import { partnerMappings } from '../../mapping/mapping-data.js';
import { pruneEmpty, runStructureMap } from '../../mapping/transform.js';
import type { Handler } from './context.js';
import { checkId } from './context.js';

/**
 * POST [base]/StructureMap/[id]/$transform (http://hl7.org/fhir/R4/structuremap-operation-transform.html):
 * the stored StructureMap run over `content` (a Parameters parameter, or the body itself when it
 * is not a Parameters), by the same engine and ConceptMaps as the partner formats. The map alone:
 * the steps of a format that are code (defects, joins of rows, London time) are not applied. A
 * result that is not a FHIR resource (a row of a logical model) is answered as a Binary.
 */
export const transformOperation: Handler = async (ctx, req, params) => {
  checkId(params.id);
  const map = (await ctx.store.read('StructureMap', params.id)) as StructureMap;
  const content = contentOf(req.body);
  const group = map.group?.[0];
  const source = group?.input.find((i) => i.mode === 'source');
  const target = group?.input.find((i) => i.mode === 'target');
  if (!group || !source || !target) throw new FhirError(FhirErrorCode.UNPROCESSABLE, { message: `StructureMap/${params.id} has no group with a source and a target`, expression: 'StructureMap.group' });
  const targetType = typeOf(map, target.type) ?? 'Basic';
  const isResource = /^[A-Z][A-Za-z]+$/.test(targetType) && !targetType.startsWith('MHS');
  let out: object;
  try {
    out = runStructureMap(map, { type: typeOf(map, source.type) ?? 'Element', value: content }, { type: targetType, value: isResource ? { resourceType: targetType } : {} }, transformMapsFor(map));
  } catch (err) {
    throw new FhirError(FhirErrorCode.UNPROCESSABLE, { message: `StructureMap/${params.id} could not transform the content: ${(err as Error).message}`, expression: 'content' });
  }
  const result = pruneEmpty(out);
  const body: Resource = isResource
    ? (result as Resource)
    : { resourceType: 'Binary', contentType: 'application/json', data: Buffer.from(JSON.stringify(result)).toString('base64') };
  return { status: 200, body, headers: {} };
};

function contentOf(body: unknown): object {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The body must be a Parameters with a content parameter, or the content itself as a JSON object');
  const parameters = body as Parameters;
  if (parameters.resourceType !== 'Parameters') return body;
  const content = parameters.parameter?.find((p) => p.name === 'content');
  if (!content?.resource) throw badRequest("The Parameters has no 'content' parameter with a resource", "Parameters.parameter.where(name = 'content')");
  return content.resource;
}

/** The type a group input names: the `uses` alias resolved to the structure's last path segment. */
function typeOf(map: StructureMap, alias: string | undefined): string | undefined {
  if (!alias) return undefined;
  const used = map.structure?.find((s) => s.alias === alias);
  if (!used) return alias;
  const name = used.url.split('/').pop()!;
  return name.replace(/^mhsds-/, '');
}

/** The ConceptMaps of the partner whose folder holds the map (found by the map's id), else none. */
function transformMapsFor(map: StructureMap) {
  for (const partner of ['mhsds', 'nhs111-pem', 'bars']) {
    try {
      const mappings = partnerMappings(partner);
      if (mappings.structureMaps.has(map.id ?? '')) return mappings.transformMaps;
    } catch {
      // a partner without a mappings folder yet
    }
  }
  return partnerMappings('mhsds').transformMaps;
}
