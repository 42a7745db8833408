import { z } from 'zod';

/*
 * STEPWISE_BARS_SERVICES: the services this deployment hosts for BaRS. Part of the configuration, so
 * config.ts reads it without depending on messaging; messaging takes the parsed list.
 */

/** MessageDefinitions of the BaRS package (uk.nhsdigital.bars.r4 1.34.0) that a service can accept. */
export const MD = {
  referral: 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral',
  validation: 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-validation',
  cancelled: 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-cancelled',
  responseReferral: 'https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-response-referral',
  booking: 'https://fhir.nhs.uk/MessageDefinition/bars-message-booking-request',
} as const;

const serviceSchema = z.object({
  /** Short stable name, used in MessageDefinition ids. */
  key: z.string().regex(/^[a-z0-9-]{1,32}$/, 'lowercase letters, digits and hyphens'),
  name: z.string().min(1),
  /** Directory of Services id (https://fhir.nhs.uk/Id/dos-service-id). */
  dosId: z.string().regex(/^\d{1,12}$/, 'a DoS service id is digits'),
  /** BaRS use cases (https://fhir.nhs.uk/CodeSystem/usecases-categories-bars) the service takes. */
  useCases: z.array(z.string().min(1)).min(1),
  /** Canonical URLs of the BaRS MessageDefinitions the service accepts. */
  definitions: z.array(z.enum(Object.values(MD) as [string, ...string[]])).min(1),
});

export type HostedService = z.infer<typeof serviceSchema>;

const servicesSchema = z
  .array(serviceSchema)
  .min(1)
  .refine((list) => new Set(list.map((s) => s.dosId)).size === list.length, 'two services share a DoS id')
  .refine((list) => new Set(list.map((s) => s.key)).size === list.length, 'two services share a key');

/**
 * The services Stepwise hosts for BaRS. The DoS ids are placeholders that each deployment replaces
 * with its own through STEPWISE_BARS_SERVICES.
 */
export const DEFAULT_SERVICES: HostedService[] = [
  {
    key: 'front-door',
    name: 'Mental health single point of access (front door)',
    dosId: '2000072001',
    useCases: ['a3t1', 'a4t3', 'a5t1'],
    definitions: [MD.referral, MD.cancelled, MD.responseReferral],
  },
  {
    key: 'crisis-line',
    name: 'Mental health crisis line (24/7)',
    dosId: '2000072002',
    useCases: ['a1t1', 'a1t3', 'a1t5', 'a3t1', 'a4t1'],
    definitions: [MD.referral, MD.validation, MD.cancelled],
  },
  {
    key: 'cmht',
    name: 'Community mental health team',
    dosId: '2000072003',
    useCases: ['a4t3', 'a5t1'],
    definitions: [MD.referral, MD.cancelled],
  },
];

export const SERVICES_ENV = 'STEPWISE_BARS_SERVICES';

export class ServicesConfigError extends Error {
  override name = 'ServicesConfigError';
}

/**
 * The hosted services: DEFAULT_SERVICES, or the JSON array in STEPWISE_BARS_SERVICES (each item
 * {key, name, dosId, useCases, definitions}). A bad value throws naming the variable and the item.
 */
export function loadServices(env: Record<string, string | undefined> = process.env): HostedService[] {
  const raw = env[SERVICES_ENV]?.trim();
  if (!raw) return DEFAULT_SERVICES;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new ServicesConfigError(`${SERVICES_ENV}: not JSON (${(err as Error).message})`);
  }
  const parsed = servicesSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${SERVICES_ENV}${i.path.map((p) => `[${JSON.stringify(p)}]`).join('')}: ${i.message}`);
    throw new ServicesConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
