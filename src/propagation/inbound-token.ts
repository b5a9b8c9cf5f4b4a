/**
 * Attribution from an OAuth access token: a service called by an agent platform gets a bearer token
 * whose RFC 8693 `act` claim names the agent acting for the token's subject. Once verified, that is as
 * good a source as a signed attribution token.
 */

import { readFileSync } from 'node:fs';
import { context } from '@opentelemetry/api';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import {
  type Attribution,
  contextWithAttribution,
  MAX_ATTRIBUTION_LIST,
  parseAttribution,
} from '../attribution/attribution.js';
import { OnbehalfError } from '../errors/onbehalf-error.js';
import type { TrustedKey } from '../keys/keys.js';
import { coreSdk } from '../otel/sdk-loader.js';

/** Options of {@link AccessTokenVerifier}. */
export interface AccessTokenVerifierOptions {
  /** The issuer's public keys: a JWKS URL, a JWKS file path, a JWKS document, or trusted keys. */
  jwks: string | URL | JSONWebKeySet | readonly TrustedKey[];
  /** Accepted `iss`; required, since a token from another issuer proves nothing here. */
  issuer: string | string[];
  /** Accepted `aud`; required, since a token meant for another service must not be replayed here. */
  audience: string | string[];
  /** Accepted signature algorithms; asymmetric ones by default (never `none` or a shared secret). */
  algorithms?: string[];
  /** Required JOSE `typ`, e.g. `at+jwt` (RFC 9068); any by default. */
  typ?: string;
  /** Clock tolerance for `exp`/`nbf`; 30 s by default. */
  clockToleranceSeconds?: number;
  /**
   * Actor type of the parties in `act`; `agent` by default. Never `human`: a human actor is verified
   * only from a token with no `act`, where the subject the identity provider authenticated acts itself.
   */
  actorType?: 'agent' | 'service';
  /** Type of the subject (`sub`); `human` by default. */
  subjectType?: 'human' | 'service';
  /** Longest delegation chain accepted; {@link MAX_ATTRIBUTION_LIST} by default. */
  maxChain?: number;
  /** How many verified tokens to remember until they expire; 1024 by default, 0 turns it off. */
  cacheSize?: number;
}

/** Why an access token was refused; `message` says more. */
export type InboundTokenReason = 'missing' | 'invalid' | 'claims' | 'chain_too_deep';

/** Thrown when an access token cannot attribute a call; a service answers 401. */
export class InboundTokenError extends OnbehalfError {
  override name = 'InboundTokenError';
  constructor(
    message: string,
    /** What was wrong. */
    readonly reason: InboundTokenReason,
    options?: ErrorOptions,
  ) {
    super(`inbound_token.${reason}`, message, options);
  }
}

const DEFAULT_ALGORITHMS = ['EdDSA', 'ES256', 'ES384', 'PS256', 'RS256'];

/**
 * Verifies OAuth access tokens (jose `jwtVerify`: signature, `iss`, `aud`, `exp`, `nbf`) and maps them
 * to an {@link Attribution} with provenance `verified`: `sub` is the principal, `act.sub` the actor,
 * nested `act` the rest of the delegation chain (RFC 8693 §4.1), `scope`/`scp` the scopes. Without `act`,
 * the subject acts itself. Results are cached per token until it expires.
 *
 * @example
 * const tokens = new AccessTokenVerifier({ jwks: 'https://idp.example/jwks', issuer: 'https://idp.example', audience: 'tools' });
 * server.on('request', (req, res) =>
 *   tokens.run(req.headers.authorization, () => handle(req, res)).catch(() => { res.statusCode = 401; res.end(); }));
 */
export class AccessTokenVerifier {
  private readonly getKey: JWTVerifyGetKey;
  private readonly cache = new Map<string, { attribution: Readonly<Attribution>; exp: number }>();

  /** @throws InboundTokenError when the options are unusable (no issuer or audience, unreadable JWKS). */
  constructor(private readonly options: AccessTokenVerifierOptions) {
    if (!options.issuer || (Array.isArray(options.issuer) && options.issuer.length === 0))
      throw new InboundTokenError('AccessTokenVerifier: issuer is required', 'invalid');
    if (!options.audience || (Array.isArray(options.audience) && options.audience.length === 0))
      throw new InboundTokenError('AccessTokenVerifier: audience is required', 'invalid');
    // Plain JavaScript callers are checked too: an `act` party is whoever the token's client says it is.
    if ((options.actorType as string | undefined) === 'human')
      throw new InboundTokenError(
        'AccessTokenVerifier: actorType human: a human actor is verified only from a token with no act claim',
        'invalid',
      );
    this.getKey = keyResolver(options.jwks);
  }

