import type { AuditEvent } from './event.js';

/** Events lost before they reached the store, as a writer counts them. */
export interface PendingGap {
  count: number;
  reasons: ReadonlySet<string>;
  from: string;
  to: string;
}

/** What a process ending now loses, as one count, or undefined when nothing is pending. */
export interface ExitLoss {
  count: number;
  reasons: string[];
  from: string;
  to: string;
}

/**
 * The loss of a writer whose process ends with `queue` unwritten and `gap` not yet recorded. The
 * first `inFlight` entries of the batch (gap record included) were sent and not acknowledged: the
 * server may have committed them, which the reasons say, so a reader knows the count is an upper bound.
 */
export function exitLoss(
  queue: readonly AuditEvent[],
  gap: PendingGap | undefined,
  inFlight: number,
): ExitLoss | undefined {
  if (queue.length === 0 && !gap) return undefined;
  const reasons = new Set(gap?.reasons ?? []);
  if (queue.length) reasons.add('not written before the process ended');
  if (inFlight > 0) reasons.add(`${inFlight} were being written when the process ended and may be stored`);
  const times = queue.map((e) => e.timestamp).filter((t): t is string => typeof t === 'string');
  if (gap) times.push(gap.from, gap.to);
  const sorted = times.sort();
  const now = new Date().toISOString();
  return {
    count: queue.length + (gap?.count ?? 0),
    reasons: [...reasons].sort(),
    from: sorted[0] ?? now,
    to: sorted[sorted.length - 1] ?? now,
  };
}
