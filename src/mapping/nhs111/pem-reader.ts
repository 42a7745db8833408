import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FhirError, FhirErrorCode } from '../../errors.js';
import { nameBasedUuid } from '../../fhir/name-based-uuid.js';
import { readHl7Timestamp } from './hl7-time.js';
import { child, childrenNamed, descend, readLocatedXml, type XmlElement } from './located-xml.js';
import type { Nhs111Pem, PemAddress, PemCode, PemLocations, PemName, PemOrganization, PemTelecom } from './pem-model.js';

/** OIDs the PEM uses for identifiers (NHS Connecting for Health OID register). */
export const PEM_OID = {
  nhsNumber: '2.16.840.1.113883.2.1.4.1',
  snomed: '2.16.840.1.113883.2.1.3.2.4.15',
  caseRef: '2.16.840.1.113883.2.1.3.2.4.18.34',
  caseId: '2.16.840.1.113883.2.1.3.2.4.18.35',
} as const;

/** The section code of "Primary Reason for Call" (SNOMED CT 886891000000102, Presenting complaints or issues). */
const REASON_FOR_CALL = '886891000000102';

export interface ReadPem {
  pem: Nhs111Pem;
  at: PemLocations;
  issues: OperationOutcomeIssue[];
}

const unreadable = (message: string, expression?: string): FhirError =>
  new FhirError(FhirErrorCode.INVALID, { message, expression, code: 'structure' });

/**
 * Step 1 of nhs111-pem (code: the mapping language cannot read XML): the ITK 2.2 SOAP envelope
 * (or a bare ClinicalDocument) into an instance of the logical model, with where each field was.
 * Only a document that cannot be read is refused (FhirError INVALID); what it says is read as it
 * is and judged later (pem-defects.ts).
 */
export function readPem(xml: string): ReadPem {
  const root = readLocatedXml(xml);
  const doc = clinicalDocumentOf(root);
  const at: PemLocations = new Map();
  const issues: OperationOutcomeIssue[] = [];
  const reader = new FieldReader(at, issues);

  const docId = child(doc, 'id');
  const documentId = docId?.attributes.root;
  if (!documentId) throw unreadable('The ClinicalDocument has no id/@root: a Post Event Message names itself', `${doc.path}/id/@root`);
  at.set('documentId', `${docId.path}/@root`);
  const documentIdExtension = reader.attr('documentIdExtension', docId, 'extension');

  const header = descend(root, 'Body', 'DistributionEnvelope', 'header');
  const patientRole = descend(doc, 'recordTarget', 'patientRole');
  if (!patientRole) throw unreadable('The ClinicalDocument has no recordTarget/patientRole: nobody to refer', `${doc.path}/recordTarget`);
  const person = child(patientRole, 'patient');
  const assignedAuthor = descend(doc, 'author', 'assignedAuthor');
  const callback = childrenNamed(doc, 'participant').find((p) => p.attributes.typeCode === 'CALLBCK');
  const related = descend(doc, 'informant', 'relatedEntity');
  const encounter = descend(doc, 'componentOf', 'encompassingEncounter');
  const consent = descend(doc, 'authorization', 'consent');

  const pem: Nhs111Pem = {
    trackingId: reader.attr('trackingId', header, 'trackingid'),
    senderAddress: reader.attr('senderAddress', child(header, 'senderAddress'), 'uri'),
    documentId,
    documentIdExtension,
    messageId: messageIdOf(documentId, documentIdExtension),
    effectiveTime: reader.time('effectiveTime', child(doc, 'effectiveTime')),
    patient: {
      nhsNumber: reader.attr('patient.nhsNumber', childrenNamed(patientRole, 'id').find((i) => i.attributes.root === PEM_OID.nhsNumber), 'extension'),
      name: reader.name('patient.name', child(person, 'name')),
      gender: reader.attr('patient.gender', child(person, 'administrativeGenderCode'), 'code'),
      birthDate: reader.time('patient.birthDate', child(person, 'birthTime')),
      address: childrenNamed(patientRole, 'addr').map((a, i) => reader.address(`patient.address[${i}]`, a)),
      telecom: reader.telecoms('patient.telecom', patientRole),
      gpPractice: reader.organization('patient.gpPractice', child(patientRole, 'providerOrganization')),
    },
    author: assignedAuthor && {
      name: reader.name('author.name', descend(assignedAuthor, 'assignedPerson', 'name')),
      role: reader.code('author.role', child(assignedAuthor, 'code')),
      organization: reader.organization('author.organization', child(assignedAuthor, 'representedOrganization')),
    },
    // the number to call back is the associated entity's (the call centre), named by its organisation
    callback: callback && reader.organization('callback', descend(callback, 'associatedEntity', 'scopingOrganization'), child(callback, 'associatedEntity')),
    informant: related && {
      relationship: reader.code('informant.relationship', child(related, 'code')),
      name: reader.name('informant.name', descend(related, 'relatedPerson', 'name')),
      telecom: reader.telecoms('informant.telecom', related),
    },
    encounter: encounter && {
      caseRef: reader.attr('encounter.caseRef', childrenNamed(encounter, 'id').find((i) => i.attributes.root === PEM_OID.caseRef), 'extension'),
      caseId: reader.attr('encounter.caseId', childrenNamed(encounter, 'id').find((i) => i.attributes.root === PEM_OID.caseId), 'extension'),
      start: reader.time('encounter.start', descend(encounter, 'effectiveTime', 'low')),
      end: reader.time('encounter.end', descend(encounter, 'effectiveTime', 'high')),
      disposition: reader.code('encounter.disposition', child(encounter, 'dischargeDispositionCode')),
    },
    consent: consent && {
      code: reader.code('consent.code', child(consent, 'code')),
      status: reader.attr('consent.status', child(consent, 'statusCode'), 'code'),
    },
    ...reader.sections(doc),
    discriminators: reader.discriminators(doc),
  };
  issues.push(...notRead(doc));
  if (!pem.senderAddress) {
    // MessageHeader.source.endpoint: without it the referral can be neither answered nor told from a resend.
    throw unreadable('The ITK header has no senderAddress/@uri: the sender of the Post Event Message cannot be named', `${header?.path ?? root.path}/senderAddress/@uri`);
  }
  return { pem: prune(pem) as Nhs111Pem, at, issues };
}

