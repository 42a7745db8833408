import { describe, expect, it } from 'vitest';
import { errors, summary } from './test-support.js';
import { createR4Validator } from './validator.js';

/** Attachment.size is the size of the data before base64 encoding (datatypes-definitions.html#Attachment.size). */

const validator = createR4Validator();
const media = (content: Record<string, unknown>) => ({ resourceType: 'Media', status: 'completed', content: { contentType: 'text/plain', ...content } });

describe('Attachment.size with inline data', () => {
  it('must be the number of bytes the data decodes to', () => {
    // "help i'm a bug": 14 bytes, 20 base64 characters with one '='
    expect(summary(errors(validator.validate(media({ data: 'aGVscCBpJ20gYSBidWc=', size: 100 }))))).toEqual([
      'error Media.content: Stated Attachment Size 100 does not match actual attachment size 14',
    ]);
    expect(errors(validator.validate(media({ data: 'aGVscCBpJ20gYSBidWc=', size: 14 })))).toEqual([]);
    expect(errors(validator.validate(media({ data: 'aGk=', size: 2 })))).toEqual([]);
    expect(errors(validator.validate(media({ data: 'aGVsbG8h', size: 6 })))).toEqual([]);
  });

  it('is not compared without data (the attachment is elsewhere)', () => {
    expect(errors(validator.validate(media({ url: 'https://example.net/doc.txt', size: 100 })))).toEqual([]);
  });
});
