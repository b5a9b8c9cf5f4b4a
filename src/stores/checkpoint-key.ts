import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { bindKeyPairOrigins, createKeyPairOnce, loadSigningKey, type SigningKey } from '../keys/keys.js';
import { reportProblem } from '../metrics/problem-channel.js';

/**
 * The key a store signs its checkpoints with: the one given, else the one in `keyDir`
 * (`signing-key.jwk`), else a new one written there (private key mode 0600, `jwks.json` beside it);
 * when several processes create it at once, one key wins and all use it. `jwks.json` binds the key
 * to `origins` (an exact origin, or `onbehalf/<host>/*` for a writer whose origin changes per run), so
 * a pinned copy vouches for these logs and for no other.
 * Pin `jwks.json` with `onbehalf verify --trusted-keys` to prove the checkpoints' authenticity; the
 * copy of the public key inside the store only proves they are consistent.
 */
export function resolveCheckpointKey(
  keyDir: string,
  given: SigningKey | undefined,
  origins: readonly string[],
): SigningKey {
  if (given) return given;
  const path = `${keyDir}/signing-key.jwk`;
  if (!existsSync(path)) return createKeyPairOnce(keyDir, origins);
  const key = loadSigningKey(path);
  try {
    bindKeyPairOrigins(keyDir, key, origins);
  } catch (err) {
    // An unreadable jwks.json stops no writer: only a verifier pinning it needs it, and it will say so.
    reportProblem({
      code: 'key.unusable',
      component: 'checkpoint-key',
      message: `${keyDir}/jwks.json not bound to ${origins.join(', ')}`,
      cause: err,
    });
  }
  return key;
}

/** Where a SQLite store keeps its own checkpoint key: `<store>.keys/` beside the store file. */
export function sqliteKeyDir(path: string): string {
  return path === ':memory:' ? dirname('.') : `${path}.keys`;
}
