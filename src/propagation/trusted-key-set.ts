import { context, diag } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { loadTrustedKeys, loadTrustedKeysFile, type TrustedKey } from '../keys/keys.js';

/** Options of {@link TrustedKeySet}. */
export interface TrustedKeySetOptions {
  /**
   * Least time between two fetches of a JWKS URL triggered by unknown `kid`s, so a caller sending
   * made-up key ids cannot turn this process into a load generator against the JWKS host. 30 s by default.
   */
  minRefetchIntervalMs?: number;
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
}

/**
 * The public keys trusted to sign attribution: a fixed list, a JWKS file (read once, synchronously)
 * or a JWKS URL (fetched in the background, and again, rate-limited, when an unknown `kid` shows up,
 * so a newly rotated key is picked up without a restart). Several keys may be trusted at once: an
 * agent's key can rotate while its id, which comes from the token's claims, stays the same.
 */
export class TrustedKeySet {
  readonly stats: TrustedKeySetStats = { loads: 0, loadFailures: 0, unknownKid: 0, notLoaded: 0 };
  private keys = new Map<string, TrustedKey>();
  private readonly extra = new Map<string, TrustedKey>();
  private readonly url: string | undefined;
  private readonly minRefetchMs: number;
  private loading: Promise<void> | undefined;
  private lastFetch = 0;
  private everLoaded = false;

  /**
   * @param source trusted keys, a JWKS file path, or an `http(s)://` JWKS URL.
   * @throws KeyError when a file cannot be read or holds no Ed25519 key.
   */
  constructor(source: readonly TrustedKey[] | string = [], options: TrustedKeySetOptions = {}) {
    this.minRefetchMs = options.minRefetchIntervalMs ?? 30_000;
    if (typeof source === 'string' && /^https?:\/\//i.test(source)) {
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
    const key = this.keys.get(kid) ?? this.extra.get(kid);
    if (key) return key;
    if (this.url) {
      if (!this.everLoaded) this.stats.notLoaded++;
      else this.stats.unknownKid++;
      if (Date.now() - this.lastFetch >= this.minRefetchMs) this.refresh();
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
    return this.keys.has(kid) || this.extra.has(kid);
  }

  /** The key trusted now under `kid`, if any; like {@link TrustedKeySet.has} it never triggers a refetch. */
  peek(kid: string): TrustedKey | undefined {
    return this.keys.get(kid) ?? this.extra.get(kid);
  }

  /** The kids trusted now. */
  kids(): string[] {
    return [...new Set([...this.keys.keys(), ...this.extra.keys()])];
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
    this.lastFetch = Date.now();
    // The key fetch is onbehalf's own traffic: it must not show up as a span of the host application.
    const load = context.with(suppressTracing(context.active()), () => loadTrustedKeys(url));
    this.loading = load
      .then((keys) => {
        this.replace(keys);
        this.everLoaded = true;
        this.stats.loads++;
      })
      .catch((err: unknown) => {
        this.stats.loadFailures++;
        diag.warn(`onbehalf: could not load trusted keys: ${(err as Error).message}`);
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  private replace(keys: readonly TrustedKey[]): void {
    this.keys = new Map(keys.map((k) => [k.kid, k]));
  }
}
