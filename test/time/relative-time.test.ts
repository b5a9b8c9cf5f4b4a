import { describe, expect, it } from 'vitest';
import { resolveDay, resolveTime, startOfLastWeekday } from '../../src/time/relative-time.js';

const at = (iso: string) => Date.parse(iso);
// 2026-12-01 is a Tuesday.
const TUESDAY_NOON = at('2026-12-01T12:00:00.000Z');

describe('relative times', () => {
  it('reads durations back from now', () => {
    expect(resolveTime('7d', '--since', TUESDAY_NOON)).toBe('2026-11-24T12:00:00.000Z');
    expect(resolveTime('12h', '--since', TUESDAY_NOON)).toBe('2026-12-01T00:00:00.000Z');
    expect(resolveTime('30m', '--since', TUESDAY_NOON)).toBe('2026-12-01T11:30:00.000Z');
    expect(resolveTime('2w', '--since', TUESDAY_NOON)).toBe('2026-11-17T12:00:00.000Z');
  });

  it('reads today, yesterday and this-week as UTC midnights, the week from Monday', () => {
    expect(resolveTime('today', '--since', TUESDAY_NOON)).toBe('2026-12-01T00:00:00.000Z');
    expect(resolveTime('Yesterday', '--since', TUESDAY_NOON)).toBe('2026-11-30T00:00:00.000Z');
    expect(resolveTime('this-week', '--since', TUESDAY_NOON)).toBe('2026-11-30T00:00:00.000Z');
    // On a Sunday the week began six days before; at Monday midnight it begins now.
    expect(resolveTime('this-week', '--since', at('2026-12-06T23:59:59.999Z'))).toBe(
      '2026-11-30T00:00:00.000Z',
    );
    expect(resolveTime('this-week', '--since', at('2026-12-07T00:00:00.000Z'))).toBe(
      '2026-12-07T00:00:00.000Z',
    );
  });

  it('reads last-<weekday> as the most recent one before today: a week back on that very day', () => {
    expect(resolveDay('last-tuesday', '--day', TUESDAY_NOON)).toEqual([
      '2026-11-24T00:00:00.000Z',
      '2026-11-25T00:00:00.000Z',
    ]);
    // On the Wednesday after, it is yesterday; on the Monday before the next Tuesday, six days back.
    expect(resolveTime('last-tuesday', '--since', at('2026-12-02T00:00:00.000Z'))).toBe(
      '2026-12-01T00:00:00.000Z',
    );
    expect(resolveTime('last-tuesday', '--since', at('2026-12-07T23:59:00.000Z'))).toBe(
      '2026-12-01T00:00:00.000Z',
    );
    expect(resolveTime('last-monday', '--since', TUESDAY_NOON)).toBe('2026-11-30T00:00:00.000Z');
    // Every weekday, from every day of a week: always 1 to 7 days back, on the right weekday.
    for (let d = 0; d < 7; d++) {
      const now = TUESDAY_NOON + d * 86_400_000;
      for (let weekday = 0; weekday < 7; weekday++) {
        const start = startOfLastWeekday(weekday, now);
        const back = (Date.parse(new Date(now).toISOString().slice(0, 10)) - start) / 86_400_000;
        expect(back).toBeGreaterThanOrEqual(1);
        expect(back).toBeLessThanOrEqual(7);
        expect(new Date(start).getUTCDay()).toBe(weekday);
      }
    }
  });

  it('passes ISO 8601 through as UTC', () => {
    expect(resolveTime('2026-01-01', '--since')).toBe('2026-01-01T00:00:00.000Z');
    expect(resolveTime('2026-01-01T03:00Z', '--since')).toBe('2026-01-01T03:00:00.000Z');
    expect(resolveTime('2026-01-01T03:00:00+02:00', '--until')).toBe('2026-01-01T01:00:00.000Z');
    expect(resolveDay('2026-01-01', '--day')).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-02T00:00:00.000Z',
    ]);
  });

  it('refuses anything else, naming the flag and the forms it takes', () => {
    for (const bad of [
      'the day before',
      'last-week',
      '7',
      '7y',
      'tuesday',
      '2026-13-45',
      'last-tuesdays',
      '',
    ]) {
      expect(() => resolveTime(bad, '--since', TUESDAY_NOON)).toThrow(
        /^--since: cannot read .* expected ISO 8601/,
      );
    }
    expect(() => resolveDay('7d', '--day', TUESDAY_NOON)).toThrow(/^--day: cannot read "7d" as a day/);
    expect(() => resolveDay('this-week', '--day', TUESDAY_NOON)).toThrow(/--day/);
  });
});
