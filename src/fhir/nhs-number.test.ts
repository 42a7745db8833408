import { describe, expect, it } from 'vitest';
import { checkNhsNumber, describeNhsNumberProblem, isValidNhsNumber, nhsNumberCheckDigit } from './nhs-number.js';

describe('isValidNhsNumber', () => {
  it.each(['9000000009', '9434765919', '4010232137', '0000000000'])('accepts %s', (n) => {
    expect(isValidNhsNumber(n)).toBe(true);
  });

  it.each([
    ['9000000008', 'wrong check digit'],
    ['9434765918', 'wrong check digit'],
    ['900000000', 'nine digits'],
    ['90000000091', 'eleven digits'],
    ['900 000 0009', 'spaces'],
    ['90000000O9', 'a letter'],
    ['', 'empty'],
  ])('rejects %s (%s)', (n) => {
    expect(isValidNhsNumber(n)).toBe(false);
  });

  it('rejects numbers whose Modulus 11 result is 10', () => {
    const prefix = findPrefixWithCheckTen();
    expect(nhsNumberCheckDigit(prefix)).toBeUndefined();
    for (let d = 0; d <= 9; d++) expect(checkNhsNumber(prefix + d)).toEqual({ valid: false, reason: 'no-check-digit' });
  });

  it('maps a Modulus 11 result of 11 to check digit 0', () => {
    expect(nhsNumberCheckDigit('000000000')).toBe(0);
    expect(isValidNhsNumber('0000000000')).toBe(true);
  });
});

describe('describeNhsNumberProblem', () => {
  it('names the check digit and the expected one', () => {
    expect(describeNhsNumberProblem('9000000008')).toBe(
      'NHS number 9000000008 fails the Modulus 11 check: check digit is 8, expected 9',
    );
  });

  it('is undefined for a valid number', () => {
    expect(describeNhsNumberProblem('9000000009')).toBeUndefined();
  });

  it('explains a format problem', () => {
    expect(describeNhsNumberProblem('123')).toMatch(/exactly 10 digits/);
  });
});

function findPrefixWithCheckTen(): string {
  for (let i = 100000000; i < 100001000; i++) {
    const prefix = String(i);
    if (nhsNumberCheckDigit(prefix) === undefined) return prefix;
  }
  throw new Error('no prefix found');
}
