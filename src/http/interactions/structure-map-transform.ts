import type { Parameters, Resource, StructureMap } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode, badRequest } from '../../errors.js';
import { isResourceType } from '../../fhir/resource-types.js';
import { allTransformMaps } from '../../mapping/mapping-data.js';
import { pruneEmpty, runStructureMap } from '../../mapping/transform.js';
import { parseSearch } from '../../fhir/search/parse.js';
import type { FhirRequest, FhirResponse } from '../fhir-request.js';
import type { Handler, InteractionContext } from './context.js';
import { checkId } from './context.js';

/**
 * POST [base]/StructureMap/[id]/$transform, or StructureMap/$transform with `source` its canonical
 * url (http://hl7.org/fhir/R4/structuremap-operation-transform.html): the stored StructureMap run
 * over `content` (a Parameters parameter, or the body itself when it
 * is not a Parameters), by the same engine and ConceptMaps (every partner's) as the partner formats. The map alone:
 * the steps of a format that are code (defects, joins of rows, London time) are not applied. A
 * result that is not a FHIR resource (a row of a logical model) is answered as a Binary.
 */
export const transformOperation: Handler = async (ctx, req, params) => {
  const map = params.id ? await mapById(ctx, params.id) : await mapBySource(ctx, sourceOf(req));
  return transformWith(map, contentOf(req.body));
};

async function mapById(ctx: InteractionContext, id: string): Promise<StructureMap> {
  checkId(id);
  return (await ctx.store.read('StructureMap', id)) as StructureMap;
}

/** POST StructureMap/$transform?source=<url>: the map named by its canonical URL (a Parameters `source`, or the query). */
async function mapBySource(ctx: InteractionContext, source: string | undefined): Promise<StructureMap> {
  if (!source) throw badRequest('Name the StructureMap to run: source=<its canonical url>, or run it at StructureMap/[id]/$transform', 'source');
  const [map] = await ctx.store.matches(parseSearch('StructureMap', [['url', source]]));
  if (!map) throw new FhirError(FhirErrorCode.NOT_FOUND, { message: `No StructureMap has the url ${source}`, expression: 'source' });
  return map as StructureMap;
}

function sourceOf(req: FhirRequest): string | undefined {
  const fromBody = (req.body as Parameters | undefined)?.resourceType === 'Parameters' ? (req.body as Parameters).parameter?.find((p) => p.name === 'source')?.valueUri : undefined;
  return fromBody ?? req.query.find(([k]) => k === 'source')?.[1];
}

function transformWith(map: StructureMap, content: object): FhirResponse {
  const name = `StructureMap/${map.id}`;
  const group = map.group?.[0];
  const source = group?.input.find((i) => i.mode === 'source');
  const target = group?.input.find((i) => i.mode === 'target');
  if (!group || !source || !target) throw new FhirError(FhirErrorCode.UNPROCESSABLE, { message: `${name} has no group with a source and a target`, expression: 'StructureMap.group' });
  const targetType = typeOf(map, target.type) ?? 'Basic';
  const isResource = isResourceType(targetType);
  let out: object;
  try {
    out = runStructureMap(map, { type: typeOf(map, source.type) ?? 'Element', value: content }, { type: targetType, value: isResource ? { resourceType: targetType } : {} }, allTransformMaps());
  } catch (err) {
    throw new FhirError(FhirErrorCode.UNPROCESSABLE, { message: `${name} could not transform the content: ${(err as Error).message}`, expression: 'content' });
  }
  const result = pruneEmpty(out);
  const body: Resource = isResource
    ? (result as Resource)
    : { resourceType: 'Binary', contentType: 'application/json', data: Buffer.from(JSON.stringify(result)).toString('base64') };
  return { status: 200, body, headers: {} };
}

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
