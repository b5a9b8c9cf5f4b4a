/**
 * The signed attribution token: a compact JWS (EdDSA over Ed25519) whose claims follow RFC 8693
 * (`sub` = principal, `act` = acting agent, nested `act` = earlier actors in the delegation chain),
 * bound to one trace by `trace_id`.
 *
 * Propagators run synchronously, and jose signs and verifies asynchronously (WebCrypto), so tokens are
 * made and checked here with node:crypto's synchronous Ed25519; the format is plain JWS, so jose's
 * `SignJWT` / `jwtVerify` interoperate with it.
 */
import { randomFillSync, sign, verify } from 'node:crypto';
import { z } from 'zod';
import {
  type Actor,
  type Attribution,
  MAX_ATTRIBUTION_LIST,
  MAX_ATTRIBUTION_STRING,
  parseAttribution,
} from '../attribution/attribution.js';
import type { VerificationFault, VerificationFaultCode } from '../errors/verification-fault.js';
import { actorRef, keySpeaksFor } from '../keys/key-binding.js';
import type { SigningKey, TrustedKey } from '../keys/keys.js';
import { fastClaims } from './token-claims-check.js';

/** The JOSE `typ` of an attribution token (RFC 8725 §3.11: explicit typing stops cross-JWT confusion). */
export const ATTRIBUTION_TOKEN_TYPE = 'onbehalf-attribution+jwt';
/** Longest token accepted or produced, so it fits one W3C baggage list-member with its key. */
export const MAX_ATTRIBUTION_TOKEN_BYTES = 4000;
/** Default lifetime of a token made by {@link signAttributionToken}: short, since a captured one works until then. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 120;
/** Longest lifetime (`exp - iat`) a verifier accepts: a leaked token must not stay useful for long. */
export const MAX_TOKEN_LIFETIME_SECONDS = 900;
/** Default clock skew allowed between signer and verifier. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

const str = z.string().min(1).max(MAX_ATTRIBUTION_STRING);
const numericDate = z.number().finite().nonnegative();
const actClaim: z.ZodType<ActClaim> = z.lazy(() =>
  z.object({ sub: str, act: actClaim.optional() }).passthrough(),
);

/** An RFC 8693 `act` claim: the acting party, and in `act.act` the one that delegated to it. */
export interface ActClaim {
  sub: string;
  act?: ActClaim;
  [claim: string]: unknown;
}

/** The claims schema (internal: the hand check in `token-claims-check.ts` is tested against it). */
export const ClaimsSchema = z.object({
  sub: str.optional(),
  principal_type: z.enum(['human', 'service']).optional(),
  roles: z.array(str).max(MAX_ATTRIBUTION_LIST).optional(),
  act: z
    .object({
      sub: str,
      actor_type: z.enum(['agent', 'human', 'service']),
      name: str.optional(),
      owner_id: str.optional(),
      version: str.optional(),
      act: actClaim.optional(),
    })
    .passthrough(),
  intent: z.object({ id: str.optional(), name: str.optional() }).optional(),
  trigger: z.object({ type: str, id: str }).optional(),
  scp: z.array(str).max(MAX_ATTRIBUTION_LIST).optional(),
  session_id: str.optional(),
  conversation_id: str.optional(),
  trace_id: z.string().regex(/^[0-9a-f]{32}$/),
  // RFC 7519 §2: a NumericDate is seconds since the epoch and may be fractional.
  iat: numericDate,
  exp: numericDate,
  nbf: numericDate.optional(),
  aud: z.union([str, z.array(str).min(1).max(MAX_ATTRIBUTION_LIST)]).optional(),
  jti: str,
});

/** The claims of an attribution token. */
export type AttributionClaims = z.infer<typeof ClaimsSchema>;

/**
 * Why a token was not accepted; each is counted by the propagator. The `token.*` verification fault
 * codes without their prefix, so the list (and what each means) is kept once, with the other codes.
 */
export type TokenRejection = VerificationFaultCode extends infer C
  ? C extends `token.${infer Reason}`
    ? Reason
    : never
  : never;

/** Outcome of {@link verifyAttributionToken}. */
export type TokenVerification =
  | { ok: true; attribution: Readonly<Attribution>; claims: AttributionClaims; kid: string }
  | {
      ok: false;
      /** Why, as the bounded value of the rejection metric's attribute. */
      reason: TokenRejection;
      /** The same with what exactly is wrong: code `token.<reason>`. */
      fault: VerificationFault;
    };

