// Trusted keys as a receiver holds them: each bound to the actors it may speak for.
import type { JWK } from 'jose';
import { boundJwk, parseActorRef, thisHostOrigins } from '../../src/keys/key-binding.js';
import type { SigningKey, TrustedKey } from '../../src/keys/keys.js';

/** The public JWK of `key`, bound to `actors` (`type:id`). */
export function boundPublicJwk(key: SigningKey, ...actors: string[]): JWK {
  return boundJwk(
    key.publicJwk,
    actors.map((a) => parseActorRef(a)),
  );
}

/** `key` as a trusted key bound to `actors` (`type:id`). */
export function trustedKey(key: SigningKey, ...actors: string[]): TrustedKey {
  return { kid: key.kid, publicKey: key.publicKey, jwk: boundPublicJwk(key, ...actors) };
}

/**
 * A JWKS file's text pinning `keys` as an operator would: each bound to `origins`, by default the
 * logs stores on this host start (`onbehalf/<host>/*`).
 */
export function pinnedJwksText(
  keys: readonly SigningKey[],
  origins: readonly string[] = [thisHostOrigins()],
): string {
  return JSON.stringify({ keys: keys.map((key) => boundJwk(key.publicJwk, [], origins)) });
}