  /**
   * The attribution of a bearer token (with or without the `Bearer ` prefix).
   * @throws InboundTokenError naming what is wrong.
   */
  async attributionOf(token: string | undefined): Promise<Readonly<Attribution>> {
    const jwt = token?.replace(/^Bearer\s+/i, '').trim();
    if (!jwt) throw new InboundTokenError('no bearer token', 'missing');
    const now = Math.floor(Date.now() / 1000);
    const hit = this.cache.get(jwt);
    if (hit && now <= hit.exp + (this.options.clockToleranceSeconds ?? 30)) return hit.attribution;
    let payload: JWTPayload;
    try {
      // A remote JWKS fetch is onbehalf's own traffic, not a span of the host application.
      const result = await context.with(coreSdk().suppressTracing(context.active()), () =>
        jwtVerify(jwt, this.getKey, {
          issuer: this.options.issuer,
          audience: this.options.audience,
          algorithms: this.options.algorithms ?? DEFAULT_ALGORITHMS,
          clockTolerance: this.options.clockToleranceSeconds ?? 30,
          ...(this.options.typ && { typ: this.options.typ }),
          requiredClaims: ['sub', 'exp'],
        }),
      );
      payload = result.payload;
    } catch (err) {
      throw new InboundTokenError(`access token refused: ${(err as Error).message}`, 'invalid');
    }
    const attribution = this.toAttribution(payload);
    this.remember(jwt, attribution, payload.exp ?? now);
    return attribution;
  }

  /**
   * Runs `fn` with the attribution of the `Authorization` header in context.
   * @throws InboundTokenError before `fn` runs when the token is missing or refused.
   */
  async run<T>(authorization: string | undefined, fn: () => T | Promise<T>): Promise<T> {
    const attribution = await this.attributionOf(authorization);
    return context.with(contextWithAttribution(attribution), fn);
  }

  private toAttribution(payload: JWTPayload): Readonly<Attribution> {
    const sub = payload.sub as string;
    const maxChain = this.options.maxChain ?? MAX_ATTRIBUTION_LIST;
    const actors: string[] = [];
    let outermost: Record<string, unknown> | undefined;
    for (let act: unknown = payload.act; act !== undefined; act = (act as { act?: unknown }).act) {
      if (!act || typeof act !== 'object' || typeof (act as { sub?: unknown }).sub !== 'string')
        throw new InboundTokenError('access token: act claim without a string sub', 'claims');
      outermost ??= act as Record<string, unknown>;
      actors.unshift((act as { sub: string }).sub);
      if (actors.length >= maxChain)
        throw new InboundTokenError(`access token: act nested deeper than ${maxChain - 1}`, 'chain_too_deep');
    }
    const scopes = scopesOf(payload);
    try {
      return parseAttribution({
        actor: outermost
          ? { type: this.options.actorType ?? 'agent', id: outermost.sub }
          : { type: this.options.subjectType ?? 'human', id: sub },
        principal: { id: sub, type: this.options.subjectType ?? 'human' },
        ...(scopes && { scopes }),
        delegationChain: [sub, ...actors],
        provenance: 'verified',
      });
    } catch (err) {
      throw new InboundTokenError(`access token: ${(err as Error).message}`, 'claims');
    }
  }

  private remember(jwt: string, attribution: Readonly<Attribution>, exp: number): void {
    const size = this.options.cacheSize ?? 1024;
    if (size <= 0) return;
    if (this.cache.size >= size) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(jwt, { attribution, exp });
  }
}

function scopesOf(payload: JWTPayload): string[] | undefined {
  const raw = payload.scope ?? payload.scp;
  const list = typeof raw === 'string' ? raw.split(/\s+/) : Array.isArray(raw) ? raw : undefined;
  const scopes = list?.filter((s): s is string => typeof s === 'string' && s.length > 0);
  return scopes?.length ? scopes.slice(0, MAX_ATTRIBUTION_LIST) : undefined;
}

function keyResolver(jwks: AccessTokenVerifierOptions['jwks']): JWTVerifyGetKey {
  if (jwks instanceof URL) return createRemoteJWKSet(jwks);
  if (typeof jwks === 'string') {
    if (/^https?:\/\//i.test(jwks)) return createRemoteJWKSet(new URL(jwks));
    let doc: JSONWebKeySet;
    try {
      doc = JSON.parse(readFileSync(jwks, 'utf8')) as JSONWebKeySet;
    } catch (err) {
      throw new InboundTokenError(`AccessTokenVerifier: JWKS ${jwks}: ${(err as Error).message}`, 'invalid');
    }
    return createLocalJWKSet(doc);
  }
  if (Array.isArray(jwks))
    return createLocalJWKSet({ keys: (jwks as readonly TrustedKey[]).map((k) => k.jwk) });
  return createLocalJWKSet(jwks as JSONWebKeySet);
}
