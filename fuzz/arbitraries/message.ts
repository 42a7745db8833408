import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { encodeJsonHeader, HEADER_NAMES, type HeaderKey } from '../../src/messaging/headers.js';
import type { FuzzRequest } from '../request.js';
import { B_NHS_NUMBER } from '../world.js';
import { mutateText, mutateTree, textMutation, treeMutation } from './mutate.js';
import { anyJson, headerValue } from './values.js';

/*
 * $process-message with BaRS headers: the worked referral of docs/examples (a valid message the
 * front door accepts) and a valid set of headers, then headers dropped, replaced (bad Base64,
 * Base64 of the wrong JSON, odd GUIDs and use-contexts) and the message mutated like any JSON
 * body. Fresh Bundle ids and request ids keep most valid messages from being duplicates; the
 * patient's NHS number is sometimes team B's person's.
 */

const FRONT_DOOR_DOS = '2000072001';
const REFERRAL = JSON.parse(readFileSync(new URL('../../docs/examples/bars-referral.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const NHS_NUMBERS = ['9000000009', B_NHS_NUMBER, '9434765870', '1234567890', ''];

const validHeaders = (requestId: string): Record<HeaderKey, string> => ({
  requestId,
  correlationId: requestId,
  targetIdentifier: encodeJsonHeader({ system: 'https://fhir.nhs.uk/Id/dos-service-id', value: FRONT_DOOR_DOS }),
  requestingSoftware: encodeJsonHeader({ resourceType: 'Device', identifier: [{ system: 'https://consumersupplier.com/Id/device-identifier', value: 'GP-SYS-1' }] }),
  endUserOrganisation: encodeJsonHeader({ resourceType: 'Organization', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A83627' }] }),
  requestingPractitioner: encodeJsonHeader({ resourceType: 'PractitionerRole', identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-role-profile-id', value: '1' }] }),
  useContext: 'a5t1|referral|servicerequest-request|new',
});

const HEADER_KEYS = Object.keys(HEADER_NAMES) as HeaderKey[];

const encodedOdd = fc.constantFrom<unknown>(null, [], 'x', 1, {}, { system: 1, value: 2 }, { identifier: [null] }, { identifier: 'x' }, { system: 'https://fhir.nhs.uk/Id/dos-service-id', value: '111111111' }).map(encodeJsonHeader);
const useContexts = fc.constantFrom('a5t1|referral|servicerequest-request|update', 'a5t1|referral|servicerequest-request|cancelled', 'a1t1|referral|servicerequest-request|new', '|||', 'a|b|c', 'a5t1|referral|servicerequest-response|new', 'x|y|z|w|v');

const headerEdit = fc.record({
  key: fc.constantFrom(...HEADER_KEYS),
  value: fc.option(fc.oneof(headerValue, encodedOdd, useContexts, fc.constantFrom('00000000-0000-0000-0000-000000000000', 'not-a-guid')), { nil: undefined, freq: 4 }),
});

/** Applies the patient's NHS number, a fresh Bundle id, and the tree mutations. */
function message(bundleId: string, nhsNumber: string, tree: Parameters<typeof mutateTree>[1]): unknown {
  const m = structuredClone(REFERRAL) as { id: string; entry: { resource: { resourceType: string; identifier?: { value?: string }[] } }[] };
  m.id = bundleId;
  for (const e of m.entry) if (e.resource.resourceType === 'Patient' && e.resource.identifier?.[0]) e.resource.identifier[0].value = nhsNumber;
  return mutateTree(m, tree);
}

export const messageRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    requestId: fc.uuid(),
    bundleId: fc.uuid(),
    nhsNumber: fc.constantFrom(...NHS_NUMBERS),
    edits: fc.array(headerEdit, { maxLength: 2 }),
    tree: fc.array(treeMutation, { maxLength: 2 }),
    text: textMutation,
    // now and then a body that is no message at all
    wholeBody: fc.oneof({ weight: 19, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: anyJson }),
    query: fc.constantFrom('', '', '', '', '', '', '?async=true', '?async=x', '?response-url=http://evil.example'),
  })
  .map((x) => {
    const raw: Partial<Record<HeaderKey, string>> = validHeaders(x.requestId);
    for (const edit of x.edits) {
      if (edit.value === undefined) delete raw[edit.key];
      else raw[edit.key] = edit.value;
    }
    const headers: Record<string, string> = { 'Content-Type': 'application/fhir+json' };
    for (const [k, v] of Object.entries(raw)) headers[HEADER_NAMES[k as HeaderKey]] = v;
    const body = x.wholeBody === null ? mutateText(JSON.stringify(message(x.bundleId, x.nhsNumber, x.tree)), x.text) : JSON.stringify(x.wholeBody);
    return { kind: 'message' as const, method: 'POST', path: `$process-message${x.query}`, headers, body };
  });
