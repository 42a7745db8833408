import type { ValueCheck } from './context.js';

/**
 * Attachment.size is "the number of bytes of data that make up this attachment (before base64
 * encoding, if that is done)" (http://hl7.org/fhir/R4/datatypes-definitions.html#Attachment.size):
 * with the data inline, the two must agree. The HL7 validator's message: "Stated Attachment Size …
 * does not match actual attachment size …".
 */
export const attachmentSizeRule: ValueCheck = (value, path, ctx) => {
  const attachment = value as { data?: unknown; size?: unknown };
  if (typeof attachment.data !== 'string' || typeof attachment.size !== 'number') return;
  const base64 = attachment.data.replace(/\s+/g, '');
  // malformed base64 is reported by the base64Binary check; its size cannot be known
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) return;
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  const actual = (base64.length / 4) * 3 - padding;
  if (actual !== attachment.size) ctx.issues.error('value', path, `Stated Attachment Size ${attachment.size} does not match actual attachment size ${actual}`, 'attachment-size');
};
