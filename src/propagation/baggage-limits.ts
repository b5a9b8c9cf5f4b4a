/**
 * Reading and writing the W3C `baggage` header within the limits every platform must propagate
 * (W3C Baggage §3.3.1: 64 list-members, 8192 bytes), so nothing onbehalf writes is cut off on the way and
 * nothing a caller sends can make the reader do unbounded work.
 */

/** Most list-members a `baggage` header written by onbehalf has (W3C minimum every platform propagates). */
export const BAGGAGE_MAX_ENTRIES = 64;
/** Most bytes a `baggage` header written by onbehalf has; also the most read from an inbound one. */
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

/** What {@link parseBaggageHeader} found wrong; each is counted by the caller. */
export type BaggageProblem = 'oversized' | 'too_many_entries' | 'malformed_entry';

/** Result of {@link parseBaggageHeader}. */
export interface ParsedBaggage {
  entries: BaggageEntry[];
  problems: BaggageProblem[];
}

// RFC 7230 token characters: the only ones a baggage key may hold.
const KEY = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// baggage-octet: printable US-ASCII except space, `"`, `,`, `;` and `\`.
const VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;

/**
 * Parses inbound `baggage` header values. Reads at most {@link BAGGAGE_MAX_BYTES} bytes and
 * {@link BAGGAGE_MAX_ENTRIES} entries; the rest is ignored and reported, never an exception.
 */
export function parseBaggageHeader(header: string | string[] | undefined): ParsedBaggage {
  const entries: BaggageEntry[] = [];
  const problems = new Set<BaggageProblem>();
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  let bytes = 0;
  outer: for (const value of values) {
    if (typeof value !== 'string') continue;
    // Splitting a huge string would itself be the work a hostile header asks for: stop at the limit.
    const limited = value.length > BAGGAGE_MAX_BYTES ? value.slice(0, BAGGAGE_MAX_BYTES + 1) : value;
    const members = limited.split(',');
    // The last member of a cut string is incomplete: drop it rather than read half a value.
    if (limited.length < value.length) {
      members.pop();
      problems.add('oversized');
    }
    for (const raw of members) {
      const member = raw.trim();
      if (member === '') continue;
      bytes += member.length + 1;
      if (bytes > BAGGAGE_MAX_BYTES + 1) {
        problems.add('oversized');
        break outer;
      }
      if (entries.length >= BAGGAGE_MAX_ENTRIES) {
        problems.add('too_many_entries');
        break outer;
      }
      const entry = parseMember(member);
      if (entry) entries.push(entry);
      else problems.add('malformed_entry');
    }
  }
  return { entries, problems: [...problems] };
}

function parseMember(member: string): BaggageEntry | undefined {
  if (member.length > BAGGAGE_MAX_ENTRY_BYTES) return undefined;
  const semi = member.indexOf(';');
  const pair = semi === -1 ? member : member.slice(0, semi);
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const key = pair.slice(0, eq).trim();
  const encoded = pair.slice(eq + 1).trim();
  if (!KEY.test(key) || !VALUE.test(encoded)) return undefined;
  let value: string;
  try {
    value = decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
  const entry: BaggageEntry = { key, value };
  if (semi !== -1) entry.metadata = member.slice(semi);
  return entry;
}

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
