import { context } from '@opentelemetry/api';
import { checkJwksUrl, fetchJwks } from '../keys/jwks-fetch.js';
import { loadTrustedKeysFile, type TrustedKey } from '../keys/keys.js';
import { reportProblem } from '../metrics/problem-channel.js';
import { coreSdk } from '../otel/sdk-loader.js';

/** Options of {@link TrustedKeySet}. */
export interface TrustedKeySetOptions {
  /**
   * Least time between two fetches of a JWKS URL triggered by unknown `kid`s, so a caller sending
   * made-up key ids cannot turn this process into a load generator against the JWKS host. 30 s by default.
   */
  minRefetchIntervalMs?: number;
  /** How long a JWKS URL's keys are used when its response has no `Cache-Control` max-age; 5 min by default. */
  ttlMs?: number;
  /** Bounds on a `Cache-Control` max-age: 30 s and 1 h by default. */
  minTtlMs?: number;
  maxTtlMs?: number;
  /** The clock, in ms since the epoch; `Date.now` by default. */
  now?: () => number;
}

/** Counters of a {@link TrustedKeySet}. */
export interface TrustedKeySetStats {
  /** Successful loads of the key source. */
  loads: number;
  /** Failed loads of a JWKS URL (the previous keys stay in use). */
  loadFailures: number;
  /** Lookups of a `kid` that is not in the set. */
  unknownKid: number;
  /** Lookups made before a JWKS URL had loaded once. */
  notLoaded: number;
  /** Lookups refused because a JWKS URL's keys outlived their lifetime and could not be refetched. */
  expired: number;
}

const EMPTY: ReadonlyMap<string, TrustedKey> = new Map();

/**
 * The public keys trusted to sign attribution: a fixed list, a JWKS file (read once, synchronously)
 * or a JWKS URL (fetched in the background; again when its `Cache-Control` lifetime, 5 min by default,
 * nears its end, so a key removed there stops verifying within it; and, rate-limited, when an unknown
 * `kid` shows up, so a newly rotated key is picked up without a restart). Past its lifetime without a
 * successful refetch a URL's keys verify nothing. Several keys may be trusted at once: an
 * agent's key can rotate while its id, which comes from the token's claims, stays the same.
 */
export class TrustedKeySet {
  readonly stats: TrustedKeySetStats = { loads: 0, loadFailures: 0, unknownKid: 0, notLoaded: 0, expired: 0 };
  private keys = new Map<string, TrustedKey>();
  private readonly extra = new Map<string, TrustedKey>();
  private readonly url: string | undefined;
  private readonly minRefetchMs: number;
  private loading: Promise<void> | undefined;
  private lastFetch = Number.NEGATIVE_INFINITY;
  private everLoaded = false;
  private readonly now: () => number;
  private readonly ttl: { default: number; min: number; max: number };
  /** When a URL's keys stop being trusted unless refetched; refetching starts at 80 % of it. */
  private expiresAt = Number.POSITIVE_INFINITY;
  private refreshAt = Number.POSITIVE_INFINITY;

  /**
   * @param source trusted keys, a JWKS file path, or a JWKS URL (`https:`, or `http:` to a loopback host).
   * @throws KeyError when a file cannot be read or holds no Ed25519 key, or a URL is not allowed.
   */
  constructor(source: readonly TrustedKey[] | string = [], options: TrustedKeySetOptions = {}) {
    this.minRefetchMs = options.minRefetchIntervalMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.ttl = {
      default: options.ttlMs ?? 300_000,
      min: options.minTtlMs ?? 30_000,
      max: options.maxTtlMs ?? 3_600_000,
    };
    if (typeof source === 'string' && /^https?:\/\//i.test(source)) {
      checkJwksUrl(new URL(source));
      this.url = source;
      this.refresh();
    } else {
      this.replace(typeof source === 'string' ? loadTrustedKeysFile(source) : source);
      this.everLoaded = true;
      this.stats.loads++;
    }
  }

  /** The trusted key of `kid`; an unknown `kid` makes a URL-backed set refetch (rate-limited). */
  get(kid: string): TrustedKey | undefined {
    const now = this.now();
    // Near the end of the lifetime; after a failed refetch, again at most every minRefetchIntervalMs.
    if (this.url && now >= this.refreshAt && now - this.lastFetch >= this.minRefetchMs) this.refresh();
    const key = this.peek(kid);
    if (key) return key;
    if (this.url) {
      if (!this.everLoaded) this.stats.notLoaded++;
      else if (this.keys.has(kid)) this.stats.expired++;
      else this.stats.unknownKid++;
      if (this.now() - this.lastFetch >= this.minRefetchMs) this.refresh();
    } else {
      this.stats.unknownKid++;
    }
    return undefined;
  }

  /** Trusts `keys` too, whatever the source reloads (e.g. this process's own public key). */
  add(keys: readonly TrustedKey[]): void {
    for (const k of keys) this.extra.set(k.kid, k);
  }

  /** Whether `kid` is trusted now; unlike {@link TrustedKeySet.get} it never triggers a refetch. */
  has(kid: string): boolean {
    return this.peek(kid) !== undefined;
  }

  /** The key trusted now under `kid`, if any; like {@link TrustedKeySet.has} it never triggers a refetch. */
  peek(kid: string): TrustedKey | undefined {
    return this.live().get(kid) ?? this.extra.get(kid);
  }

  /** The kids trusted now. */
  kids(): string[] {
    return [...new Set([...this.live().keys(), ...this.extra.keys()])];
  }

  /** The source's keys, unless a URL's lifetime ran out without a successful refetch. */
  private live(): ReadonlyMap<string, TrustedKey> {
    return this.now() > this.expiresAt ? EMPTY : this.keys;
  }

  /** Resolves once a load that is under way has finished (at once for a fixed list or file). */
  ready(): Promise<void> {
    return this.loading ?? Promise.resolve();
  }

  /** Fetches a JWKS URL again now (no-op for other sources); resolves when done, never rejects. */
  refresh(): Promise<void> {
    const url = this.url;
    if (!url) return Promise.resolve();
    if (this.loading) return this.loading;
    this.lastFetch = this.now();
    // The key fetch is onbehalf's own traffic: it must not show up as a span of the host application.
    const load = context.with(coreSdk().suppressTracing(context.active()), () => fetchJwks(url));
    this.loading = load
      .then(({ keys, maxAgeSeconds }) => {
        this.replace(keys);
        this.everLoaded = true;
        this.stats.loads++;
        const ttl =
          maxAgeSeconds === undefined
            ? this.ttl.default
            : Math.min(this.ttl.max, Math.max(this.ttl.min, maxAgeSeconds * 1000));
        const at = this.now();
        this.expiresAt = at + ttl;
        this.refreshAt = at + ttl * 0.8;
      })
      .catch((err: unknown) => {
        this.stats.loadFailures++;
        reportProblem({
          code: 'key.unusable',
          component: 'trusted-key-set',
          message: 'could not load trusted keys',
          cause: err,
          source: this,
        });
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  private replace(keys: readonly TrustedKey[]): void {
    // New objects on every load: a verification cached against the old ones is checked again.
    this.keys = new Map(keys.map((k) => [k.kid, k]));
  }
}
