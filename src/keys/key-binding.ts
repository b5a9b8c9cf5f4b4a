/**
 * What a trusted key may speak for (docs/trust-model.md). A JWK in a JWKS file or URL names it in two
 * private members (RFC 7517 §4 allows them):
 *
 * - `onbehalf_actors`: the actors whose attribution tokens the key may sign, as `type:id`
 *   (`"agent:nhi:agent-7f3"`, `"human:tom"`). A key without it signs for no one: a token whose current
 *   actor is not listed on its key is not verified. Rotation lists the same actor on the old and the
 *   new key.
 * - `onbehalf_origins`: the store origins whose checkpoints the key may sign, each an exact origin or a
 *   prefix ending in `/*` (`"onbehalf/host-1/*"`: every log a writer on host-1 starts). A pinned key
 *   (`verify --trusted-keys`) vouches only for the origins it lists, so a host holding a key cannot
 *   vouch for a log it makes up under another host's name; a key without the member vouches for none.
 *   The keys a store recorded in itself prove consistency only, and are not held to it.
 */
import { hostname } from 'node:os';
import type { JWK } from 'jose';
import type { Actor } from '../attribution/attribution.js';
import { KeyError, type TrustedKey } from './keys.js';

/** The JWK member listing the actors a key may sign attribution for. */
export const JWK_ACTORS_MEMBER = 'onbehalf_actors';
/** The JWK member listing the store origins a key may sign checkpoints for. */
export const JWK_ORIGINS_MEMBER = 'onbehalf_origins';

/** What one trusted key may speak for. */
export interface KeyBinding {
  /** `type:id` of each actor the key signs for; empty when it signs for none. */
  readonly actors: ReadonlySet<string>;
  /** Origins (exact, or a prefix ending in `/*`) whose checkpoints it signs; undefined when it names none. */
  readonly origins: ReadonlySet<string> | undefined;
}

const ACTOR_TYPES = new Set(['agent', 'human', 'service']);
const bindings = new WeakMap<object, KeyBinding>();

/** `agent:nhi:agent-7f3`: how an actor is named in a key's binding. */
export function actorRef(actor: Pick<Actor, 'type' | 'id'>): string {
  return `${actor.type}:${actor.id}`;
}

/**
 * `agent:nhi:agent-7f3` → `{ type: 'agent', id: 'nhi:agent-7f3' }`.
 * @throws KeyError when `ref` is not `agent:ID`, `human:ID` or `service:ID`.
 */
export function parseActorRef(ref: string, where = 'actor'): Pick<Actor, 'type' | 'id'> {
  const colon = ref.indexOf(':');
  const type = ref.slice(0, colon);
  if (colon <= 0 || colon === ref.length - 1 || !ACTOR_TYPES.has(type))
    throw new KeyError(`${where}: ${JSON.stringify(ref)} is not "agent:ID", "human:ID" or "service:ID"`);
  return { type: type as Actor['type'], id: ref.slice(colon + 1) };
}

/**
 * The binding of a JWK.
 * @throws KeyError naming the key and the member when a member is present but malformed.
 */
export function keyBindingOf(jwk: JWK, source = 'JWKS'): KeyBinding {
  const cached = bindings.get(jwk);
  if (cached) return cached;
  const raw = jwk as Record<string, unknown>;
  const name = `trusted keys ${source}: key ${typeof jwk.kid === 'string' ? jwk.kid : '(no kid)'}`;
  const actors = stringList(raw[JWK_ACTORS_MEMBER], `${name}: ${JWK_ACTORS_MEMBER}`);
  for (const ref of actors ?? []) parseActorRef(ref, `${name}: ${JWK_ACTORS_MEMBER}`);
  const origins = stringList(raw[JWK_ORIGINS_MEMBER], `${name}: ${JWK_ORIGINS_MEMBER}`);
  for (const origin of origins ?? []) checkOriginPattern(origin, `${name}: ${JWK_ORIGINS_MEMBER}`);
  const binding: KeyBinding = {
    actors: new Set(actors ?? []),
    origins: origins ? new Set(origins) : undefined,
  };
  bindings.set(jwk, binding);
  return binding;
}

/** Whether `key` may sign attribution whose current actor is `actor`; a malformed binding allows none. */
export function keySpeaksFor(key: TrustedKey, actor: Pick<Actor, 'type' | 'id'>): boolean {
  try {
    return keyBindingOf(key.jwk).actors.has(actorRef(actor));
  } catch {
    return false;
  }
}

/**
 * Whether `key` may sign checkpoints of `origin`: it names `origin`, or names no origin at all (a key
 * the store recorded in itself). A malformed binding allows none. Pinned keys are held to
 * {@link keyBoundToOrigin} instead.
 */
export function keySignsOrigin(key: TrustedKey, origin: string): boolean {
  try {
    return keyBindingOf(key.jwk).origins === undefined || keyBoundToOrigin(key, origin);
  } catch {
    return false;
  }
}

/** Whether `key` lists `origin` in its `onbehalf_origins` (exactly or under a `/*` prefix). */
export function keyBoundToOrigin(key: TrustedKey, origin: string): boolean {
  try {
    return [...(keyBindingOf(key.jwk).origins ?? [])].some((pattern) => originMatches(pattern, origin));
  } catch {
    return false;
  }
}

/** Whether `origin` is `pattern`, or lies under it when `pattern` ends in `/*`. */
export function originMatches(pattern: string, origin: string): boolean {
  return pattern.endsWith('/*') ? origin.startsWith(pattern.slice(0, -1)) : origin === pattern;
}

/**
 * The origins a writer on this host starts when none is named (`onbehalf/<host>/<random>`, one per
 * store or process): what a store's own key is bound to when its origin is not fixed.
 */
export function thisHostOrigins(): string {
  return `onbehalf/${hostname()}/*`;
}

/** A public JWK that may speak for `actors` and, if given, sign checkpoints of `origins` only. */
export function boundJwk(
  jwk: JWK,
  actors: readonly Pick<Actor, 'type' | 'id'>[],
  origins?: readonly string[],
): JWK {
  const bound: Record<string, unknown> = { ...jwk, [JWK_ACTORS_MEMBER]: actors.map(actorRef) };
  if (origins?.length) bound[JWK_ORIGINS_MEMBER] = [...origins];
  keyBindingOf(bound as JWK);
  return bound as JWK;
}

/** A `*` only as a whole last segment: `a/*` binds a prefix; `*` or `a*b` would bind more than meant. */
function checkOriginPattern(origin: string, where: string): void {
  const star = origin.indexOf('*');
  if (star >= 0 && (star !== origin.length - 1 || !origin.endsWith('/*') || origin.length < 3))
    throw new KeyError(
      `${where}: ${JSON.stringify(origin)}: "*" may only end an origin prefix, as in "onbehalf/host-1/*"`,
    );
}

function stringList(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 512))
    throw new KeyError(`${where}: must be an array of non-empty strings`);
  return value as string[];
}
