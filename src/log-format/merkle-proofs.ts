/**
 * RFC 6962 Merkle tree hashes over a whole leaf list, and inclusion and consistency proofs: what a
 * verifier or an auditor computes. The writer's hot path needs only the frontier in merkle.ts.
 * Leaf indexes are 0-based, so the row with `seq` s is leaf s − 1.
 */
import { EMPTY_ROOT, nodeHash } from './merkle.js';

function isPowerOfTwo(n: number): boolean {
  let x = n;
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}

/** Largest power of two strictly less than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[lo:hi]) over a list of leaf hashes (RFC 6962 §2.1). */
function subtreeHash(leaves: readonly Uint8Array[], lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n === 0) return Buffer.from(EMPTY_ROOT);
  if (n === 1) return Buffer.from(leaves[lo]!);
  const k = splitPoint(n);
  return nodeHash(subtreeHash(leaves, lo, lo + k), subtreeHash(leaves, lo + k, hi));
}

function checkSize(leaves: readonly Uint8Array[], size: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > leaves.length) {
    throw new RangeError(`tree size ${size} is outside 0..${leaves.length}`);
  }
}

/** The RFC 6962 Merkle tree hash of the first `size` leaf hashes (all of them by default). */
export function merkleTreeHash(leaves: readonly Uint8Array[], size = leaves.length): Buffer {
  checkSize(leaves, size);
  return subtreeHash(leaves, 0, size);
}

/**
 * RFC 6962 §2.1.1 audit path of leaf `index` (0-based) in the tree of the first `size` leaves:
 * the sibling hashes from the leaf up to the root. For auditors; O(size) hashing.
 */
export function inclusionProof(leaves: readonly Uint8Array[], index: number, size = leaves.length): Buffer[] {
  checkSize(leaves, size);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`leaf index ${index} is outside 0..${size - 1}`);
  }
  const path: Buffer[] = [];
  let lo = 0;
  let hi = size;
  let m = index;
  // Walk down from the root, collecting siblings top-down; the proof lists them bottom-up.
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (m < k) {
      path.push(subtreeHash(leaves, lo + k, hi));
      hi = lo + k;
    } else {
      path.push(subtreeHash(leaves, lo, lo + k));
      lo += k;
      m -= k;
    }
  }
  return path.reverse();
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/**
 * Checks an inclusion proof (RFC 9162 §2.1.3.2): that `leaf` is leaf `index` of the tree of `size`
 * leaves whose root is `root`.
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  // Hashes of another length cannot be in the tree: false, as in transparency-dev/merkle, not a throw.
  if (leaf.length !== 32 || root.length !== 32) return false;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0 || p.length !== 32) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.length === 32 && same(r, root);
}

/**
 * RFC 6962 §2.1.2 consistency proof between the tree of the first `m` leaves and the tree of the
 * first `n` leaves (m ≤ n). Empty when m is 0 or m = n. For auditors; O(n) hashing.
 */
export function consistencyProof(leaves: readonly Uint8Array[], m: number, n = leaves.length): Buffer[] {
  checkSize(leaves, n);
  if (!Number.isSafeInteger(m) || m < 0 || m > n) throw new RangeError(`old size ${m} is outside 0..${n}`);
  const proof: Buffer[] = [];
  if (m === 0) return proof;
  // SUBPROOF(m, D[lo:hi], b), unrolled: each step descends into one half and records the other.
  let lo = 0;
  let hi = n;
  let mm = m;
  let whole = true;
  const tail: Buffer[] = [];
  while (mm !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (mm <= k) {
      tail.push(subtreeHash(leaves, lo + k, hi));
      hi = lo + k;
    } else {
      tail.push(subtreeHash(leaves, lo, lo + k));
      lo += k;
      mm -= k;
      whole = false;
    }
  }
  if (!whole) proof.push(subtreeHash(leaves, lo, hi));
  return proof.concat(tail.reverse());
}

/**
 * Checks a consistency proof (RFC 9162 §2.1.4.2): that the tree of `n` leaves with root `newRoot`
 * extends the tree of `m` leaves with root `oldRoot`.
 */
export function verifyConsistency(
  m: number,
  n: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n) return false;
  if (oldRoot.length !== 32 || newRoot.length !== 32) return false;
  if (m === n) return proof.length === 0 && same(oldRoot, newRoot);
  // Nothing is consistent "from" an empty tree: transparency-dev/merkle and Go's sumdb/tlog refuse it.
  if (m === 0) return false;
  if (proof.some((p) => p.length !== 32)) return false;
  // When the old tree is a complete subtree its root is the proof's implicit first node.
  const path: readonly Uint8Array[] = isPowerOfTwo(m) ? [oldRoot, ...proof] : proof;
  if (path.length === 0) return false;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && same(fr, oldRoot) && same(sr, newRoot);
}
