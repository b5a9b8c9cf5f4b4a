import { fault, type VerificationFault } from '../errors/verification-fault.js';
import { JWK_ORIGINS_MEMBER, keyBindingOf, keyBoundToOrigin } from '../keys/key-binding.js';
import type { TrustedKey } from '../keys/keys.js';
import { verifyCheckpoint } from '../log-format/checkpoint.js';

/**
 * The pinned keys that may vouch for `origin`'s checkpoints: those whose `onbehalf_origins` lists it
 * (docs/trust-model.md). A pinned key without the member vouches for no log: otherwise a host holding
 * any pinned key could sign a log it made up under a new origin and have it verify as intact.
 */
export function pinnedKeysFor(keys: readonly TrustedKey[], origin: string): TrustedKey[] {
  return keys.filter((key) => keyBoundToOrigin(key, origin));
}

/**
 * Why a log the pinned keys do not vouch for would have been: one of its checkpoints verifies under
 * a pinned key that is not bound to its origin. Names the key and the missing binding; undefined when
 * no such key signed any of them (the log is unvouched for another reason).
 */
export function unboundSignerFault(
  origin: string,
  notes: readonly string[],
  keys: readonly TrustedKey[],
): VerificationFault | undefined {
  const unbound = keys.filter((key) => !keyBoundToOrigin(key, origin));
  if (unbound.length === 0) return undefined;
  // verifyCheckpoint holds a key to its origins only when it lists some, so test each key on its own.
  for (const key of unbound) {
    const loose = { ...key, jwk: withoutOrigins(key) };
    if (!notes.some((note) => verifyCheckpoint(note, [loose], origin).ok)) continue;
    const origins = [...(safeOrigins(key) ?? [])];
    const has = origins.length
      ? `lists only ${JSON.stringify(origins)}`
      : `lists no ${JSON.stringify('onbehalf_origins')}`;
    const message =
      `its checkpoints are signed by pinned key ${key.kid}, which is not bound to origin ${JSON.stringify(origin)} ` +
      `(the key ${has}): a pinned key vouches only for the origins its ${JSON.stringify(JWK_ORIGINS_MEMBER)} names, ` +
      'so a host holding it could have made this log up. If the log is genuine, add the origin (or "onbehalf/<host>/*") to that key';
    return fault('checkpoint.key_unbound', message, { origin });
  }
  return undefined;
}

function withoutOrigins(key: TrustedKey): TrustedKey['jwk'] {
  const { [JWK_ORIGINS_MEMBER]: _dropped, ...rest } = key.jwk as Record<string, unknown>;
  return rest as TrustedKey['jwk'];
}

function safeOrigins(key: TrustedKey): ReadonlySet<string> | undefined {
  try {
    return keyBindingOf(key.jwk).origins;
  } catch {
    return undefined;
  }
}
