import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { formatFhirXml, parseFhirXml } from '../src/fhir/xml/index.js';
import { fixturePath } from '../test/support/fixtures.js';

/**
 * XML -> resource throughput of parseFhirXml beside raw fast-xml-parser on the same bytes: the
 * official R4 examples vendored in test/fixtures/fhir/examples. Two raw baselines: fast-xml-parser
 * with default options plus attributes, and with the very options parseFhirXml hands it (ordered
 * tree, no entity processing), which is the stricter comparison. Best of interleaved rounds.
 * Prints nothing.
 */
const CORPUS = fixturePath('fhir', 'examples');
const ROUNDS = 7;
const ROUND_MS = 300;

function loadCorpus(): string[] {
  const index = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8')) as { xml: string }[];
  return index.map((e) => readFileSync(join(CORPUS, e.xml), 'utf8'));
}

/** MB/s (10^6 UTF-8 bytes) of one timed slice: whole passes over all documents. */
function slice(docs: string[], bytes: number, run: (doc: string, i: number) => unknown): number {
  let passes = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    for (let i = 0; i < docs.length; i++) run(docs[i], i);
    passes++;
    elapsed = performance.now() - start;
  }
  return (bytes * passes) / (elapsed / 1000) / 1e6;
}

/**
 * Best slice of each contender over interleaved rounds: other work on the machine slows every
 * contender alike within a round, and the best slice is the least disturbed one.
 */
function compare(docs: string[], bytes: number, contenders: Record<string, (doc: string, i: number) => unknown>): Record<string, number> {
  const best: Record<string, number> = {};
  for (const [name, run] of Object.entries(contenders)) {
    for (let i = 0; i < docs.length; i++) run(docs[i], i); // warm-up
    best[name] = 0;
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(contenders)) best[name] = Math.max(best[name], slice(docs, bytes, run));
  }
  return best;
}

const round = (n: number): number => Math.round(n * 10) / 10;

export async function benchXml(): Promise<Record<string, string | number>> {
  const docs = loadCorpus();
  const bytes = docs.reduce((sum, doc) => sum + Buffer.byteLength(doc, 'utf8'), 0);
  const rawDefault = new XMLParser({ ignoreAttributes: false });
  const rawSameOptions = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    processEntities: false,
    trimValues: false,
    parseTagValue: false,
    parseAttributeValue: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    stopNodes: ['*.div'],
    jPath: false,
  });
  const resources = docs.map((doc) => parseFhirXml(doc)); // also loads the definitions once

  const mbs = compare(docs, bytes, {
    rawDefault: (doc) => rawDefault.parse(doc),
    rawSameOptions: (doc) => rawSameOptions.parse(doc),
    parse: (doc) => parseFhirXml(doc),
    format: (_, i) => formatFhirXml(resources[i]),
  });
  const [rawDefaultMBs, rawSameOptionsMBs, parseMBs, formatMBs] = [mbs.rawDefault, mbs.rawSameOptions, mbs.parse, mbs.format];

  return {
    'xml corpus': `${docs.length} official R4 examples, ${bytes} bytes`,
    'fast-xml-parser raw, default options + attributes (MB/s)': round(rawDefaultMBs),
    'fast-xml-parser raw, parseFhirXml options (MB/s)': round(rawSameOptionsMBs),
    'parseFhirXml XML -> resource (MB/s)': round(parseMBs),
    'parseFhirXml / raw default (%)': Math.round((100 * parseMBs) / rawDefaultMBs),
    'parseFhirXml / raw same options (%)': Math.round((100 * parseMBs) / rawSameOptionsMBs),
    'formatFhirXml resource -> XML (MB/s of XML input size)': round(formatMBs),
  };
}
