/**
 * Reading an inbound `baggage` header exactly as OpenTelemetry core reads it. Whatever else in the
 * process reads baggage (a `BaggageSpanProcessor`, the app itself) sees what core's
 * `W3CBaggagePropagator` extracted: percent-decoded keys and values, up to 180 entries of up to
 * 4096 bytes and 8192 bytes in all, later duplicates winning. A second parser with other rules would
 * let a header mean one thing to onbehalf and another to them (docs/trust-model.md), so onbehalf reads
 * the header through core's own propagator and only adds checks of its own on top.
 */
import {
  type Baggage,
  propagation,
  ROOT_CONTEXT,
  type TextMapGetter,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { coreSdk } from '../otel/sdk-loader.js';
import { BAGGAGE_HEADER, BAGGAGE_MAX_BYTES, type BaggageProblem } from './baggage-limits.js';
import { ATTRIBUTION_BAGGAGE_PREFIX, ATTRIBUTION_TOKEN_KEY } from './claims.js';

/** What an inbound header says under `attribution.*`, as core reads it. */
export interface InboundAttributionEntries {
  /** Decoded `attribution.*` keys and their decoded values. */
  readonly entries: ReadonlyMap<string, string>;
  /** List-members whose decoded key is `attribution.token`: more than one means someone added one. */
  readonly tokenMembers: number;
  /** What looked wrong with the header; counted by the caller, never thrown. */
  readonly problems: readonly BaggageProblem[];
  /**
   * The baggage core extracts from the header with every `attribution.*` entry taken out: what the
   * app's baggage is (undefined when core extracts none). Baggage is immutable, so one object serves
   * every request that carried the same header.
   */
  readonly appBaggage: Baggage | undefined;
}

/** Most list-members core reads from one request (its `BAGGAGE_MAX_NAME_VALUE_PAIRS`). */
const CORE_MAX_ENTRIES = 180;
let core: TextMapPropagator | undefined;

/** The baggage core's `W3CBaggagePropagator` extracts from `carrier`, if any. */
export function coreBaggage(carrier: unknown, getter: TextMapGetter): Baggage | undefined {
  core ??= new (coreSdk().W3CBaggagePropagator)();
  return propagation.getBaggage(core.extract(ROOT_CONTEXT, carrier, getter));
}

/**
 * Reads of recent header values: a client sends the same header (its token and entries) on every call
 * of a trace, and parsing ~1.5 KB of baggage costs more than the rest of extract. What is read depends
 * on the header's text alone, so a hit is exactly what a fresh read would give; the replay check and
 * the token's time and trace checks still run on every request (docs/trust-model.md).
 */
const recentReads = new Map<string, InboundAttributionEntries>();
const RECENT_READS = 256;

/**
 * The `attribution.*` entries of an inbound header, read as core reads them. The result may be
 * shared with other requests that carried the same header: read it, never change it.
 */
export function inboundAttributionEntries(
  carrier: unknown,
  getter: TextMapGetter,
): InboundAttributionEntries {
  const raw = getter.get(carrier, BAGGAGE_HEADER);
  // Header lines cannot hold a newline, so joining several on one keeps them apart.
  const text = raw === undefined ? undefined : Array.isArray(raw) ? raw.join('\n') : raw;
  // A header past the W3C limit is read, counted as oversized, and never kept: the cache stays small.
  if (typeof text !== 'string' || text.length > BAGGAGE_MAX_BYTES) return readEntries(carrier, getter, raw);
  const hit = recentReads.get(text);
  if (hit) return hit;
  const read = readEntries(carrier, getter, raw);
  if (recentReads.size >= RECENT_READS) recentReads.delete(recentReads.keys().next().value as string);
  recentReads.set(text, read);
  return read;
}

function readEntries(
  carrier: unknown,
  getter: TextMapGetter,
  raw: string | string[] | undefined,
): InboundAttributionEntries {
  const entries = new Map<string, string>();
  const baggage = coreBaggage(carrier, getter);
  for (const [key, entry] of baggage?.getAllEntries() ?? []) {
    if (key.startsWith(ATTRIBUTION_BAGGAGE_PREFIX)) entries.set(key, entry.value);
  }
  const appBaggage = baggage && entries.size > 0 ? baggage.removeEntries(...entries.keys()) : baggage;
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const problems = new Set<BaggageProblem>();
  let members = 0;
  let tokenMembers = 0;
  for (const value of values) {
    if (typeof value !== 'string') continue;
    if (value.length > BAGGAGE_MAX_BYTES) problems.add('oversized');
    for (const member of value.split(',')) {
      if (member.trim() === '') continue;
      members++;
      const key = decodedKey(member);
      if (key === undefined) problems.add('malformed_entry');
      else if (key === ATTRIBUTION_TOKEN_KEY) tokenMembers++;
    }
  }
  if (members > CORE_MAX_ENTRIES) problems.add('too_many_entries');
  return { entries, tokenMembers, problems: [...problems], appBaggage };
}

/** The key of a list-member as core decodes it, or undefined when core would skip the member. */
function decodedKey(member: string): string | undefined {
  const semi = member.indexOf(';');
  const pair = semi === -1 ? member : member.slice(0, semi);
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  try {
    return decodeURIComponent(pair.slice(0, eq).trim()) || undefined;
  } catch {
    return undefined;
  }
}
