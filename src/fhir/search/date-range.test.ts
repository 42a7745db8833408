import { describe, expect, it } from 'vitest';
import { parseDateRange } from './date-range.js';

const iso = (v: string) => {
  const r = parseDateRange(v);
  return r && [r.lo.toISOString(), r.hi.toISOString()];
};

describe('parseDateRange', () => {
  it.each([
    ['2020', '2020-01-01T00:00:00.000Z', '2020-12-31T23:59:59.999Z'],
    ['2020-02', '2020-02-01T00:00:00.000Z', '2020-02-29T23:59:59.999Z'],
    ['2021-02-28', '2021-02-28T00:00:00.000Z', '2021-02-28T23:59:59.999Z'],
    ['2020-03-04T10:15', '2020-03-04T10:15:00.000Z', '2020-03-04T10:15:59.999Z'],
    ['2020-03-04T10:15:30Z', '2020-03-04T10:15:30.000Z', '2020-03-04T10:15:30.999Z'],
    ['2020-03-04T10:15:30.5+01:00', '2020-03-04T09:15:30.500Z', '2020-03-04T09:15:30.599Z'],
    ['2020-03-04T10:15:30.123Z', '2020-03-04T10:15:30.123Z', '2020-03-04T10:15:30.123Z'],
  ])('%s is the range %s .. %s', (value, lo, hi) => {
    expect(iso(value)).toEqual([lo, hi]);
  });

  it.each(['20', '2020-13', '2021-02-29', 'yesterday', '2020-01-01T25:00'])('rejects %s', (value) => {
    expect(parseDateRange(value)).toBeUndefined();
  });
});