/**
 * Step in code "message id" (the language has no hash): a FHIR id is at most 64 of
 * [A-Za-z0-9-.], so a document identified by root and extension, or by a root that is no FHIR id,
 * gets a name-based UUID (RFC 9562 version 5, SHA-1) of `root^extension`: the same document always
 * gets the same id, two documents never share one.
 */
export function messageIdOf(root: string, extension: string | undefined): string {
  if (extension === undefined && /^[A-Za-z0-9.-]{1,64}$/.test(root)) return root.toLowerCase();
  return nameBasedUuid(PEM_ID_NAMESPACE, `${root}^${extension ?? ''}`);
}

/** The namespace of those UUIDs: the RFC 9562 OID namespace (6ba7b812-9dad-11d1-80b4-00c04fd430c8), as bytes. */
const PEM_ID_NAMESPACE = Buffer.from('6ba7b8129dad11d180b400c04fd430c8', 'hex');

/** The ClinicalDocument: the envelope's payload, or the root itself. */
function clinicalDocumentOf(root: XmlElement): XmlElement {
  if (root.name === 'ClinicalDocument') return root;
  if (root.name !== 'Envelope') {
    throw unreadable(`<${root.name}> is neither an ITK SOAP Envelope nor a CDA ClinicalDocument`, root.path);
  }
  const payloads = childrenNamed(descend(root, 'Body', 'DistributionEnvelope', 'payloads'), 'payload');
  const doc = payloads.map((p) => child(p, 'ClinicalDocument')).find((d) => d !== undefined);
  if (!doc) throw unreadable('The ITK DistributionEnvelope carries no CDA ClinicalDocument payload', `${root.path}/Body/DistributionEnvelope/payloads`);
  return doc;
}

/** Parts of a PEM Stepwise does not map, each named where it is (never dropped silently). */
const NOT_READ: Record<string, string> = {
  observationMedia: 'the NHS Pathways case (base64) is not mapped: it stays in the source document',
  encounter: 'the appointment reference is not mapped (booking is not part of a referral here)',
  informationRecipient: 'the information recipient is not mapped: Stepwise is the recipient',
};

function notRead(doc: XmlElement): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const visit = (element: XmlElement): void => {
    for (const c of element.children) {
      const why = NOT_READ[c.name];
      if (why) {
        const diagnostics = `<${c.name}>: ${why}`;
        issues.push({ severity: 'information', code: 'informational', diagnostics, details: { text: diagnostics }, expression: [c.path] });
      } else visit(c);
    }
  };
  visit(doc);
  return issues;
}

/** Reads fields, remembering where each came from. */
class FieldReader {
  constructor(
    private readonly at: PemLocations,
    private readonly issues: OperationOutcomeIssue[],
  ) {}

  attr(field: string, element: XmlElement | undefined, name: string): string | undefined {
    const value = element?.attributes[name]?.trim();
    if (!element || !value || element.attributes.nullFlavor) return undefined;
    this.at.set(field, `${element.path}/@${name}`);
    return value;
  }

  text(field: string, element: XmlElement | undefined): string | undefined {
    if (!element?.text) return undefined;
    this.at.set(field, element.path);
    return element.text;
  }

