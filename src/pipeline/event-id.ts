import { randomFillSync } from 'node:crypto';

/**
 * Event ids: `evt-` and a UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random
 * bits. `event_id` is a unique column, so every append inserts into its index; a random (version 4)
 * id lands on a random page of that index, a time-ordered one on the last few, which is what lets
 * a large store append at the rate of a small one. The id says when it was made, as the row's own
 * `timestamp` does already.
 */

// 10 random bytes per id from a pool refilled 4 KiB at a time: one system call per ~400 ids.
const POOL = Buffer.alloc(4090);
let offset = POOL.length;
const VARIANT = ['8', '9', 'a', 'b'] as const;

/** A new, unique, time-ordered event id: `evt-xxxxxxxx-xxxx-7xxx-[89ab]xxx-xxxxxxxxxxxx`. */
export function newEventId(now: number = Date.now()): string {
  if (offset + 10 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const r = POOL.toString('hex', offset, offset + 10);
  const variant = VARIANT[(POOL[offset + 2]! >> 4) & 3]!;
  offset += 10;
  const t = Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12);
  // Random hex r[0..3], the variant (from r[4]'s bits), r[5..8], r[8..20]: 74 random bits.
  return `evt-${t.slice(0, 8)}-${t.slice(8)}-7${r.slice(0, 3)}-${variant}${r.slice(5, 8)}-${r.slice(8)}`;
}
