/**
 * Writing the W3C `baggage` header within the limits every platform must propagate (W3C Baggage
 * §3.3.1: 64 list-members, 8192 bytes), so nothing onbehalf writes is cut off on the way. Inbound
 * headers are read by OpenTelemetry core's own parser (inbound-baggage.ts).
 */

/** Most list-members a `baggage` header written by onbehalf has (W3C minimum every platform propagates). */
export const BAGGAGE_MAX_ENTRIES = 64;
/** Most bytes a `baggage` header written by onbehalf has (and the most core reads from an inbound one). */
export const BAGGAGE_MAX_BYTES = 8192;
/** Most bytes of one list-member. */
export const BAGGAGE_MAX_ENTRY_BYTES = 4096;
/** The header name. */
export const BAGGAGE_HEADER = 'baggage';

/** One decoded baggage entry; properties (`;k=v`) are kept verbatim so they round-trip. */
export interface BaggageEntry {
  key: string;
  value: string;
  /** The raw `;…` metadata after the value, if any. */
  metadata?: string;
}

/** What looked wrong with an inbound `baggage` header; each is counted, never thrown. */
export type BaggageProblem = 'oversized' | 'too_many_entries' | 'malformed_entry';

/** `key=percent-encoded-value[;metadata]`, as it goes on the wire. */
export function encodeBaggageEntry(entry: BaggageEntry): string {
  return `${entry.key}=${encodeURIComponent(entry.value)}${entry.metadata ?? ''}`;
}

/** Result of {@link fitBaggage}. */
export interface FittedBaggage {
  /** The header value; empty when nothing fits. */
  header: string;
  /** Entries left out to stay within the limits. */
  dropped: number;
}

/**
 * Joins already encoded entries, in order, keeping each one that still fits within
 * {@link BAGGAGE_MAX_ENTRIES} / {@link BAGGAGE_MAX_BYTES} / {@link BAGGAGE_MAX_ENTRY_BYTES}. Earlier
 * entries win, so callers put what matters most first.
 */
export function fitBaggage(encoded: readonly string[]): FittedBaggage {
  const kept: string[] = [];
  let bytes = 0;
  let dropped = 0;
  for (const e of encoded) {
    const cost = e.length + (kept.length > 0 ? 1 : 0);
    if (
      e.length > BAGGAGE_MAX_ENTRY_BYTES ||
      kept.length >= BAGGAGE_MAX_ENTRIES ||
      bytes + cost > BAGGAGE_MAX_BYTES
    ) {
      dropped++;
      continue;
    }
    kept.push(e);
    bytes += cost;
  }
  return { header: kept.join(','), dropped };
}
