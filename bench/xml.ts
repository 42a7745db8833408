import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { formatFhirXml, parseFhirXml } from '../src/fhir/xml/index.js';

/**
 * XML -> resource throughput of parseFhirXml beside raw fast-xml-parser on the same bytes: the
 * official R4 examples (/work/shared/corpus/fhir/examples). Two raw baselines: fast-xml-parser
 * with default options plus attributes, and with the very options parseFhirXml hands it (ordered
 * tree, no entity processing), which is the stricter comparison. Prints nothing.
 */
const CORPUS = '/work/shared/corpus/fhir/examples';
const MIN_MS = 1500;

function loadCorpus(): string[] {
  const index = JSON.parse(readFileSync(join(CORPUS, 'index.json'), 'utf8')) as { xml: string }[];
  return index.map((e) => readFileSync(join(CORPUS, e.xml), 'utf8'));
}

/** MB/s (10^6 UTF-8 bytes) over repeated passes of all documents, after a warm-up. */
function throughput(docs: string[], bytes: number, run: (doc: string) => unknown): number {
  for (let i = 0; i < 3; i++) for (const doc of docs) run(doc);
  let passes = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < MIN_MS) {
    for (const doc of docs) run(doc);
    passes++;
    elapsed = performance.now() - start;
  }
  return (bytes * passes) / (elapsed / 1000) / 1e6;
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

  const rawDefaultMBs = throughput(docs, bytes, (doc) => rawDefault.parse(doc));
  const rawSameOptionsMBs = throughput(docs, bytes, (doc) => rawSameOptions.parse(doc));
  const parseMBs = throughput(docs, bytes, (doc) => parseFhirXml(doc));
  let i = 0;
  const formatMBs = throughput(resources.map(String), bytes, () => formatFhirXml(resources[i++ % resources.length]));

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
