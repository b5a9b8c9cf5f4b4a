import { type TrustedKey, trustedKeysFromJwks } from '../keys/keys.js';

/** A row of `audit_keys`: what a writer recorded, so nothing in it is trusted to be well formed. */
export interface KeyRow {
  kid: unknown;
  jwk: unknown;
  /** The login role that recorded it; null for rows from before keys were bound to writers. */
  owner?: unknown;
}

/** The usable keys of some `audit_keys` rows, and one sentence per row that is not a public Ed25519 key. */
export function keysFromRows(
  rows: readonly KeyRow[],
  source: string,
): { keys: TrustedKey[]; problems: string[] } {
  const keys: TrustedKey[] = [];
  const problems: string[] = [];
  for (const row of rows) {
    const kid = JSON.stringify(String(row.kid));
    const by = row.owner == null ? '' : ` (recorded by ${JSON.stringify(String(row.owner))})`;
    try {
      const [key] = trustedKeysFromJwks({ keys: [JSON.parse(String(row.jwk))] }, `${source} row ${kid}`);
      if (key!.kid !== row.kid) throw new Error(`its JWK names kid ${JSON.stringify(key!.kid)}`);
      keys.push(key!);
    } catch (err) {
      const why = err instanceof SyntaxError ? 'not JSON' : (err as Error).message;
      problems.push(`${source} row kid ${kid}${by} is not a usable public Ed25519 key: ${why}`);
    }
  }
  return { keys, problems };
}