  /** HL7 v3 TS → FHIR date/dateTime; a value FHIR cannot hold is reported, not guessed. */
  time(field: string, element: XmlElement | undefined): string | undefined {
    const raw = this.attr(field, element, 'value');
    if (raw === undefined) return undefined;
    const value = readHl7Timestamp(raw);
    if (value === undefined) {
      const diagnostics = `'${raw}' is not an HL7 v3 point in time FHIR can hold (YYYYMMDD[HHMM[SS]] with a time zone once a time is given): not mapped`;
      this.issues.push({ severity: 'warning', code: 'value', diagnostics, details: { text: diagnostics }, expression: [`${element!.path}/@value`] });
      this.at.delete(field);
    }
    return value;
  }

  code(field: string, element: XmlElement | undefined): PemCode | undefined {
    const code = this.attr(`${field}.code`, element, 'code');
    if (code === undefined) return undefined;
    return {
      code,
      codeSystem: this.attr(`${field}.codeSystem`, element, 'codeSystem'),
      displayName: this.attr(`${field}.displayName`, element, 'displayName'),
    };
  }

  name(field: string, element: XmlElement | undefined): PemName | undefined {
    if (!element) return undefined;
    const parts = (n: string) => childrenNamed(element, n).map((e) => e.text).filter(Boolean);
    const given = parts('given');
    const prefix = parts('prefix');
    const family = parts('family')[0];
    this.at.set(field, element.path);
    if (!given.length && !prefix.length && !family) return element.text ? { text: element.text } : undefined;
    return { prefix: prefix.length ? prefix : undefined, given: given.length ? given : undefined, family };
  }

  address(field: string, element: XmlElement): PemAddress {
    this.at.set(field, element.path);
    const line = childrenNamed(element, 'streetAddressLine').map((e) => e.text).filter(Boolean);
    return { line: line.length ? line : undefined, city: child(element, 'city')?.text || undefined, postalCode: child(element, 'postalCode')?.text || undefined };
  }

  telecoms(field: string, parent: XmlElement | undefined): PemTelecom[] | undefined {
    const list = childrenNamed(parent, 'telecom').filter((t) => t.attributes.value && !t.attributes.nullFlavor);
    list.forEach((t, i) => this.at.set(`${field}[${i}]`, `${t.path}/@value`));
    return list.length ? list.map((t) => ({ value: t.attributes.value, use: t.attributes.use })) : undefined;
  }

  /** An organisation; its telecom from `telecomOf` when another element carries the number. */
  organization(field: string, element: XmlElement | undefined, telecomOf = element): PemOrganization | undefined {
    if (!element) return undefined;
    return {
      odsCode: this.attr(`${field}.odsCode`, child(element, 'id'), 'extension'),
      name: this.text(`${field}.name`, child(element, 'name')),
      telecom: this.telecoms(`${field}.telecom`, telecomOf),
    };
  }

  /** Every section of the body, at any depth: the reason for call on its own, the rest by title. */
  sections(doc: XmlElement): Pick<Nhs111Pem, 'reasonForCall' | 'sections'> {
    const found: { title: string; text: string }[] = [];
    let reasonForCall: string | undefined;
    const visit = (element: XmlElement): void => {
      for (const c of element.children) {
        if (c.name !== 'section') {
          if (c.name === 'component' || c.name === 'structuredBody') visit(c);
          continue;
        }
        const text = child(c, 'text');
        const title = child(c, 'title')?.text;
        if (child(c, 'code')?.attributes.code === REASON_FOR_CALL && text?.text) {
          reasonForCall = this.text('reasonForCall', text);
        } else if (title && text?.text) {
          this.at.set(`sections[${found.length}]`, text.path);
          found.push({ title, text: text.text });
        }
        visit(c);
      }
    };
    visit(doc);
    return { reasonForCall, sections: found.length ? found : undefined };
  }

  /** The ClinicalDiscriminator observations (template COCD_TP146092GB01): what Pathways found. */
  discriminators(doc: XmlElement): PemCode[] | undefined {
    const found: PemCode[] = [];
    const visit = (element: XmlElement): void => {
      for (const c of element.children) {
        if (c.name === 'observation' && child(c, 'code')?.attributes.code === 'CD') {
          const value = this.code(`discriminators[${found.length}]`, child(c, 'value'));
          if (value) found.push(value);
        } else visit(c);
      }
    };
    visit(child(doc, 'component') ?? doc);
    return found.length ? found : undefined;
  }
}

/** Drops undefined fields and empty objects, so the instance holds only what the source said. */
function prune(value: unknown): unknown {
  if (Array.isArray(value)) {
    const list = value.map(prune).filter((v) => v !== undefined);
    return list.length ? list : undefined;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = prune(v);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return value;
}