/** Options of {@link signAttributionToken}. */
export interface SignTokenOptions {
  key: SigningKey;
  /** 32 lowercase hex digits: the trace the token is bound to. */
  traceId: string;
  /** Seconds since the epoch; now by default. */
  now?: number;
  lifetimeSeconds?: number;
  /** The receiving services (`aud`); a receiver with an audience accepts only tokens naming it. */
  audience?: string | readonly string[];
}

/**
 * Signs `attribution` for the trace `traceId`. Returns `undefined` when the token would be larger
 * than {@link MAX_ATTRIBUTION_TOKEN_BYTES} even without its optional claims: an oversized signed
 * entry would be cut off in transit, so none is better than a broken one.
 */
export function signAttributionToken(
  attribution: Readonly<Attribution>,
  options: SignTokenOptions,
): string | undefined {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const claims = attributionToClaims(attribution, options.traceId, now, options.lifetimeSeconds);
  const aud = options.audience;
  if (aud !== undefined && aud.length > 0) claims.aud = typeof aud === 'string' ? aud : [...aud];
  const header = encodedHeader(options.key);
  // Optional claims go first, so a large attribution still carries who acted for whom.
  for (const drop of [[], ['roles', 'scp', 'intent'], ['session_id', 'conversation_id']] as const) {
    for (const k of drop) delete (claims as Record<string, unknown>)[k];
    const input = `${header}.${encodeJson(claims)}`;
    const token = `${input}.${sign(null, Buffer.from(input), options.key.privateKey).toString('base64url')}`;
    if (token.length <= MAX_ATTRIBUTION_TOKEN_BYTES) return token;
  }
  return undefined;
}

/** The RFC 8693 claims of an attribution (exported for tests and for signing with other JOSE tools). */
export function attributionToClaims(
  a: Readonly<Attribution>,
  traceId: string,
  now: number,
  lifetimeSeconds = DEFAULT_TOKEN_LIFETIME_SECONDS,
): AttributionClaims {
  const chain = a.delegationChain ?? [a.actor.id];
  const principalId = a.principal?.id;
  // The principal is `sub`, so it is not repeated as an actor unless it acts itself.
  const actors =
    principalId !== undefined && chain[0] === principalId && chain.length > 1 ? chain.slice(1) : [...chain];
  if (actors[actors.length - 1] !== a.actor.id) actors.push(a.actor.id);
  let earlier: ActClaim | undefined;
  for (const id of actors.slice(0, -1)) earlier = earlier ? { sub: id, act: earlier } : { sub: id };
  const claims: AttributionClaims = {
    act: {
      sub: a.actor.id,
      actor_type: a.actor.type,
      ...(a.actor.name !== undefined && { name: a.actor.name }),
      ...(a.actor.ownerId !== undefined && { owner_id: a.actor.ownerId }),
      ...(a.actor.version !== undefined && { version: a.actor.version }),
      ...(earlier && { act: earlier }),
    },
    trace_id: traceId,
    iat: now,
    exp: now + lifetimeSeconds,
    jti: randomJti(),
  };
  if (a.principal) {
    claims.sub = a.principal.id;
    if (a.principal.type) claims.principal_type = a.principal.type;
    if (a.principal.roles?.length) claims.roles = [...a.principal.roles];
  }
  if (a.intent) claims.intent = { ...a.intent };
  if (a.trigger) claims.trigger = { ...a.trigger };
  if (a.scopes) claims.scp = [...a.scopes];
  if (a.sessionId) claims.session_id = a.sessionId;
  if (a.conversationId) claims.conversation_id = a.conversationId;
  return claims;
}

/**
 * RFC 7515 §4.1.9: `typ` is a media type, compared case-insensitively, and `application/` may be left
 * out; `application/onbehalf-attribution+JWT` is the same type as `onbehalf-attribution+jwt`.
 */
function isAttributionType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const t = typ.toLowerCase();
  return (t.startsWith('application/') ? t.slice('application/'.length) : t) === ATTRIBUTION_TOKEN_TYPE;
}

/** Options of {@link verifyAttributionToken}. */
export interface VerifyTokenOptions {
  /** Finds the trusted public key of a `kid`. */
  keyFor: (kid: string) => TrustedKey | undefined;
  /** The trace id of the request carrying the token; `undefined` fails the trace binding. */
  traceId: string | undefined;
  /** Seconds since the epoch; now by default. */
  now?: number;
  clockSkewSeconds?: number;
  /** Longest delegation chain accepted; {@link MAX_ATTRIBUTION_LIST} by default. */
  maxChain?: number;
  /**
   * This receiver's names. With one, a token must carry one of them in `aud`; without one, a token
   * that carries an `aud` is refused (RFC 7519 §4.1.3: it is meant for someone else).
   */
  audience?: string | readonly string[];
}

