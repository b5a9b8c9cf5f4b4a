import { createHash, hash as oneShotHash } from 'node:crypto';

/**
 * RFC 6962 Merkle tree hashing for the audit log, as the writer needs it: node hashes and the frontier (proofs are in merkle-proofs.ts). Leaves are the log's leaf hashes,
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

  /**
   * Appends the root of a perfect subtree of `2^height` leaves, as hex, computed elsewhere (one range of
   * a log verified in ranges): the same frontier as appending its leaves one by one. The subtree must
   * start where the tree ends and be aligned there (`size` a multiple of `2^height`), as each subtree
   * of a range's own frontier is when the range starts at a multiple of a power of two not below its
   * length.
   */
  appendSubtree(rootHex: string, height: number): void {
    const width = 2 ** height;
    if (!Number.isInteger(height) || height < 0 || this.#size % width !== 0) {
      throw new RangeError(`Merkle frontier: a subtree of ${width} leaves cannot follow ${this.#size}`);
    }
    if (!HEX32.test(rootHex)) throw new RangeError('Merkle frontier: subtree root is not hex');
    let node = Buffer.from(rootHex, 'hex').toString('latin1');
    for (let s = this.#size / width; s % 2 === 1; s = (s - 1) / 2) {
      node = nodeHashBinary(this.#nodes.pop()!, node);
    }
    this.#nodes.push(node);
    this.#size += width;
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
