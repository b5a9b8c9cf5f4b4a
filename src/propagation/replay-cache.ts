/**
 * The requests a receiver has already accepted a token on, so a captured request cannot be sent
 * again verbatim (docs/trust-model.md). A token is bound to its trace, and one token serves every call
 * of that trace; what tells two calls apart is the caller's span (the `traceparent` parent id), which
 * each outgoing request gets anew. A token presented twice with the same parent span is a replay.
 */

/** Counters of a {@link ReplayCache}. */
export interface ReplayCacheStats {
  /** (token, parent span) pairs remembered now. */
  size: number;
  /** Entries dropped before their token expired because the cache was full (each could be replayed). */
  evicted: number;
}

/** Remembers (`jti`, parent span id) until the token expires; bounded, oldest first out. */
export class ReplayCache {
  readonly stats: ReplayCacheStats = { size: 0, evicted: 0 };
  private readonly seen = new Map<string, number>();
  /** The second of the last sweep for expired pairs: a full cache sweeps at most once a second. */
  private sweptAt = Number.NEGATIVE_INFINITY;

  /** @param capacity most pairs remembered; 100 000 by default. */
  constructor(private readonly capacity = 100_000) {}

  /**
   * Records a token's use on a parent span; returns false when that pair was already recorded and its
   * token has not expired (a replay).
   * @param expiresAt seconds since the epoch after which the token is refused anyway.
   */
  firstUse(jti: string, parentSpanId: string, expiresAt: number, now: number): boolean {
    const key = `${jti} ${parentSpanId}`;
    const until = this.seen.get(key);
    if (until !== undefined && until >= now) return false;
    if (until !== undefined) this.seen.delete(key);
    if (this.seen.size >= this.capacity) this.makeRoom(now);
    this.seen.set(key, expiresAt);
    this.stats.size = this.seen.size;
    return true;
  }

  private makeRoom(now: number): void {
    // Sweeping reads every pair: done on every insert into a cache full of live pairs, each request
    // would cost a pass over all of them. Within one second nothing more can have expired.
    if (now !== this.sweptAt) {
      this.sweptAt = now;
      for (const [key, until] of this.seen) if (until < now) this.seen.delete(key);
    }
    // Still full: the oldest entries go (lifetimes are bounded, so they are the nearest to expiry).
    while (this.seen.size >= this.capacity) {
      const oldest = this.seen.keys().next().value;
      if (oldest === undefined) break;
      this.seen.delete(oldest);
      this.stats.evicted++;
    }
  }
}