/**
 * Verifies a token: EdDSA only (never `none`), the expected `typ`, a trusted `kid`, the signature,
 * the claims, a key bound to the token's current actor (docs/trust-model.md), `iat`/`exp` (with clock skew), the lifetime, the depth of `act` and the trace binding.
 * Never throws; a failure names its reason.
 */
export function verifyAttributionToken(token: string, options: VerifyTokenOptions): TokenVerification {
  const checked = verifySignedClaims(token, options.keyFor, options.maxChain);
  if (!checked.ok) return checked;
  return checkTimeAndTrace(checked, options);
}

/** The request-independent part of {@link verifyAttributionToken}: format, key, signature, claims. */
export function verifySignedClaims(
  token: string,
  keyFor: (kid: string) => TrustedKey | undefined,
  maxChain = MAX_ATTRIBUTION_LIST,
  speaksFor: (key: TrustedKey, actor: Pick<Actor, 'type' | 'id'>) => boolean = keySpeaksFor,
): TokenVerification {
  if (typeof token !== 'string' || token.length > MAX_ATTRIBUTION_TOKEN_BYTES)
    return rejectToken('oversized', `longer than ${MAX_ATTRIBUTION_TOKEN_BYTES} bytes`);
  const parts = token.split('.');
  // An empty signature is let through to the header checks, so `alg: none` is refused by name.
  if (
    parts.length !== 3 ||
    !parts.every((p, i) => (i === 2 ? /^[A-Za-z0-9_-]*$/ : /^[A-Za-z0-9_-]+$/).test(p))
  )
    return rejectToken('malformed', 'not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h);
  if (!header) return rejectToken('malformed', 'header is not a JSON object');
  if (header.alg !== 'EdDSA')
    return rejectToken('algorithm', `alg ${JSON.stringify(header.alg)} is not EdDSA`);
  if (!isAttributionType(header.typ)) return rejectToken('type', `typ ${JSON.stringify(header.typ)}`);
  // RFC 7515 §4.1.11: a critical extension nobody here understands makes the token unusable.
  if (header.crit !== undefined) return rejectToken('malformed', 'unsupported crit header');
  // RFC 7797: an unencoded payload changes what was signed; without crit it must not pass as plain JWS.
  if (header.b64 !== undefined) return rejectToken('malformed', 'b64 header is not supported');
  if (typeof header.kid !== 'string') return rejectToken('malformed', 'no kid');
  const key = keyFor(header.kid);
  if (!key) return rejectToken('unknown_key', `kid ${header.kid} is not trusted`);
  const signature = Buffer.from(s, 'base64url');
  if (signature.length !== 64) return rejectToken('signature', 'not an Ed25519 signature');
  let valid = false;
  try {
    valid = verify(null, Buffer.from(`${h}.${p}`), key.publicKey, signature);
  } catch {
    valid = false;
  }
  if (!valid) return rejectToken('signature', `bad signature for kid ${header.kid}`);
  const payload = decodeJson(p);
  // The common case is checked by hand; zod (and its error machinery) only sees claims that fail it.
  let claims = fastClaims(payload);
  if (!claims) {
    const parsed = ClaimsSchema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return rejectToken('claims', `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
    }
    claims = parsed.data;
  }
  const actors: string[] = [];
  for (let act: ActClaim | undefined = claims.act; act; act = act.act) {
    actors.unshift(act.sub);
    if (actors.length > maxChain) return rejectToken('chain_too_deep', `act nested deeper than ${maxChain}`);
  }
  const chain = claims.sub !== undefined && actors[0] !== claims.sub ? [claims.sub, ...actors] : actors;
  if (chain.length > maxChain)
    return rejectToken('chain_too_deep', `delegation chain longer than ${maxChain}`);
  // The signature says who signed; only the key's binding says whom the signer may speak for.
  const current = { type: claims.act.actor_type, id: claims.act.sub };
  if (!speaksFor(key, current))
    return rejectToken('unbound_actor', `kid ${header.kid} may not speak for ${actorRef(current)}`);
  try {
    const attribution = parseAttribution({
      actor: {
        type: claims.act.actor_type,
        id: claims.act.sub,
        ...(claims.act.name !== undefined && { name: claims.act.name }),
        ...(claims.act.owner_id !== undefined && { ownerId: claims.act.owner_id }),
        ...(claims.act.version !== undefined && { version: claims.act.version }),
      },
      ...(claims.sub !== undefined && {
        principal: {
          id: claims.sub,
          ...(claims.principal_type && { type: claims.principal_type }),
          ...(claims.roles && { roles: claims.roles }),
        },
      }),
      ...(claims.intent && { intent: claims.intent }),
      ...(claims.trigger && { trigger: claims.trigger }),
      ...(claims.scp && { scopes: claims.scp }),
      ...(claims.session_id && { sessionId: claims.session_id }),
      ...(claims.conversation_id && { conversationId: claims.conversation_id }),
      delegationChain: chain,
      provenance: 'verified',
    });
    return { ok: true, attribution, claims, kid: header.kid };
  } catch (err) {
    return rejectToken('claims', (err as Error).message);
  }
}

/** The per-request part of {@link verifyAttributionToken}: expiry, lifetime and trace binding. */
export function checkTimeAndTrace(
  checked: Extract<TokenVerification, { ok: true }>,
  options: Pick<VerifyTokenOptions, 'traceId' | 'now' | 'clockSkewSeconds' | 'audience'>,
): TokenVerification {
  const { claims } = checked;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const skew = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (claims.exp - claims.iat > MAX_TOKEN_LIFETIME_SECONDS)
    return rejectToken(
      'lifetime',
      `lifetime ${claims.exp - claims.iat}s exceeds ${MAX_TOKEN_LIFETIME_SECONDS}s`,
    );
  if (now > claims.exp + skew) return rejectToken('expired', `expired at ${claims.exp}`);
  if (claims.iat > now + skew) return rejectToken('not_yet_valid', `issued in the future (${claims.iat})`);
  if (claims.nbf !== undefined && claims.nbf > now + skew)
    return rejectToken('not_yet_valid', `not valid before ${claims.nbf}`);
  const audience = audienceProblem(claims.aud, options.audience);
  if (audience) return rejectToken('audience', audience);
  if (claims.trace_id !== options.traceId)
    return rejectToken(
      'trace_mismatch',
      `bound to trace ${claims.trace_id}, arrived in ${options.traceId ?? 'no trace'}`,
    );
  return checked;
}

/** Why `aud` does not fit this receiver's names (RFC 7519 §4.1.3), or undefined when it does. */
function audienceProblem(
  aud: string | string[] | undefined,
  mine: string | readonly string[] | undefined,
): string | undefined {
  const names = mine === undefined ? [] : typeof mine === 'string' ? [mine] : mine;
  const meant = aud === undefined ? [] : typeof aud === 'string' ? [aud] : aud;
  if (names.length === 0)
    return meant.length > 0 ? `meant for ${meant.join(', ')}; this receiver has no audience` : undefined;
  if (meant.length === 0) return `no aud; this receiver requires ${names.join(' or ')}`;
  return meant.some((a) => names.includes(a))
    ? undefined
    : `meant for ${meant.join(', ')}, not ${names.join(' or ')}`;
}

/** A token refused for `reason`, with `detail` saying exactly what is wrong. */
export function rejectToken(
  reason: TokenRejection,
  detail: string,
): Extract<TokenVerification, { ok: false }> {
  return { ok: false, reason, fault: { code: `token.${reason}`, message: detail } };
}

/** The encoded JWS header of a key, made once per key: it is the same on every token it signs. */
const headers = new WeakMap<SigningKey, string>();
function encodedHeader(key: SigningKey): string {
  let header = headers.get(key);
  if (header === undefined) {
    header = encodeJson({ alg: 'EdDSA', typ: ATTRIBUTION_TOKEN_TYPE, kid: key.kid });
    headers.set(key, header);
  }
  return header;
}

/** 12 random bytes, base64url, from a pool refilled 4 KiB at a time (one system call per 341 tokens). */
const jtiPool = Buffer.alloc(4092);
let jtiOffset = jtiPool.length;
function randomJti(): string {
  if (jtiOffset + 12 > jtiPool.length) {
    randomFillSync(jtiPool);
    jtiOffset = 0;
  }
  const jti = jtiPool.toString('base64url', jtiOffset, jtiOffset + 12);
  jtiOffset += 12;
  return jti;
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
