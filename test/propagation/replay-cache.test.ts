import { describe, expect, it } from 'vitest';
import { ReplayCache } from '../../src/propagation/replay-cache.js';

describe('ReplayCache', () => {
  it('refuses a pair seen before its token expires, and accepts it again after', () => {
    const cache = new ReplayCache(10);
    expect(cache.firstUse('j1', 'span-a', 100, 50)).toBe(true);
    expect(cache.firstUse('j1', 'span-a', 100, 60)).toBe(false);
    expect(cache.firstUse('j1', 'span-b', 100, 60)).toBe(true);
    expect(cache.firstUse('j1', 'span-a', 100, 101)).toBe(true);
  });

  it('full of live pairs, drops the oldest one per new pair and counts it', () => {
    const cache = new ReplayCache(100);
    for (let i = 0; i < 100; i++) expect(cache.firstUse(`j${i}`, 's', 1000, 10)).toBe(true);
    for (let i = 100; i < 150; i++) expect(cache.firstUse(`j${i}`, 's', 1000, 10)).toBe(true);
    expect(cache.stats).toEqual({ size: 100, evicted: 50 });
    // The newest are still remembered, the oldest forgotten.
    expect(cache.firstUse('j149', 's', 1000, 10)).toBe(false);
    expect(cache.firstUse('j0', 's', 1000, 10)).toBe(true);
  });

  it('sweeps expired pairs when full, before dropping live ones (once a second)', () => {
    const cache = new ReplayCache(100);
    // Half expire at 20, half live on.
    for (let i = 0; i < 50; i++) cache.firstUse(`old${i}`, 's', 20, 10);
    for (let i = 0; i < 50; i++) cache.firstUse(`live${i}`, 's', 1000, 10);
    expect(cache.firstUse('new0', 's', 1000, 30)).toBe(true);
    expect(cache.stats).toEqual({ size: 51, evicted: 0 });
    for (let i = 0; i < 50; i++) expect(cache.firstUse(`live${i}`, 's', 1000, 30)).toBe(false);
    // Full again within the same second: no sweep finds anything, the oldest live pair goes.
    for (let i = 1; i < 50; i++) cache.firstUse(`new${i}`, 's', 1000, 30);
    expect(cache.firstUse('one-more', 's', 1000, 30)).toBe(true);
    expect(cache.stats.evicted).toBe(1);
    expect(cache.firstUse('live0', 's', 1000, 30)).toBe(true);
  });
});
