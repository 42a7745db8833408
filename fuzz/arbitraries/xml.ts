import fc from 'fast-check';
import type { FuzzRequest } from '../request.js';
import { A_IDS } from '../world.js';
import { HOSTILE_STRINGS, REFERENCES } from './values.js';

/*
 * XML bodies: a FHIR XML resource assembled from parts, any of which may be odd (element names such
 * as __proto__, extra or repeated attributes, entities, CDATA, comments, a DOCTYPE, text where
 * none belongs, deep nesting), then possibly cut short.
 */

const NS = 'xmlns="http://hl7.org/fhir"';
const ELEMENT_NAMES = ['name', 'family', 'given', 'active', 'birthDate', 'gender', 'id', 'meta', 'extension', 'identifier', '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'x:y', 'valueString', 'status', 'subject', 'reference', 'div', 'text'];
const ROOTS = ['Patient', 'Observation', 'Task', 'Bundle', 'Parameters', 'Nonsense', '__proto__'];
const PROLOGUES = ['', '', '<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="UTF-16"?>', '<!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]>', '<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>', '\ufeff', '<?pi x?>'];

/** XML-escaped, but only sometimes: the rest is left raw on purpose. */
const attributeText = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS, ...REFERENCES, 'true', 'false', '&e;', '&b;', '&#0;', '&#xD800;', '&lt;', '&amp', '"'), fc.string({ maxLength: 10 }).map(escapeXml));

interface Part {
  name: string;
  attributes: [string, string][];
  children: Part[];
  text: string;
}

/** An element with children down to `levels` more levels (bounded: fast-check's recursion is not). */
function partOf(levels: number): fc.Arbitrary<Part> {
  return fc.record({
    name: fc.constantFrom(...ELEMENT_NAMES),
    attributes: fc.array(fc.tuple(fc.constantFrom('value', 'value', 'url', 'id', 'xmlns', 'xml:lang', 'x'), attributeText), { maxLength: 3 }),
    children: levels === 0 ? fc.constant([]) : fc.array(partOf(levels - 1), { maxLength: 3 }),
    text: fc.constantFrom('', '', '', 'text', '<![CDATA[x]]>', '<!-- c -->', '&e;', '&b;'),
  });
}
const part = partOf(3);

function render(p: Part): string {
  const attrs = p.attributes.map(([k, v]) => ` ${k}="${v}"`).join('');
  const inner = p.text + p.children.map(render).join('');
  return inner ? `<${p.name}${attrs}>${inner}</${p.name}>` : `<${p.name}${attrs}/>`;
}

/** Deep nesting past MAX_NESTING_DEPTH (64) at times, and many attributes on one element. */
const bulk = fc.record({ depth: fc.nat(80), attributes: fc.nat(300) });

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

/** Now and then: fast-check's option() gives the value most of the time, these give it rarely. */
const rarely = <T>(arb: fc.Arbitrary<T>, oneIn: number) => fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

/** The valid core of a Patient or an Observation for team A's person, its values from the hostile pool at times. */
const VALID_CORES: Record<string, (v: string[]) => string> = {
  Patient: (v) => `<name><family value="${v[0]}"/><given value="${v[1]}"/></name><gender value="other"/><birthDate value="${v[2]}"/>`,
  Observation: (v) => `<status value="final"/><code><text value="${v[0]}"/></code><subject><reference value="Patient/${A_IDS.patient}"/></subject><valueString value="${v[1]}"/>`,
};
const coreValue = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('Fuzz', 'Ann', '1990-01-01') }, { weight: 1, arbitrary: attributeText });

const xmlBody = fc
  .record({
    prologue: fc.constantFrom(...PROLOGUES),
    root: fc.constantFrom('Patient', 'Patient', 'Observation', 'Observation', ...ROOTS),
    ns: fc.constantFrom(NS, NS, NS, NS, '', 'xmlns="urn:x"'),
    core: fc.array(coreValue, { minLength: 3, maxLength: 3 }),
    parts: fc.array(part, { maxLength: 2 }),
    bulk: rarely(bulk, 10),
    cut: rarely(fc.nat(), 6),
  })
  .map((x) => {
    const core = Object.hasOwn(VALID_CORES, x.root) ? VALID_CORES[x.root](x.core) : '';
    const deep = x.bulk ? '<extension url="u">'.repeat(x.bulk.depth) + '</extension>'.repeat(x.bulk.depth) : '';
    const many = x.bulk ? `<name${Array.from({ length: x.bulk.attributes }, (_, i) => ` a${i}="v"`).join('')}/>` : '';
    const text = `${x.prologue}<${x.root} ${x.ns}>${core}${x.parts.map(render).join('')}${deep}${many}</${x.root}>`;
    return x.cut === null ? text : text.slice(0, x.cut % (text.length + 1));
  });

const ROUTES: [string, string][] = [
  ['POST', 'Patient'],
  ['POST', 'Observation'],
  ['PUT', `Patient/${A_IDS.patient}`],
  ['POST', ''],
  ['POST', 'Patient/$validate'],
  ['POST', '$process-message'],
];

export const xmlRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(xmlBody, fc.constantFrom(...ROUTES), fc.constantFrom('application/fhir+xml', 'application/fhir+xml', 'application/fhir+xml', 'application/xml', 'text/xml', 'application/fhir+xml; charset=utf-16'), fc.constantFrom('', '?_format=xml', '?_format=json'))
  .map(([body, [method, path], contentType, query]) => ({ kind: 'xml' as const, method, path: path + query, headers: { 'Content-Type': contentType, Accept: 'application/fhir+xml' }, body }));
