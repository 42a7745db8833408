import { stepwiseCanonical } from '../../fhir/canonical.js';

/**
 * The logical model of the NHS 111 Post Event Message subset Stepwise reads: one instance per
 * message, as JSON. Its definition (StructureDefinition of kind logical) is
 * mappings/nhs111-pem/logical/Nhs111Pem.json; maps/nhs111-pem-to-fhir.map maps an
 * instance to FHIR. Values are as the CDA document writes them (codes, OIDs, `tel:` URLs), except
 * times: HL7 v3 TS is read into FHIR dateTime by code (readHl7Timestamp; README: why).
 */
export const PEM_MODEL_URL = stepwiseCanonical('StructureDefinition', 'Nhs111Pem');
export const PEM_MODEL_NAME = 'Nhs111Pem';

export interface PemCode {
  code: string;
  codeSystem?: string;
  displayName?: string;
}

export interface PemTelecom {
  /** As written, with its scheme: `tel:01634775667`, `mailto:…`. */
  value: string;
  /** HL7 v3 TelecommunicationAddressUse: H, HP, HV, WP, MC, EC, … */
  use?: string;
}

export interface PemAddress {
  line?: string[];
  city?: string;
  postalCode?: string;
}

export interface PemName {
  prefix?: string[];
  given?: string[];
  family?: string;
  /** An unstructured name, as some participants carry. */
  text?: string;
}

export interface PemOrganization {
  odsCode?: string;
  name?: string;
  telecom?: PemTelecom[];
}

export interface Nhs111Pem {
  /** ITK DistributionEnvelope header trackingid. */
  trackingId?: string;
  /** ITK senderAddress, e.g. `urn:nhs-uk:addressing:ods:5L399:445510770`. */
  senderAddress?: string;
  /** ClinicalDocument/id/@root: the document's own identity (a UUID or an OID). */
  documentId: string;
  /** ClinicalDocument/id/@extension, when the root is an OID that needs one. */
  documentIdExtension?: string;
  /**
   * The referral message's Bundle.id, how a resend is recognised (code: messageIdOf): the root in
   * lower case when it alone is the identity and a FHIR id, else a name-based UUID of root and
   * extension.
   */
  messageId: string;
  /** ClinicalDocument/effectiveTime, as FHIR dateTime. */
  effectiveTime?: string;
  patient: {
    nhsNumber?: string;
    name?: PemName;
    /** NHS Data Dictionary person gender code (1, 2, 9, 0). */
    gender?: string;
    birthDate?: string;
    address?: PemAddress[];
    telecom?: PemTelecom[];
    gpPractice?: PemOrganization;
  };
  /** The author: the 111 clinician, and the organisation they work for, who referred. */
  author?: { name?: PemName; role?: PemCode; organization?: PemOrganization };
  /** The 111 call centre to call back (participant CALLBCK): its organisation, with the associated entity's number. */
  callback?: PemOrganization;
  /** Whoever gave information: carer, relative (informant/relatedEntity). */
  informant?: { relationship?: PemCode; name?: PemName; telecom?: PemTelecom[] };
  /** The 111 encounter (componentOf/encompassingEncounter). */
  encounter?: { caseRef?: string; caseId?: string; start?: string; end?: string; disposition?: PemCode };
  /** authorization/consent. */
  consent?: { code?: PemCode; status?: string };
  /** The "Primary Reason for Call" section's text. */
  reasonForCall?: string;
  /** The other sections, titled, as text. */
  sections?: { title: string; text: string }[];
  /** ClinicalDiscriminator entries: what NHS Pathways found. */
  discriminators?: PemCode[];
}

/** Where each field of an instance was read from: model path (`patient.nhsNumber`) → XPath. */
export type PemLocations = Map<string, string>;
