import type { Bundle, Coding, MessageHeader, Reference, Resource } from '@medplum/fhirtypes';
import type { IssueInit } from '../errors.js';

/** One entry of a message Bundle, with where it sits. */
export interface MessageEntry {
  index: number;
  fullUrl?: string;
  resource: Resource;
  /** FHIRPath of the resource: `Bundle.entry[3].resource`. */
  path: string;
}

/** A message Bundle read far enough to route it (http://hl7.org/fhir/R4/messaging.html). */
export interface Message {
  bundle: Bundle;
  /** Bundle.id: the message identity the sender keeps across retries. */
  id?: string;
  header: MessageHeader;
  event: Coding;
  /** MessageHeader.reason.coding[0].code */
  reason?: string;
  /** MessageHeader.source.endpoint: who sent it, scoping Bundle ids and references. */
  source: string;
  entries: MessageEntry[];
  /** Focus references resolved to entries (http://hl7.org/fhir/R4/messageheader-definitions.html#MessageHeader.focus). */
  focus: MessageEntry[];
}

export const HEADER_PATH = 'Bundle.entry[0].resource';

/**
 * Reads the envelope of a FHIR message: a Bundle of type message whose first entry is a
 * MessageHeader with an event, and whose focus references resolve inside the Bundle. Every
 * problem is returned, each with its FHIRPath.
 */
export function readMessage(body: unknown): { message?: Message; issues: IssueInit[] } {
  const issues: IssueInit[] = [];
  if (!body || typeof body !== 'object' || Array.isArray(body) || (body as Resource).resourceType !== 'Bundle') {
    const rt = (body as { resourceType?: unknown } | null)?.resourceType;
    return { issues: [{ code: 'invalid', expression: 'Bundle', message: `$process-message takes a Bundle of type message, not ${typeof rt === 'string' ? `a ${rt}` : 'this body'}` }] };
  }
  const bundle = body as Bundle;
  if (bundle.type !== 'message') issues.push({ code: 'value', expression: 'Bundle.type', message: `Bundle.type must be 'message' for $process-message, not '${bundle.type ?? '(none)'}'` });
  if (!bundle.id) issues.push({ code: 'required', expression: 'Bundle.id', message: 'A message Bundle needs an id: it identifies the message when it is sent again' });
  const raw = Array.isArray(bundle.entry) ? bundle.entry : [];
  const entries: MessageEntry[] = [];
  const seen = new Set<string>();
  raw.forEach((e, index) => {
    const path = `Bundle.entry[${index}].resource`;
    if (!e?.resource || typeof e.resource !== 'object' || typeof e.resource.resourceType !== 'string') {
      issues.push({ code: 'required', expression: path, message: `Bundle.entry[${index}] has no resource` });
      return;
    }
    if (e.fullUrl) {
      if (seen.has(e.fullUrl)) issues.push({ code: 'invariant', expression: `Bundle.entry[${index}].fullUrl`, message: `fullUrl ${e.fullUrl} is used by two entries` });
      seen.add(e.fullUrl);
    }
    entries.push({ index, fullUrl: e.fullUrl, resource: e.resource, path });
  });
  const first = raw[0]?.resource;
  if (!first || first.resourceType !== 'MessageHeader') {
    issues.push({ code: 'required', expression: 'Bundle.entry[0]', message: `The first entry of a message must be a MessageHeader${first ? `, not a ${first.resourceType}` : ''}` });
    return { issues };
  }
  const header = first as MessageHeader;
  const event = header.eventCoding;
  if (!event?.code) {
    issues.push({ code: 'required', expression: `${HEADER_PATH}.eventCoding`, message: 'MessageHeader.eventCoding with a system and code is required: it names what the message asks for' });
    return { issues };
  }
  const focus = resolveFocus(header.focus as unknown, entries, issues);
  const message: Message = {
    bundle,
    id: bundle.id,
    header,
    event,
    reason: header.reason?.coding?.[0]?.code,
    source: header.source?.endpoint ?? '',
    entries,
    focus,
  };
  return { message, issues };
}

/**
 * The entries MessageHeader.focus names (0..* Reference). The header is read before it is
 * validated, so focus may be anything a client sent: a list item that is no Reference, or a
 * focus that is no list, is the message's problem, reported at its place, never a 500.
 */
function resolveFocus(raw: unknown, entries: MessageEntry[], issues: IssueInit[]): MessageEntry[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    issues.push({ code: 'structure', expression: `${HEADER_PATH}.focus`, message: 'MessageHeader.focus must be a list of References' });
    return [];
  }
  const focus: MessageEntry[] = [];
  raw.forEach((ref: unknown, i) => {
    const reference = (ref as Reference | null)?.reference;
    const target = typeof reference === 'string' ? resolve(entries, reference) : undefined;
    if (target) focus.push(target);
    else issues.push({ code: 'invalid', expression: `${HEADER_PATH}.focus[${i}]`, message: `MessageHeader.focus ${typeof reference === 'string' ? reference : '(no reference)'} does not resolve to an entry of the message` });
  });
  return focus;
}

/** The entry a reference points to: by fullUrl, or by `Type/id` of a resource with that id. */
export function resolve(entries: MessageEntry[], reference: string | undefined): MessageEntry | undefined {
  if (!reference) return undefined;
  const byUrl = entries.find((e) => e.fullUrl === reference);
  if (byUrl) return byUrl;
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(reference);
  if (!m) return undefined;
  return entries.find((e) => e.resource.resourceType === m[1] && (e.resource.id === m[2] || e.fullUrl?.endsWith(`${m[1]}/${m[2]}`)));
}

export function entriesOfType<T extends Resource>(message: Message, type: T['resourceType']): (MessageEntry & { resource: T })[] {
  return message.entries.filter((e) => e.resource.resourceType === type) as (MessageEntry & { resource: T })[];
}
