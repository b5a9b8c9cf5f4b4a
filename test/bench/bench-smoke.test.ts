import { describe, expect, it } from 'vitest';
import { runBench } from '../../bench/run.mjs';

// Proves the benchmark code still runs against the current API (from dist/, built by pretest).
// Tiny iteration counts and no timing thresholds: figures on a busy CI machine mean nothing.
describe('npm run bench', () => {
  it('runs its cheapest section and returns rows with finite numbers', async () => {
    const { rows } = await runBench({ mode: 'tiny', only: ['span'] });
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) {
      expect(r.section).toBe('span');
      expect(Number.isFinite(r.value)).toBe(true);
      expect(r.value).toBeGreaterThan(0);
      if (r.baselineName !== null) expect(Number.isFinite(r.ratio)).toBe(true);
    }
  });
});
