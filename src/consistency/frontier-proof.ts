import type { MerkleFrontierSnapshot } from '../log-format/merkle.js';
import { merkleTreeHash } from '../log-format/merkle-proofs.js';

/**
 * RFC 6962 §2.1.2 consistency proofs made from what a verifier keeps of an old tree, its frontier
 * (the roots of its perfect subtrees), plus the leaves added since: no old leaf is read, so the cost
 * is that of the new leaves. Every node of a consistency proof lies either wholly in the new leaves
 * or is one of the old tree's frontier roots (the proof's old side is the maximal complete subtrees
 * left of the old size, which is what the frontier is), so nothing else is needed.
 */

/** Largest power of two strictly less than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The frontier's subtrees as [start, size, hash], left to right. */
function frontierRanges(snapshot: MerkleFrontierSnapshot): Map<string, Buffer> {
  const ranges = new Map<string, Buffer>();
  let start = 0;
  let bit = 1;
  while (bit * 2 <= snapshot.size) bit *= 2;
  let i = 0;
  for (; bit >= 1; bit /= 2) {
    if (Math.floor(snapshot.size / bit) % 2 === 1) {
      const hex = snapshot.frontier[i++];
      if (hex === undefined) throw new RangeError('frontier: fewer hashes than its size needs');
      ranges.set(`${start}+${bit}`, Buffer.from(hex, 'hex'));
      start += bit;
    }
  }
  if (i !== snapshot.frontier.length) throw new RangeError('frontier: more hashes than its size needs');
  return ranges;
}

/**
 * The consistency proof from the tree the frontier describes (size m) to that tree extended by
 * `newLeaves` (size m + newLeaves.length): byte-identical to `consistencyProof(allLeaves, m)`.
 * Empty when nothing was added. Throws RangeError for an empty old tree (no proof exists from it).
 */
export function consistencyProofFromFrontier(
  old: MerkleFrontierSnapshot,
  newLeaves: readonly Uint8Array[],
): Buffer[] {
  const m = old.size;
  const n = m + newLeaves.length;
  if (!Number.isSafeInteger(m) || m < 1)
    throw new RangeError('no consistency proof exists from an empty tree');
  const frontier = frontierRanges(old);
  const node = (lo: number, hi: number): Buffer => {
    if (lo >= m) return merkleTreeHash(newLeaves.slice(lo - m, hi - m));
    const hash = frontier.get(`${lo}+${hi - lo}`);
    // Unreachable for a well-formed proof: said plainly if the argument above were ever wrong.
    if (!hash || hi > m)
      throw new RangeError(`consistency proof needs old subtree [${lo}, ${hi}), not in the frontier`);
    return hash;
  };
  const proof: Buffer[] = [];
  if (m === n) return proof;
  // The same walk as merkle.ts's consistencyProof, with `node` in place of hashing old leaves.
  let lo = 0;
  let hi = n;
  let mm = m;
  let whole = true;
  const tail: Buffer[] = [];
  while (mm !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (mm <= k) {
      tail.push(node(lo + k, hi));
      hi = lo + k;
    } else {
      tail.push(node(lo, lo + k));
      lo += k;
      mm -= k;
      whole = false;
    }
  }
  if (!whole) proof.push(node(lo, hi));
  return proof.concat(tail.reverse());
}
