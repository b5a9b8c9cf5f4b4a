import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { createKeyPairOnce, loadSigningKey, type SigningKey } from '../keys/keys.js';

/**
 * The key a store signs its checkpoints with: the one given, else the one in `keyDir`
 * (`signing-key.jwk`), else a new one written there (private key mode 0600, `jwks.json` beside it);
 * when several processes create it at once, one key wins and all use it.
 * Pin `jwks.json` with `onbehalf verify --trusted-keys` to prove the checkpoints' authenticity; the
 * copy of the public key inside the store only proves they are consistent.
 */
export function resolveCheckpointKey(keyDir: string, given?: SigningKey): SigningKey {
  if (given) return given;
  const path = `${keyDir}/signing-key.jwk`;
  if (existsSync(path)) return loadSigningKey(path);
  return createKeyPairOnce(keyDir);
}

/** Where a SQLite store keeps its own checkpoint key: `<store>.keys/` beside the store file. */
export function sqliteKeyDir(path: string): string {
  return path === ':memory:' ? dirname('.') : `${path}.keys`;
}
