import { z } from 'zod';

/*
 * STEPWISE_PARTNERS and the delivery settings: where outbound messages go (src/delivery), and with
 * which credentials. Part of the configuration, so config.ts reads it without depending on
 * delivery; delivery takes the parsed list.
 */

const url = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL')
  .transform((u) => u.replace(/\/+$/, ''));

const authSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  /** A fixed bearer token the partner issued. */
  z.object({ type: z.literal('bearer'), token: z.string().min(1) }),
  /**
   * SMART Backend Services (https://hl7.org/fhir/smart-app-launch/backend-services.html): a
   * client_credentials grant with a JWT assertion signed by our private key (PKCS#8 PEM, or a
   * private JWK as JSON), exchanged at the partner's token endpoint for an access token.
   */
  z.object({
    type: z.literal('smart-backend'),
    tokenUrl: url,
    clientId: z.string().min(1),
    privateKey: z.string().min(1),
    alg: z.enum(['RS384', 'ES384']).default('ES384'),
    kid: z.string().min(1).optional(),
    scope: z.string().min(1).default('system/*.c'),
  }),
]);

const partnerSchema = z
  .object({
    /** Short stable name: how operators and outbox rows name the partner. */
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, underscore and hyphen'),
    /** The partner's FHIR base; BaRS messages are posted to `<endpoint>/$process-message`. */
    endpoint: url,
    /**
     * The addresses its messages come from, as BaRS MessageHeader.source.endpoint names them
     * (`https://fhir.nhs.uk/Id/dos-service-id|<DoS id>`): a referral from one of them has its answers
     * and triage outcome delivered here, with NHSD-Target-Identifier that address.
     */
    addresses: z.array(z.string().min(1)).default([]),
    /**
     * The teams reached through this partner, as Stepwise names them (`Organization/<id>`, the
     * receiving team a handover Task is owned by): a step-down handover to one of them is sent here
     * as a BaRS handover message (delivery/handover-message.ts). The message's destination is the
     * team's DoS service id when its Organization has one, else the partner's first address (so a
     * partner with teams needs an address).
     */
    teams: z.array(z.string().regex(/^Organization\/[A-Za-z0-9\-.]{1,64}$/, 'a team is named Organization/<id>')).min(1).optional(),
    auth: authSchema.default({ type: 'none' }),
    /** Seconds a request to the partner may take before it counts as failed. */
    timeoutSeconds: z.number().positive().max(300).default(30),
  })
  .refine((p) => !p.teams || p.addresses.length > 0, { message: 'a partner that reaches teams needs an address: the destination of what is sent to them', path: ['addresses'] });

export type PartnerAuth = z.infer<typeof authSchema>;
export type Partner = z.infer<typeof partnerSchema>;

const partnersSchema = z
  .array(partnerSchema)
  .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'two partners share an id')
  .refine((list) => {
    const all = list.flatMap((p) => p.addresses);
    return new Set(all).size === all.length;
  }, 'two partners share an address')
  .refine((list) => {
    const all = list.flatMap((p) => p.teams ?? []);
    return new Set(all).size === all.length;
  }, 'two partners reach the same team');

export const PARTNERS_ENV = 'STEPWISE_PARTNERS';

export class PartnersConfigError extends Error {
  override name = 'PartnersConfigError';
}

/**
 * The partners: none, or the JSON array in STEPWISE_PARTNERS (each item {id, endpoint, addresses,
 * auth, timeoutSeconds}). A bad value throws naming the variable and the item.
 */
export function loadPartners(env: Record<string, string | undefined> = process.env): Partner[] {
  const raw = env[PARTNERS_ENV]?.trim();
  if (!raw) return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new PartnersConfigError(`Invalid configuration:\n  ${PARTNERS_ENV}: not JSON (${(err as Error).message})`);
  }
  const parsed = partnersSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${PARTNERS_ENV}${i.path.map((p) => `[${JSON.stringify(p)}]`).join('')}: ${i.message}`);
    throw new PartnersConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** The partner a team (`Organization/<id>`) is reached through, if it is not one of ours. */
export function partnerForTeam(partners: readonly Partner[], team: string): Partner | undefined {
  return partners.find((p) => p.teams?.includes(team));
}

/** The partner a message for `address` goes to: by its id, or one of its addresses. */
export function partnerFor(partners: readonly Partner[], address: string): Partner | undefined {
  return partners.find((p) => p.id === address) ?? partners.find((p) => p.addresses.includes(address));
}
