import { createHash, hash as oneShotHash } from 'node:crypto';

/**
 * RFC 6962 Merkle tree hashing for the audit log. Leaves are the log's leaf hashes,
 * SHA-256(0x00 ‖ E) (see `leafHash` in chain.ts); an interior node is SHA-256(0x01 ‖ left ‖ right).
 * Leaf indexes here are 0-based, so the row with `seq` s is leaf s − 1.
 */

// The one-shot API (Node ≥ 20.12) costs far less per call than createHash, and a string digest far
// less than a Buffer one; the log hashes three small inputs per row, so per-call cost is what matters.
const oneShot: (data: Uint8Array | string, encoding: 'binary' | 'hex') => string =
  typeof oneShotHash === 'function'
    ? (data, encoding) => oneShotHash('sha256', data, encoding)
    : (data, encoding) => createHash('sha256').update(data).digest(encoding);

/**
 * SHA-256 of `data` (a string is hashed as UTF-8) as a 32-character latin1 ('binary') string or 64 hex digits.
 * @internal the chain's hot path; use {@link sha256} elsewhere.
 */
export function sha256Digest(data: Uint8Array | string, encoding: 'binary' | 'hex'): string {
  return oneShot(data, encoding);
}

/** SHA-256 of `data` (a string is hashed as UTF-8). */
export function sha256(data: Uint8Array | string): Buffer {
  return Buffer.from(oneShot(data, 'binary'), 'latin1');
}

/** The root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1). */
export const EMPTY_ROOT: Buffer = sha256(Buffer.alloc(0));

// Reused input block for interior nodes: allocating 65 bytes per node would cost more than the copy.
const nodeInput = Buffer.alloc(65);
nodeInput[0] = 0x01;

/** RFC 6962 interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== 32 || right.length !== 32) throw new RangeError('Merkle node hashes are 32 bytes');
  nodeInput.set(left, 1);
  nodeInput.set(right, 33);
  return Buffer.from(oneShot(nodeInput, 'binary'), 'latin1');
}

/** {@link nodeHash} on 32-character latin1 strings, which the frontier keeps to avoid a Buffer per node. */
function nodeHashBinary(left: string, right: string): string {
  nodeInput.write(left, 1, 'latin1');
  nodeInput.write(right, 33, 'latin1');
  return oneShot(nodeInput, 'binary');
}

/** The JSON form of a {@link MerkleFrontier}, for a store's meta table. */
export interface MerkleFrontierSnapshot {
  /** Number of leaves. */
  size: number;
  /** Hex roots of the perfect subtrees that make up the tree, largest (leftmost) first. */
  frontier: string[];
}

const HEX32 = /^[0-9a-f]{64}$/;

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

/**
 * An append-only Merkle tree kept as its compact range (frontier): the roots of the perfect subtrees
 * whose sizes are the set bits of `size`, so memory is O(log n) and an append costs one hash amortized.
 */
export class MerkleFrontier {
  #size = 0;
  // Largest subtree first, as 32-character latin1 strings; the last entry is the smallest subtree.
  #nodes: string[] = [];

  /** Number of leaves appended. */
  get size(): number {
    return this.#size;
  }

  /** Appends one leaf hash (32 bytes). */
  append(leaf: Uint8Array): void {
    if (leaf.length !== 32) throw new RangeError('a Merkle leaf hash is 32 bytes');
    this.appendBinary(Buffer.from(leaf.buffer, leaf.byteOffset, 32).toString('latin1'));
  }

  /**
   * Appends one leaf hash given as a 32-character latin1 string (what {@link sha256Digest} returns),
   * sparing the log's hot path a Buffer per leaf.
   */
  appendBinary(leaf: string): void {
    if (leaf.length !== 32) throw new RangeError('a Merkle leaf hash is 32 bytes');
    let node = leaf;
    // Each trailing 1 bit of the old size is a complete subtree of the same height as `node`: merge.
    for (let s = this.#size; s % 2 === 1; s = (s - 1) / 2) {
      node = nodeHashBinary(this.#nodes.pop()!, node);
    }
    this.#nodes.push(node);
    this.#size += 1;
  }

  /** The RFC 6962 Merkle tree hash of all leaves so far ({@link EMPTY_ROOT} when there are none). */
  root(): Buffer {
    const nodes = this.#nodes;
    if (nodes.length === 0) return Buffer.from(EMPTY_ROOT);
    let r = nodes[nodes.length - 1]!;
    for (let i = nodes.length - 2; i >= 0; i--) r = nodeHashBinary(nodes[i]!, r);
    return Buffer.from(r, 'latin1');
  }

  /** An independent copy (nodes are immutable strings, so copying the list is enough). */
  clone(): MerkleFrontier {
    const copy = new MerkleFrontier();
    copy.#size = this.#size;
    copy.#nodes = this.#nodes.slice();
    return copy;
  }

  /** A JSON-serializable copy, for {@link MerkleFrontier.restore}. */
  snapshot(): MerkleFrontierSnapshot {
    return { size: this.#size, frontier: this.#nodes.map((n) => Buffer.from(n, 'latin1').toString('hex')) };
  }

  /** Rebuilds a frontier from {@link MerkleFrontier.snapshot}; throws RangeError if it is inconsistent. */
  static restore(snapshot: MerkleFrontierSnapshot): MerkleFrontier {
    const { size, frontier } = snapshot;
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`Merkle frontier: bad size ${size}`);
    if (!Array.isArray(frontier) || frontier.length !== popcount(size)) {
      throw new RangeError(`Merkle frontier: a tree of ${size} leaves has ${popcount(size)} frontier hashes`);
    }
    const m = new MerkleFrontier();
    m.#nodes = frontier.map((h, i) => {
      if (typeof h !== 'string' || !HEX32.test(h))
        throw new RangeError(`Merkle frontier: hash ${i} is not hex`);
      return Buffer.from(h, 'hex').toString('latin1');
    });
    m.#size = size;
    return m;
  }
}

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
