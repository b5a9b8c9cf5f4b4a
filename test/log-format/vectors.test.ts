// The language-neutral vectors in testdata/ (scripts/generate-test-vectors.mjs wrote them): every tamper
// case gets the verdict and first bad seq its file states; the intact log's canonical bytes, hashes and
// roots are those of docs/log-format.md; each signed-note edge case gets the verdict Go's sumdb/note gives.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trustedKeysFromJwks } from '../../src/keys/keys.js';
import { canonicalJson } from '../../src/log-format/canonical.js';
import { chainHash, leafHash, type StoredRow } from '../../src/log-format/chain.js';
import { verifyCheckpoint } from '../../src/log-format/checkpoint.js';
import { merkleTreeHash } from '../../src/log-format/merkle-proofs.js';
import { verifyLog } from '../../src/verify/verify-log.js';

const testdata = join(import.meta.dirname, '../../testdata');
const read = <T>(path: string): T => JSON.parse(readFileSync(join(testdata, path), 'utf8')) as T;

interface TamperVector {
  description: string;
  origin: string;
  trusted_keys: unknown;
  rows: StoredRow[];
  checkpoints: string[];
  expect: { verdict: 'intact' | 'tampered'; first_bad_seq: number | null };
}

const tamper = readdirSync(join(testdata, 'tamper')).filter((f) => f.endsWith('.json'));

describe('testdata/tamper', () => {
  it('has the intact log and the mutations', () => {
    expect(tamper).toContain('intact.json');
    expect(tamper.length).toBeGreaterThanOrEqual(15);
  });

  it.each(tamper)('%s: the verdict and first bad seq it states', async (file) => {
    const v = read<TamperVector>(join('tamper', file));
    const result = await verifyLog({
      origin: v.origin,
      rows: v.rows,
      checkpoints: v.checkpoints.map((note) => ({ note })),
      trustedKeys: trustedKeysFromJwks(v.trusted_keys),
    });
    expect(result.ok ? 'intact' : 'tampered', v.description).toBe(v.expect.verdict);
    expect(result.firstBadSeq ?? null, v.description).toBe(v.expect.first_bad_seq);
  });
});

describe('testdata/log.json', () => {
  const log = read<{
    origin: string;
    trusted_keys: unknown;
    rows: { seq: number; canonical: string; leaf_hash: string; prev_hash: string; hash: string }[];
    roots: { size: number; root: string }[];
    checkpoints: string[];
  }>('log.json');
  const rows = read<TamperVector>('tamper/intact.json').rows;

  it('gives each row its canonical bytes, leaf hash and chain hash', () => {
    let prev = '0'.repeat(64);
    for (const [i, step] of log.rows.entries()) {
      expect(canonicalJson(rows[i]!, log.origin)).toBe(step.canonical);
      const leaf = leafHash(Buffer.from(step.canonical, 'utf8'));
      expect(leaf.toString('hex')).toBe(step.leaf_hash);
      expect(step.prev_hash).toBe(prev);
      prev = chainHash(prev, leaf).toString('hex');
      expect(prev).toBe(step.hash);
    }
  });

  it('gives the Merkle root of every prefix, and checkpoints that verify', () => {
    const leaves = log.rows.map((r) => Buffer.from(r.leaf_hash, 'hex'));
    for (const { size, root } of log.roots)
      expect(merkleTreeHash(leaves, size).toString('base64')).toBe(root);
    for (const note of log.checkpoints)
      expect(verifyCheckpoint(note, trustedKeysFromJwks(log.trusted_keys)).ok).toBe(true);
  });
});

describe('testdata/notes.json', () => {
  const notes = read<{
    trusted_keys: unknown;
    notes: { name: string; text: string; key_name: string; go_accepts: boolean }[];
  }>('notes.json');

  it.each(notes.notes.map((n) => [n.name, n] as const))('%s: accepted exactly when Go accepts it', (_, n) => {
    expect(verifyCheckpoint(n.text, trustedKeysFromJwks(notes.trusted_keys), n.key_name).ok).toBe(
      n.go_accepts,
    );
  });
});
