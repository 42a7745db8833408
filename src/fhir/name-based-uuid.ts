import { createHash } from 'node:crypto';

/**
 * A name-based UUID (RFC 9562 §5.5, version 5: SHA-1 of the parts, in order, with the version and
 * variant bits set): the same name always gives the same UUID, so a message or a document keeps
 * its id however often it is made again. The first part is the namespace where there is one.
 */
export function nameBasedUuid(...parts: (Buffer | string)[]): string {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  const h = hash.digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** A UUID named by a text of Stepwise's own: the same decision always gets the same X-Request-ID. */
export const stepwiseUuid = (text: string): string => nameBasedUuid(`stepwise:${text}`);
