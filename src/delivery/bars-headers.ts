/** Who we are on outbound BaRS requests. */
export interface Sender {
  odsCode: string;
  name: string;
  /** NHSD-Requesting-Software's device name and version. */
  software: { name: string; version: string };
}

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** BaRS JSON headers are Base64 of the JSON (booking-and-referral.yaml, the NHSD-* headers). */
function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

/**
 * The headers of a BaRS `$process-message` request (booking-and-referral.yaml): X-Request-ID is
 * the row's idempotency key, so a partner that receives a message twice can tell;
 * NHSD-Target-Identifier names the service the message is for (the address the referral came
 * from, `system|value`, unless the row gives it); NHSD-Requesting-Software and
 * NHSD-End-User-Organisation say who sends. Headers the row carries (X-Correlation-ID,
 * use-context) are kept; the sender's own never yield to them.
 */
export function barsRequestHeaders(opts: { stored: Record<string, string>; requestId: string; contentType: string; address: string; sender: Sender; authorization?: string }): Record<string, string> {
  const { stored, sender } = opts;
  const headers: Record<string, string> = { ...stored };
  const bar = opts.address.indexOf('|');
  if (!headers['NHSD-Target-Identifier'] && bar > 0) headers['NHSD-Target-Identifier'] = b64({ system: opts.address.slice(0, bar), value: opts.address.slice(bar + 1) });
  headers['NHSD-Requesting-Software'] ??= b64({
    resourceType: 'Device',
    identifier: [{ system: 'https://consumersupplier.com/Id/device-identifier', value: sender.software.name }],
    deviceName: [{ name: sender.software.name, type: 'manufacturer-name' }],
    version: [{ value: sender.software.version }],
  });
  headers['NHSD-End-User-Organisation'] ??= b64({ resourceType: 'Organization', identifier: [{ system: ODS, value: sender.odsCode }], name: sender.name });
  headers['X-Request-ID'] = opts.requestId;
  headers['Content-Type'] = opts.contentType;
  headers.Accept = opts.contentType;
  if (opts.authorization) headers.Authorization = opts.authorization;
  return headers;
}
