import fc from 'fast-check';
import { jsonRequest } from './arbitraries/json.js';
import { messageRequest } from './arbitraries/message.js';
import { searchRequest } from './arbitraries/search.js';
import { xmlRequest } from './arbitraries/xml.js';
import type { FuzzRequest } from './request.js';

/** Every fuzzed request, in these proportions: searches are cheapest to answer, messages dearest. */
export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  { weight: 4, arbitrary: searchRequest },
  { weight: 3, arbitrary: jsonRequest },
  { weight: 2, arbitrary: xmlRequest },
  { weight: 1, arbitrary: messageRequest },
);
