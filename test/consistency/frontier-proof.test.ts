// Consistency proofs made from an old tree's frontier and the new leaves only are byte for byte the
// proofs made from every leaf, and verify.
import { describe, expect, it } from 'vitest';
import { consistencyProofFromFrontier } from '../../src/consistency/frontier-proof.js';
import { MerkleFrontier, sha256 } from '../../src/log-format/merkle.js';
import { consistencyProof, merkleTreeHash, verifyConsistency } from '../../src/log-format/merkle-proofs.js';

const leaves = Array.from({ length: 70 }, (_, i) => sha256(`leaf ${i}`));

describe('consistencyProofFromFrontier', () => {
  it('equals consistencyProof from all leaves for every 1 ≤ m ≤ n ≤ 70, and verifies', () => {
    let checked = 0;
    for (let m = 1; m <= 70; m++) {
      const frontier = new MerkleFrontier();
      for (const leaf of leaves.slice(0, m)) frontier.append(leaf);
      const snapshot = frontier.snapshot();
      for (let n = m; n <= 70; n++) {
        const proof = consistencyProofFromFrontier(snapshot, leaves.slice(m, n));
        expect(proof, `${m} → ${n}`).toEqual(consistencyProof(leaves.slice(0, n), m));
        expect(verifyConsistency(m, n, merkleTreeHash(leaves, m), merkleTreeHash(leaves, n), proof)).toBe(
          true,
        );
        checked++;
      }
    }
    expect(checked).toBe((70 * 71) / 2);
  });

  it('refuses an empty old tree and a frontier whose hashes do not fit its size', () => {
    expect(() => consistencyProofFromFrontier({ size: 0, frontier: [] }, leaves)).toThrow(/empty tree/);
    expect(() => consistencyProofFromFrontier({ size: 3, frontier: ['00'.repeat(32)] }, leaves)).toThrow(
      /fewer hashes/,
    );
  });
});
