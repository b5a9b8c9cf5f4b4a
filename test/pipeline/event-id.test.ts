import { describe, expect, it } from 'vitest';
import { newEventId } from '../../src/pipeline/event-id.js';

const UUID_V7 = /^evt-([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newEventId', () => {
  it('is evt- and a version 7, RFC 9562 variant UUID whose first 48 bits are the milliseconds', () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const id = newEventId(now);
    const m = UUID_V7.exec(id);
    expect(m, id).not.toBeNull();
    expect(Number.parseInt(m![1]! + m![2]!, 16)).toBe(now);
    expect(UUID_V7.test(newEventId())).toBe(true);
  });

  it('sorts by the time it was made, and never repeats (across pool refills)', () => {
    const ids: string[] = [];
    const start = Date.now();
    for (let i = 0; i < 5000; i++) ids.push(newEventId(start + Math.floor(i / 10)));
    expect(new Set(ids).size).toBe(ids.length);
    const byTime = (i: number) => ids[i]!.slice(0, 17);
    for (let i = 1; i < ids.length; i++) expect(byTime(i) >= byTime(i - 1)).toBe(true);
    expect([...ids].sort().map((id) => id.slice(0, 17))).toEqual(ids.map((id) => id.slice(0, 17)));
  });

  it('spreads the random bits: every variant digit and many distinct tails within one millisecond', () => {
    const now = Date.now();
    const ids = Array.from({ length: 400 }, () => newEventId(now));
    expect(new Set(ids.map((id) => id.charAt(23)))).toEqual(new Set(['8', '9', 'a', 'b']));
    expect(new Set(ids.map((id) => id.slice(-12))).size).toBe(400);
  });
});
