/**
 * NHS number check digit (Modulus 11), as published in the NHS Data Dictionary
 * (https://www.datadictionary.nhs.uk/attributes/nhs_number.html): multiply digits 1-9 by the
 * weights 10..2, sum, check = 11 - (sum mod 11); a result of 11 becomes 0 and a result of 10
 * means the number can never be valid. The tenth digit must equal the check.
 */

export type NhsNumberCheck =
  | { valid: true }
  | { valid: false; reason: 'format' }
  | { valid: false; reason: 'check-digit'; actual: number; expected: number }
  | { valid: false; reason: 'no-check-digit' };

/** The expected check digit for the first nine digits, or undefined when Modulus 11 yields 10. */
export function nhsNumberCheckDigit(firstNine: string): number | undefined {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (firstNine.charCodeAt(i) - 48) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return undefined;
  return check === 11 ? 0 : check;
}

/** Checks a 10-digit NHS number (no spaces) and says what is wrong with it. */
export function checkNhsNumber(value: string): NhsNumberCheck {
  if (!/^\d{10}$/.test(value)) return { valid: false, reason: 'format' };
  const expected = nhsNumberCheckDigit(value);
  if (expected === undefined) return { valid: false, reason: 'no-check-digit' };
  const actual = value.charCodeAt(9) - 48;
  return actual === expected ? { valid: true } : { valid: false, reason: 'check-digit', actual, expected };
}

export function isValidNhsNumber(value: string): boolean {
  return checkNhsNumber(value).valid;
}

/** A sentence a person can act on, or undefined when the number is valid. */
export function describeNhsNumberProblem(value: string): string | undefined {
  const result = checkNhsNumber(value);
  if (result.valid) return undefined;
  switch (result.reason) {
    case 'format':
      return `NHS number ${JSON.stringify(value)} must be exactly 10 digits with no spaces`;
    case 'no-check-digit':
      return `NHS number ${value} fails the Modulus 11 check: its first nine digits give a check value of 10, so no NHS number can start with them`;
    case 'check-digit':
      return `NHS number ${value} fails the Modulus 11 check: check digit is ${result.actual}, expected ${result.expected}`;
  }
}
