import {
  type Context,
  isSpanContextValid,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import {
  type Attribution,
  contextWithAttribution,
  getAttribution,
  MAX_ATTRIBUTION_LIST,
} from '../attribution/attribution.js';
import { formatFault } from '../errors/verification-fault.js';
import { keySpeaksFor } from '../keys/key-binding.js';
import type { SigningKey, TrustedKey } from '../keys/keys.js';
import { reportProblem } from '../metrics/problem-channel.js';
import { observeTokenCounts } from '../metrics/self-metrics.js';
import { coreSdk } from '../otel/sdk-loader.js';
import {
  checkTimeAndTrace,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  rejectToken,
  signAttributionToken,
  type TokenRejection,
  type TokenVerification,
  verifySignedClaims,
} from './attribution-token.js';
import { BAGGAGE_HEADER, type BaggageProblem, encodeBaggageEntry, fitBaggage } from './baggage-limits.js';
import {
  ATTRIBUTION_BAGGAGE_PREFIX,
  ATTRIBUTION_TOKEN_KEY,
  claimFromEntries,
  plainEntries,
  withoutSecrets,
} from './claims.js';
import { inboundAttributionEntries } from './inbound-baggage.js';
import { ReplayCache } from './replay-cache.js';
import { TrustedKeySet } from './trusted-key-set.js';

/** Options of {@link AttributionPropagator}. */
export interface AttributionPropagatorOptions {
  /** This process's key: outbound attribution is signed with it. Without one, only plain claims go out. */
  signingKey?: SigningKey;
  /** Keys trusted to sign inbound attribution: a key set, keys, a JWKS file path or a JWKS URL. */
  trustedKeys?: TrustedKeySet | readonly TrustedKey[] | string;
  /** Lifetime of the tokens this process signs; 120 s by default. */
  tokenLifetimeSeconds?: number;
  /** The services this process calls, put in the `aud` of the tokens it signs. */
  tokenAudience?: string | readonly string[];
  /** This service's names: inbound tokens must carry one in `aud` (and a token with another `aud` is refused). */
  audience?: string | readonly string[];
  /** How many (token, caller span) pairs to remember against replays; 100 000 by default. */
  replayCacheSize?: number;
  /** Clock skew allowed when checking `iat`/`exp`; 30 s by default. */
  clockSkewSeconds?: number;
  /** Send the readable `attribution.*` entries next to the token; true by default. */
  plainEntries?: boolean;
  /** How many verified tokens to remember; 1024 by default, 0 turns the cache off. */
  verifyCacheSize?: number;
  /** Longest delegation chain accepted inbound; {@link MAX_ATTRIBUTION_LIST} by default. */
  maxChain?: number;
  /**
   * What goes out when the context carries no attribution: the process's own default (its
   * `ONBEHALF_AGENT_*`, `ONBEHALF_ON_BEHALF_OF`, `ONBEHALF_TRIGGER`), the same the attribution
   * processor stamps on its spans, so an agent configured only by the environment is known downstream.
   */
  defaultAttribution?: Readonly<Attribution>;
}

/** Counters of an {@link AttributionPropagator}; it never throws into the host application. */
export interface AttributionPropagatorStats {
  /** Outbound carriers given attribution entries. */
  injected: number;
  /** Tokens signed (cache misses of inject). */
  signed: number;
  /** Outbound attribution sent with plain entries only (no key, unverified, no trace, or too large). */
  unsigned: number;
  /** Attributions whose credential-looking strings were redacted before they went out. */
  redacted: number;
  /** The app's own baggage entries left out to stay within the W3C limits. */
  droppedEntries: number;
  /** Inbound attribution accepted as verified. */
  verified: number;
  /** Of those, how many were answered from the verification cache. */
  verifyCacheHits: number;
  /** Inbound plain claims taken as `unverified`. */
  unverified: number;
  /** Inbound tokens refused, by reason. */
  rejected: Partial<Record<TokenRejection | 'duplicate', number>>;
  /** Inbound baggage problems, by kind. */
  malformed: Partial<Record<BaggageProblem, number>>;
  /** Calls that failed inside the propagator and were ignored. */
  failed: number;
}

interface Outbound {
  entries: string[];
  /** Epoch ms after which the entries are built again (a token close to expiry). */
  refreshAt: number;
}

interface Inbound {
  token: string;
  traceId: string;
  exp: number;
  /** Only a token meant for no one in particular (no `aud`) is forwarded unchanged. */
  forwardable: boolean;
}

type Verified = Extract<TokenVerification, { ok: true }>;

/** Refresh a cached or forwarded token once it has less than this left. */
const REFRESH_MARGIN_SECONDS = 60;
/** Traces remembered per attribution object, for an attribution reused across many requests. */
const TRACES_PER_ATTRIBUTION = 64;

/**
 * Carries attribution across processes in W3C baggage (docs/attribution.md, "Across processes"). Put it after W3C trace context and
 * baggage in a composite propagator: it reads the trace id they extracted, and rewrites the `baggage`
 * header they wrote with onbehalf's entries first, within the W3C limits.
 *
 * Inject: the attribution in context goes out as a few plain `attribution.*` entries and, when this
 * process has a signing key, one `attribution.token` entry: an EdDSA JWS bound to the trace. A verified
 * inbound token is forwarded unchanged while it is fresh; an unverified claim is never signed. Tokens
 * are cached per (attribution, trace), so a hot path signs once.
 *
 * Extract: a token that verifies against the trusted keys (signature, a key bound to its actor,
 * expiry, audience, trace binding, not a replay) puts a `provenance: 'verified'` attribution in
 * context (docs/trust-model.md). Without one, plain entries are only a claim (`provenance:
 * 'unverified'`) and fill no column. The header is read as OpenTelemetry core reads it, and every
 * inbound `attribution.*` entry is removed from the app's baggage so nothing downstream mistakes it
 * for a fact. Bad headers are counted in {@link AttributionPropagator.stats}, never thrown.
 */
export class AttributionPropagator implements TextMapPropagator {
  readonly stats: AttributionPropagatorStats = {
    injected: 0,
    signed: 0,
    unsigned: 0,
    redacted: 0,
    droppedEntries: 0,
    verified: 0,
    verifyCacheHits: 0,
    unverified: 0,
    rejected: {},
    malformed: {},
    failed: 0,
  };
  /** The keys inbound tokens are checked against. */
  readonly trustedKeys: TrustedKeySet;
  private readonly signingKey: SigningKey | undefined;
  private readonly lifetime: number;
  private readonly skew: number;
  private readonly plain: boolean;
  private readonly maxChain: number;
  private readonly cacheSize: number;
  private readonly defaultAttribution: Readonly<Attribution> | undefined;
  private readonly outbound = new WeakMap<object, Map<string, Outbound>>();
  private readonly scrubbed = new WeakMap<object, Readonly<Attribution>>();
  private readonly inbound = new WeakMap<object, Inbound>();
  private readonly verifiedTokens = new Map<string, { verified: Verified; key: TrustedKey }>();
  private readonly tokenAudience: string | readonly string[] | undefined;
  private readonly audience: string | readonly string[] | undefined;
  /** Verified (token, caller span) pairs: the same request presented again is a replay. */
  readonly replays: ReplayCache;
  /** The carriers a token was accepted from: extracting the same request's headers twice is no replay. */
  private readonly acceptedCarriers = new WeakMap<object, string>();

  /** @throws KeyError when `trustedKeys` names a file that cannot be used. */
  constructor(options: AttributionPropagatorOptions = {}) {
    observeTokenCounts(this.stats);
    this.signingKey = options.signingKey;
    this.lifetime = options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
    this.skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
    this.plain = options.plainEntries ?? true;
    this.maxChain = options.maxChain ?? MAX_ATTRIBUTION_LIST;
    this.cacheSize = options.verifyCacheSize ?? 1024;
    this.defaultAttribution = options.defaultAttribution;
    this.tokenAudience = options.tokenAudience;
    this.audience = options.audience;
    this.replays = new ReplayCache(options.replayCacheSize);
    const trusted = options.trustedKeys;
    this.trustedKeys = trusted instanceof TrustedKeySet ? trusted : new TrustedKeySet(trusted ?? []);
    // A process can always check what it signed itself (a call that comes back to it).
    if (this.signingKey) {
      const { kid, publicKey, publicJwk } = this.signingKey;
      this.trustedKeys.add([{ kid, publicKey, jwk: publicJwk }]);
    }
  }

  fields(): string[] {
    return [BAGGAGE_HEADER];
  }

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    try {
      if (coreSdk().isTracingSuppressed(ctx)) return;
      const attribution = getAttribution(ctx) ?? this.defaultAttribution;
      const baggage = propagation.getBaggage(ctx);
      const appEntries: string[] = [];
      let strayClaims = false;
      for (const [key, entry] of baggage?.getAllEntries() ?? []) {
        // Whatever the app put under attribution.* is not what this process attests: it is replaced.
        if (key.startsWith(ATTRIBUTION_BAGGAGE_PREFIX)) strayClaims = true;
        else {
          const meta = entry.metadata?.toString();
          appEntries.push(
            `${encodeURIComponent(key)}=${encodeURIComponent(entry.value)}${meta ? `;${meta}` : ''}`,
          );
        }
      }
      if (!attribution && !strayClaims) return;
      const own = attribution ? this.outboundEntries(attribution, ctx) : [];
      const fitted = fitBaggage([...own, ...appEntries]);
      this.stats.droppedEntries += fitted.dropped;
      setter.set(carrier, BAGGAGE_HEADER, fitted.header);
      if (own.length > 0) this.stats.injected++;
    } catch (err) {
      this.stats.failed++;
      this.warnOnce('attribution inject failed', (err as Error).message);
    }
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    try {
      if (getter.get(carrier, BAGGAGE_HEADER) === undefined) return ctx;
      const inbound = inboundAttributionEntries(carrier, getter);
      // Whatever the header holds under attribution.*, and however it is spelled, the app never sees
      // it; the baggage InboundBaggagePropagator extracted from this header has none already.
      let out = propagation.getBaggage(ctx) === inbound.appBaggage ? ctx : stripClaims(ctx);
      for (const p of inbound.problems) this.count(this.stats.malformed, p);
      const claims = inbound.entries;
      const duplicateToken = inbound.tokenMembers > 1;
      if (claims.size === 0) return out;
      const token = claims.get(ATTRIBUTION_TOKEN_KEY);
      if (duplicateToken) {
        // Two tokens in one header: one of them was added by someone else, and neither is believed.
        this.count(this.stats.rejected, 'duplicate');
      } else if (token !== undefined) {
        const parent = parentOf(ctx, carrier, getter);
        const verified = this.verify(token, parent?.traceId);
        const result = verified.ok ? this.checkReplay(verified, token, carrier, parent?.spanId) : verified;
        if (result.ok) {
          this.stats.verified++;
          this.inbound.set(result.attribution, {
            token,
            traceId: result.claims.trace_id,
            exp: result.claims.exp,
            forwardable: result.claims.aud === undefined,
          });
          return contextWithAttribution(result.attribution, out);
        }
        this.count(this.stats.rejected, result.reason);
        this.warnOnce(`inbound attribution token refused (${result.reason})`, formatFault(result.fault));
      }
      // A claim never replaces an attribution this process already has from a better source.
      const claim = getAttribution(out) ? undefined : claimFromEntries(claims);
      if (claim) {
        this.stats.unverified++;
        out = contextWithAttribution(claim, out);
      }
      return out;
    } catch (err) {
      this.stats.failed++;
      this.warnOnce('attribution extract failed', (err as Error).message);
      // Even then, inbound attribution.* entries must not reach the app as facts.
      return stripClaims(ctx);
    }
  }

  /** A verified token is refused when this request (token and caller span) was accepted before. */
  private checkReplay(
    verified: Verified,
    token: string,
    carrier: unknown,
    parentSpanId: string | undefined,
  ): TokenVerification {
    const sameRequest = carrier !== null && typeof carrier === 'object' ? carrier : undefined;
    if (sameRequest && this.acceptedCarriers.get(sameRequest) === token) return verified;
    const now = Date.now() / 1000;
    const until = verified.claims.exp + this.skew;
    if (!this.replays.firstUse(verified.claims.jti, parentSpanId ?? '', until, now)) {
      return rejectToken(
        'replay',
        `token ${verified.claims.jti} was already accepted from caller span ${parentSpanId ?? '(none)'}`,
      );
    }
    if (sameRequest) this.acceptedCarriers.set(sameRequest, token);
    return verified;
  }

  /** Verifies a token for a trace, through the cache of tokens already verified. */
  verify(token: string, traceId: string | undefined): TokenVerification {
    const now = Math.floor(Date.now() / 1000);
    const options = { traceId, now, clockSkewSeconds: this.skew, audience: this.audience };
    const cached = this.verifiedTokens.get(token);
    // A key dropped or reloaded (its binding may have changed) since also stops its cached tokens.
    if (cached && this.trustedKeys.peek(cached.verified.kid) === cached.key) {
      this.stats.verifyCacheHits++;
      return checkTimeAndTrace(cached.verified, options);
    }
    let used: TrustedKey | undefined;
    const keyFor = (kid: string) => {
      used = this.trustedKeys.get(kid);
      return used;
    };
    const checked = verifySignedClaims(token, keyFor, this.maxChain, (key, actor) =>
      // What this process signed itself it may read back whoever acted: it attested that locally.
      this.isOwnKey(key) ? true : keySpeaksFor(key, actor),
    );
    if (checked.ok && used && this.cacheSize > 0) {
      if (this.verifiedTokens.size >= this.cacheSize) {
        const oldest = this.verifiedTokens.keys().next().value;
        if (oldest !== undefined) this.verifiedTokens.delete(oldest);
      }
      this.verifiedTokens.set(token, { verified: checked, key: used });
    }
    return checked.ok ? checkTimeAndTrace(checked, options) : checked;
  }

  private isOwnKey(key: TrustedKey): boolean {
    const own = this.signingKey;
    return own !== undefined && key.kid === own.kid && key.publicKey.equals(own.publicKey);
  }

  private outboundEntries(attribution: Readonly<Attribution>, ctx: Context): string[] {
    const spanContext = trace.getSpanContext(ctx);
    const traceId = spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : '';
    let perTrace = this.outbound.get(attribution);
    const hit = perTrace?.get(traceId);
    if (hit && Date.now() < hit.refreshAt) return hit.entries;
    const built = this.buildEntries(attribution, traceId);
    if (!perTrace) {
      perTrace = new Map();
      this.outbound.set(attribution, perTrace);
    }
    perTrace.delete(traceId);
    if (perTrace.size >= TRACES_PER_ATTRIBUTION) {
      const oldest = perTrace.keys().next().value;
      if (oldest !== undefined) perTrace.delete(oldest);
    }
    perTrace.set(traceId, built);
    return built.entries;
  }

  private buildEntries(original: Readonly<Attribution>, traceId: string): Outbound {
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    let token: string | undefined;
    let exp = Number.POSITIVE_INFINITY;
    const inbound = this.inbound.get(original);
    if (
      inbound?.forwardable &&
      this.tokenAudience === undefined &&
      inbound.traceId === traceId &&
      inbound.exp - now > REFRESH_MARGIN_SECONDS
    ) {
      // Unchanged verified attribution on its own trace: the original signer's token says it best.
      token = inbound.token;
      exp = inbound.exp;
    }
    const attribution = this.withoutSecrets(original);
    if (!token && this.signingKey && traceId && original.provenance !== 'unverified') {
      token = signAttributionToken(attribution, {
        key: this.signingKey,
        traceId,
        now,
        lifetimeSeconds: this.lifetime,
        audience: this.tokenAudience,
      });
      if (token) {
        this.stats.signed++;
        exp = now + this.lifetime;
      }
    }
    if (!token) this.stats.unsigned++;
    const entries: string[] = [];
    if (token) entries.push(encodeBaggageEntry({ key: ATTRIBUTION_TOKEN_KEY, value: token }));
    // An unverified claim is not repeated: this process does not vouch for it, even in plain text.
    if (this.plain && original.provenance !== 'unverified') {
      for (const e of plainEntries(attribution)) entries.push(encodeBaggageEntry(e));
    }
    const refreshAt = Number.isFinite(exp) ? (exp - REFRESH_MARGIN_SECONDS) * 1000 : Number.POSITIVE_INFINITY;
    return { entries, refreshAt };
  }

  private withoutSecrets(a: Readonly<Attribution>): Readonly<Attribution> {
    let clean = this.scrubbed.get(a);
    if (!clean) {
      const result = withoutSecrets(a);
      if (result.redacted) this.stats.redacted++;
      clean = result.attribution;
      this.scrubbed.set(a, clean);
    }
    return clean;
  }

  private count<K extends string>(counters: Partial<Record<K, number>>, key: K): void {
    counters[key] = (counters[key] ?? 0) + 1;
  }

  private warnOnce(message: string, detail: string): void {
    // One problem per kind: repeats (a hostile caller can send many) are counted and summarized.
    reportProblem({ code: 'propagation.failed', component: 'attribution-propagator', message, detail });
  }
}

/** Removes inbound `attribution.*` entries from the app's baggage. */
function stripClaims(ctx: Context): Context {
  const baggage = propagation.getBaggage(ctx);
  if (!baggage) return ctx;
  const keys = baggage
    .getAllEntries()
    .map(([k]) => k)
    .filter((k) => k.startsWith(ATTRIBUTION_BAGGAGE_PREFIX));
  return keys.length > 0 ? propagation.setBaggage(ctx, baggage.removeEntries(...keys)) : ctx;
}

/** The trace and caller span the request arrived in: from the extracted context, else its own `traceparent`. */
function parentOf(
  ctx: Context,
  carrier: unknown,
  getter: TextMapGetter,
): { traceId: string; spanId: string } | undefined {
  const sc = trace.getSpanContext(ctx);
  if (sc && isSpanContextValid(sc)) return sc;
  const header = getter.get(carrier, 'traceparent');
  const value = Array.isArray(header) ? header[0] : header;
  return value ? (coreSdk().parseTraceParent(value) ?? undefined) : undefined;
}
