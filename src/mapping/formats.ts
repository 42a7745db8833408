import type { FormatName, PartnerFormat } from './format.js';

/**
 * The formats Stepwise reads and writes, by name. Each partner's module registers here once it
 * exists (mhsds/, nhs111/, bars/); `fhir` is the identity.
 */
const registered = new Map<FormatName, PartnerFormat>();

export function registerFormat(format: PartnerFormat): void {
  registered.set(format.name, format);
}

/** The format called `name`, or undefined when none is registered under it. */
export function formatOf(name: FormatName): PartnerFormat | undefined {
  return registered.get(name);
}
