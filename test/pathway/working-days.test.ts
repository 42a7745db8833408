import { describe, expect, it } from 'vitest';
import { addWorkingDays, bankHolidays, easterSunday, isWorkingDay, londonDate } from '../../src/pathway/working-days.js';

// https://www.gov.uk/bank-holidays (England and Wales), checked by hand for each year
const GOV_UK: Record<number, string[]> = {
  2020: ['2020-01-01', '2020-04-10', '2020-04-13', '2020-05-08', '2020-05-25', '2020-08-31', '2020-12-25', '2020-12-28'],
  2021: ['2021-01-01', '2021-04-02', '2021-04-05', '2021-05-03', '2021-05-31', '2021-08-30', '2021-12-27', '2021-12-28'],
  2022: ['2022-01-03', '2022-04-15', '2022-04-18', '2022-05-02', '2022-06-02', '2022-08-29', '2022-12-26', '2022-12-27'],
  2023: ['2023-01-02', '2023-04-07', '2023-04-10', '2023-05-01', '2023-05-29', '2023-08-28', '2023-12-25', '2023-12-26'],
  2024: ['2024-01-01', '2024-03-29', '2024-04-01', '2024-05-06', '2024-05-27', '2024-08-26', '2024-12-25', '2024-12-26'],
  2025: ['2025-01-01', '2025-04-18', '2025-04-21', '2025-05-05', '2025-05-26', '2025-08-25', '2025-12-25', '2025-12-26'],
  2026: ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28'],
  2027: ['2027-01-01', '2027-03-26', '2027-03-29', '2027-05-03', '2027-05-31', '2027-08-30', '2027-12-27', '2027-12-28'],
};

describe('bank holidays of England and Wales', () => {
  it.each(Object.entries(GOV_UK))('%s matches gov.uk (regular days, substitutes, moved days)', (year, expected) => {
    expect(bankHolidays(Number(year))).toEqual(expected);
  });

  it.each([
    [2008, '2008-03-23'],
    [2011, '2011-04-24'],
    [2019, '2019-04-21'],
    [2024, '2024-03-31'],
    [2026, '2026-04-05'],
    [2038, '2038-04-25'],
    [2285, '2285-03-22'],
  ])('Easter Sunday %i is %s', (year, date) => {
    expect(easterSunday(year)).toBe(date);
  });

  it.each([
    ['2022-06-03', false, 'Platinum Jubilee (proclaimed)'],
    ['2022-09-19', false, 'state funeral (proclaimed)'],
    ['2023-05-08', false, 'coronation (proclaimed)'],
    ['2026-12-28', false, 'Boxing Day substitute'],
    ['2027-12-27', false, 'Christmas Day substitute'],
    ['2026-03-02', true, 'an ordinary Monday'],
    ['2026-03-07', false, 'a Saturday'],
  ])('%s is a working day: %s (%s)', (date, working) => {
    expect(isWorkingDay(date)).toBe(working);
  });
});

describe('addWorkingDays', () => {
  it.each([
    ['Monday + 1 is Tuesday', '2026-03-02T09:00:00Z', 1, '2026-03-03T09:00:00.000Z'],
    ['Friday + 1 is Monday', '2026-03-06T15:30:00Z', 1, '2026-03-09T15:30:00.000Z'],
    ['Saturday + 1 is Monday', '2026-03-07T10:00:00Z', 1, '2026-03-09T10:00:00.000Z'],
    ['Maundy Thursday + 1 skips Good Friday, the weekend and Easter Monday', '2026-04-02T10:00:00+01:00', 1, '2026-04-07T09:00:00.000Z'],
    ['Christmas Eve 2026 + 1 skips Christmas, the weekend and the Boxing Day substitute', '2026-12-24T12:00:00Z', 1, '2026-12-29T12:00:00.000Z'],
    ['Christmas Eve 2027 + 1 skips both substitute days', '2027-12-24T12:00:00Z', 1, '2027-12-29T12:00:00.000Z'],
    ['New Year 2022 + 1: Saturday 1st, substitute Monday 3rd, so Tuesday', '2021-12-31T09:00:00Z', 1, '2022-01-04T09:00:00.000Z'],
    ['zero working days is the same instant', '2026-03-07T10:00:00Z', 0, '2026-03-07T10:00:00.000Z'],
    ['5 working days over the early May holiday', '2026-04-30T09:00:00+01:00', 5, '2026-05-08T08:00:00.000Z'],
    ['keeps London wall time across the spring clock change (09:00 GMT -> 09:00 BST)', '2026-03-27T09:00:00Z', 1, '2026-03-30T08:00:00.000Z'],
    ['keeps London wall time across the autumn clock change', '2026-10-23T09:00:00+01:00', 1, '2026-10-26T09:00:00.000Z'],
    ['London date decides, not UTC: 23:30 BST Friday is Friday', '2026-06-05T22:30:00Z', 1, '2026-06-08T22:30:00.000Z'],
  ])('%s', (_name, from, n, expected) => {
    expect(addWorkingDays(new Date(from), n).toISOString()).toBe(expected);
  });

  it('skips configured one-off holidays', () => {
    const from = new Date('2026-03-02T09:00:00Z');
    expect(addWorkingDays(from, 1, { extraHolidays: ['2026-03-03'] }).toISOString()).toBe('2026-03-04T09:00:00.000Z');
  });

  it('refuses a negative or fractional count', () => {
    expect(() => addWorkingDays(new Date(), -1)).toThrow(RangeError);
    expect(() => addWorkingDays(new Date(), 1.5)).toThrow(RangeError);
  });

  it('reads dates in London time', () => {
    expect(londonDate(new Date('2026-06-05T23:30:00Z'))).toBe('2026-06-06');
    expect(londonDate(new Date('2026-01-05T23:30:00Z'))).toBe('2026-01-05');
  });
});

describe('addWorkingDays (property)', () => {
  it('lands on a working day with exactly n working days after the start date, at the same London time', async () => {
    const fc = (await import('fast-check')).default;
    fc.assert(
      fc.property(fc.date({ min: new Date('2019-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }), fc.integer({ min: 1, max: 30 }), (from, n) => {
        const to = addWorkingDays(from, n);
        const end = londonDate(to);
        expect(isWorkingDay(end)).toBe(true);
        let count = 0;
        for (let d = new Date(`${londonDate(from)}T12:00:00Z`); londonDate(d) < end; ) {
          d = new Date(d.getTime() + 86_400_000);
          if (isWorkingDay(londonDate(d))) count++;
        }
        expect(count).toBe(n);
        const wall = (x: Date) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(x);
        // clocks change on Sundays, never a working day, so every wall time exists on the day landed on
        expect(wall(to)).toBe(wall(from));
      }),
      { numRuns: 300 },
    );
  });
});
