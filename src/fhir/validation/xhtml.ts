/**
 * Narrative XHTML rules (http://hl7.org/fhir/R4/narrative.html#xhtml): the div is well-formed XML in
 * the XHTML namespace, uses only the basic HTML elements and attributes (txt-1) and has some
 * non-whitespace content (txt-2). Medplum's FHIRPath htmlChecks() always answers true, so these are
 * checked here. The element and attribute lists follow the HL7 reference validator.
 */

export interface XhtmlProblem {
  /** txt-1, txt-2, or undefined for well-formedness and namespace problems. */
  key?: 'txt-1' | 'txt-2';
  message: string;
  /** Not a fault, worth saying (the HL7 validator's information-level notes); an error otherwise. */
  information?: true;
}

const XHTML_NS = 'http://www.w3.org/1999/xhtml';

const allowedElements = new Set(
  (
    'p br div h1 h2 h3 h4 h5 h6 a span b em i strong small big tt dfn q var abbr acronym cite blockquote hr ' +
    'address bdo kbd sub sup ul ol li dl dt dd pre table caption colgroup col thead tr tfoot tbody th td code samp img map area'
  ).split(' '),
);

const allowedAttributes = new Set(
  (
    'title style class id lang xml:lang dir accesskey tabindex ' +
    // tables
    'span width align valign char charoff abbr axis headers scope rowspan colspan border cellpadding cellspacing summary'
  ).split(' '),
);

const elementAttributes: Record<string, Set<string>> = {
  a: new Set(['href', 'name']),
  img: new Set(['src', 'alt', 'height']),
  ol: new Set(['start', 'type']),
  ul: new Set(['type']),
  li: new Set(['value']),
  area: new Set(['shape', 'coords', 'href', 'alt', 'nohref']),
  map: new Set(['name']),
  blockquote: new Set(['cite']),
  q: new Set(['cite']),
};

/**
 * Schemes a narrative link may use: a reader can follow them. The HL7 validator refuses others, such
 * as `urn:uuid:` (a Bundle entry's identity, not a location): "… is not a valid hyperlinkable scheme".
 */
const hyperlinkSchemes = new Set(['http', 'https', 'ftp', 'mailto', 'tel', 'data']);

const predefinedEntities = new Set(['lt', 'gt', 'amp', 'quot', 'apos']);
const TOKEN = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\/?([A-Za-z][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<[^>]*>?|[^<]+/g;
const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

export function checkNarrativeDiv(div: string): XhtmlProblem[] {
  const problems: XhtmlProblem[] = [];
  const stack: string[] = [];
  let sawRoot = false;
  let hasContent = false;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(div); m; m = TOKEN.exec(div)) {
    const token = m[0];
    if (token.startsWith('<!--')) continue;
    if (token.startsWith('<![CDATA[')) {
      if (token.slice(9, -3).trim()) hasContent = true;
      continue;
    }
    const name = m[1];
    if (token.startsWith('<')) {
      if (!name) {
        problems.push({ message: `Narrative is not well-formed XHTML near ${JSON.stringify(token.slice(0, 40))}` });
        return problems;
      }
      if (token.startsWith('</')) {
        if (stack.pop() !== name) {
          problems.push({ message: `Narrative is not well-formed XHTML: unexpected </${name}>` });
          return problems;
        }
        continue;
      }
      const depth = stack.length;
      if (depth === 0 && sawRoot) {
        problems.push({ message: 'Narrative must be a single <div> element' });
        return problems;
      }
      const attributes = parseAttributes(m[2] ?? '');
      if (depth === 0) {
        sawRoot = true;
        if (name !== 'div') problems.push({ message: `Narrative must be a <div> element, found <${name}>` });
        if (attributes.get('xmlns') !== XHTML_NS) {
          problems.push({ message: `Narrative <div> must declare the XHTML namespace: <div xmlns="${XHTML_NS}">` });
        }
      }
      checkElement(name, attributes, depth === 0, problems);
      if (name === 'img') hasContent = true;
      if (m[3] !== '/') stack.push(name);
      continue;
    }
    if (stack.length === 0) {
      if (token.trim()) problems.push({ message: 'Narrative has text outside its <div>' });
      continue;
    }
    const entityProblem = checkEntities(token);
    if (entityProblem) problems.push({ message: entityProblem });
    if (token.trim()) hasContent = true;
  }
  if (!sawRoot) problems.push({ message: 'Narrative must be a <div> element' });
  else if (stack.length > 0) problems.push({ message: `Narrative is not well-formed XHTML: <${stack.at(-1)}> is not closed` });
  if (sawRoot && !hasContent) problems.push({ key: 'txt-2', message: 'The narrative SHALL have some non-whitespace content (txt-2)' });
  return problems;
}

function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  ATTRIBUTE.lastIndex = 0;
  for (let m = ATTRIBUTE.exec(source); m; m = ATTRIBUTE.exec(source)) attributes.set(m[1], m[2] ?? m[3] ?? '');
  return attributes;
}

function checkElement(name: string, attributes: Map<string, string>, isRoot: boolean, problems: XhtmlProblem[]): void {
  if (!allowedElements.has(name)) {
    problems.push({
      key: 'txt-1',
      message: `The narrative SHALL contain only basic HTML (txt-1): <${name}> is not allowed`,
    });
  }
  for (const [attribute, value] of attributes) {
    if (attribute === 'xmlns' || attribute.startsWith('xmlns:')) {
      if (!isRoot && attribute === 'xmlns' && value !== XHTML_NS) {
        problems.push({ key: 'txt-1', message: `<${name}> declares a namespace other than XHTML` });
      }
      continue;
    }
    if (attribute === 'xml:space' && name === 'pre') {
      problems.push({ information: true, message: "The attribute 'xml:space' is legal but has a fixed value of 'preserve'. Its use is discouraged" });
      continue;
    }
    if (allowedAttributes.has(attribute) || elementAttributes[name]?.has(attribute)) {
      if (attribute === 'href' && /^\s*javascript:/i.test(value)) {
        problems.push({ key: 'txt-1', message: 'The narrative SHALL contain only basic HTML (txt-1): javascript: links are not allowed' });
      } else if (attribute === 'href') {
        const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(value)?.[1];
        if (scheme && !hyperlinkSchemes.has(scheme.toLowerCase())) {
          problems.push({ message: `Hyperlink scheme '${scheme}' in '${value}' at <${name}> is not a valid hyperlinkable scheme` });
        }
      }
      continue;
    }
    problems.push({
      key: 'txt-1',
      message: `The narrative SHALL contain only basic HTML (txt-1): attribute ${attribute} is not allowed on <${name}>`,
    });
  }
}

/** FHIR narrative is XML without a DTD, so only the XML entities and character references exist. */
function checkEntities(text: string): string | undefined {
  const amp = /&([^;\s&]*);?/g;
  for (let m = amp.exec(text); m; m = amp.exec(text)) {
    const name = m[1];
    if (!m[0].endsWith(';')) return 'Narrative is not well-formed XHTML: "&" must be written &amp;';
    if (predefinedEntities.has(name) || /^#([0-9]+|x[0-9a-fA-F]+)$/.test(name)) continue;
    return `Narrative uses the entity &${name}; which XML does not define (use a character reference such as &#160;)`;
  }
  return undefined;
}
