import { FhirError, FhirErrorCode } from '../errors.js';
import { FORMAT_NAMES, isFormatName, type FormatName, type PartnerFormat } from './format.js';

/**
 * The formats Stepwise reads and writes, by name. Each partner's module registers here once it
 * exists (mhsds/, nhs111/, bars/): one line in registered-formats.ts; `fhir` is the identity.
 */
const registered = new Map<FormatName, PartnerFormat>();

export function registerFormat(format: PartnerFormat): void {
  registered.set(format.name, format);
}

/** The format called `name`, or undefined when none is registered under it. */
export function formatOf(name: FormatName): PartnerFormat | undefined {
  return registered.get(name);
}

/**
 * The format a request names, able to go in the direction asked: 400 for a name that is no format,
 * 501 for a known format not yet served (or not in that direction). `where` is the request's
 * location of the name (`format`, `--from`).
 */
export function requireFormat(name: string | undefined, direction: 'read' | 'write', where: string): PartnerFormat {
  if (!name || !isFormatName(name)) {
    throw new FhirError(FhirErrorCode.INVALID, { message: `'${name ?? ''}' is not a format; the formats are ${FORMAT_NAMES.join(', ')}`, expression: where });
  }
  const format = registered.get(name);
  if (!format?.[direction]) {
    const served = FORMAT_NAMES.filter((n) => registered.get(n)?.[direction]);
    throw new FhirError(FhirErrorCode.NOT_SUPPORTED, {
      message: `The format '${name}' cannot yet be ${direction === 'read' ? 'read' : 'written'} by this server; it can ${direction} ${served.join(', ') || 'none'}`,
      expression: where,
    });
  }
  return format;
}
