/**
 * The plain `attribution.*` baggage entries: a readable summary of who acts for whom, sent next to the
 * signed token. Inbound, they are only ever claims (provenance `unverified`).
 */
import { type Attribution, parseAttribution } from '../attribution/attribution.js';
import {
  ATTR_ATTRIBUTION_ACTOR_ID,
  ATTR_ATTRIBUTION_ACTOR_TYPE,
  ATTR_ATTRIBUTION_INTENT_NAME,
  ATTR_ATTRIBUTION_PRINCIPAL_ID,
  ATTR_ATTRIBUTION_TRIGGER_ID,
  ATTR_ATTRIBUTION_TRIGGER_TYPE,
} from '../conventions/generated.js';
import { DEFAULT_REDACTION_RULES, redactString } from '../redaction/redact.js';
import type { BaggageEntry } from './baggage-limits.js';

/** The baggage key of the signed attribution token. */
export const ATTRIBUTION_TOKEN_KEY = 'attribution.token';
/** Every baggage key onbehalf owns starts with this; inbound ones are stripped from the app's baggage. */
export const ATTRIBUTION_BAGGAGE_PREFIX = 'attribution.';
/** Most bytes all plain entries together take, so they never crowd out the token or the app's baggage. */
export const MAX_PLAIN_ENTRIES_BYTES = 1024;

const SECRET_RULES = DEFAULT_REDACTION_RULES.filter((r) => r.kind === 'secret' || r.kind === 'private_key');

/** True when `s` holds something that looks like a credential (bearer token, JWT, API key, private key). */
export function looksSecret(s: string): boolean {
  const found = new Set<string>();
  redactString(s, SECRET_RULES, found);
  return found.size > 0;
}

/**
 * A copy of `a` whose credential-looking strings are replaced by `[REDACTED:secret]`, so that neither
 * the plain entries nor the signed token (readable by anyone who sees the header) carries one.
 * Returns `a` itself when nothing was found.
 */
export function withoutSecrets(a: Readonly<Attribution>): {
  attribution: Readonly<Attribution>;
  redacted: boolean;
} {
  let redacted = false;
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (!looksSecret(value)) return value;
      redacted = true;
      return '[REDACTED:secret]';
    }
    if (Array.isArray(value)) return value.map(scrub);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, k === 'provenance' ? v : scrub(v)]),
      );
    }
    return value;
  };
  const copy = scrub(a);
  return redacted ? { attribution: parseAttribution(copy), redacted } : { attribution: a, redacted };
}

/** The plain entries of an attribution, within {@link MAX_PLAIN_ENTRIES_BYTES}. */
export function plainEntries(a: Readonly<Attribution>): BaggageEntry[] {
  const candidates: [string, string | undefined][] = [
    [ATTR_ATTRIBUTION_ACTOR_ID, a.actor.id],
    [ATTR_ATTRIBUTION_ACTOR_TYPE, a.actor.type],
    [ATTR_ATTRIBUTION_PRINCIPAL_ID, a.principal?.id],
    [ATTR_ATTRIBUTION_TRIGGER_TYPE, a.trigger?.type],
    [ATTR_ATTRIBUTION_TRIGGER_ID, a.trigger?.id],
    [ATTR_ATTRIBUTION_INTENT_NAME, a.intent?.name],
  ];
  const out: BaggageEntry[] = [];
  let bytes = 0;
  for (const [key, value] of candidates) {
    if (value === undefined) continue;
    const cost = key.length + 2 + encodeURIComponent(value).length;
    if (bytes + cost > MAX_PLAIN_ENTRIES_BYTES) continue;
    bytes += cost;
    out.push({ key, value });
  }
  return out;
}

/**
 * The claim made by inbound plain entries, as an attribution with provenance `unverified`, or
 * `undefined` when there is none or it is invalid. The span processor writes such an attribution's
 * identities under `attribution.claimed.*` only, never as the principal or actor.
 */
export function claimFromEntries(entries: ReadonlyMap<string, string>): Readonly<Attribution> | undefined {
  const get = (k: string) => entries.get(k);
  const actorId = get(ATTR_ATTRIBUTION_ACTOR_ID);
  const principalId = get(ATTR_ATTRIBUTION_PRINCIPAL_ID);
  const triggerType = get(ATTR_ATTRIBUTION_TRIGGER_TYPE);
  const triggerId = get(ATTR_ATTRIBUTION_TRIGGER_ID);
  const intentName = get(ATTR_ATTRIBUTION_INTENT_NAME);
  if (!actorId && !principalId && !triggerId && !intentName) return undefined;
  const actorType = get(ATTR_ATTRIBUTION_ACTOR_TYPE);
  try {
    return parseAttribution({
      // An attribution needs an actor; an unnamed one is reported as such rather than guessed.
      actor: {
        type: actorType === 'human' || actorType === 'service' || actorType === 'agent' ? actorType : 'agent',
        id: actorId ?? 'unknown',
      },
      ...(principalId && { principal: { id: principalId } }),
      ...(triggerType && triggerId && { trigger: { type: triggerType, id: triggerId } }),
      ...(intentName && { intent: { name: intentName } }),
      provenance: 'unverified',
    });
  } catch {
    return undefined;
  }
}
