import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, MerkleFrontier, nodeHash } from '../../src/log-format/merkle.js';
import {
  consistencyProof,
  inclusionProof,
  merkleTreeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/log-format/merkle-proofs.js';

// A deliberately naive transcription of RFC 6962 §2.1, to check the library against.
const H = (...parts: Uint8Array[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const leafOf = (data: Uint8Array) => H(Buffer.from([0]), data);
const k = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
function refMTH(d: Buffer[]): Buffer {
  if (d.length === 0) return H();
  if (d.length === 1) return d[0]!;
  return H(Buffer.from([1]), refMTH(d.slice(0, k(d.length))), refMTH(d.slice(k(d.length))));
}
function refPATH(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  const s = k(d.length);
  return m < s
    ? [...refPATH(m, d.slice(0, s)), refMTH(d.slice(s))]
    : [...refPATH(m - s, d.slice(s)), refMTH(d.slice(0, s))];
}
function refSUBPROOF(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [refMTH(d)];
  const s = k(d.length);
  return m <= s
    ? [...refSUBPROOF(m, d.slice(0, s), b), refMTH(d.slice(s))]
    : [...refSUBPROOF(m - s, d.slice(s), false), refMTH(d.slice(0, s))];
}

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafOf(Buffer.from(`leaf ${i}`)));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const flip = (b: Uint8Array, byte = 0) => {
  const c = Buffer.from(b);
  c[byte % c.length]! ^= 1;
  return c;
};

describe('MerkleFrontier', () => {
  it('has the RFC 6962 root of the first n leaves, for every n from 0 to 300', () => {
    const all = leaves(300);
    const tree = new MerkleFrontier();
    for (let n = 0; n <= 300; n++) {
      expect(tree.size).toBe(n);
      expect(hex(tree.root())).toBe(hex(refMTH(all.slice(0, n))));
      if (n < 300) tree.append(all[n]!);
    }
  });

  it('matches the certificate-transparency test vectors', () => {
    const data = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ];
    const roots = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    const tree = new MerkleFrontier();
    data.forEach((d, i) => {
      tree.append(leafOf(Buffer.from(d, 'hex')));
      expect(hex(tree.root())).toBe(roots[i]);
    });
  });

  it('gives SHA-256("") for the empty tree', () => {
    expect(hex(new MerkleFrontier().root())).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(hex(EMPTY_ROOT)).toBe(hex(H()));
  });

  it('restores from a JSON snapshot and keeps growing the same tree', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 40 }), (n, more) => {
        const all = leaves(n + more);
        const tree = new MerkleFrontier();
        for (const l of all.slice(0, n)) tree.append(l);
        const restored = MerkleFrontier.restore(JSON.parse(JSON.stringify(tree.snapshot())));
        for (const l of all.slice(n)) restored.append(l);
        expect(hex(restored.root())).toBe(hex(refMTH(all)));
        expect(tree.snapshot().frontier.length).toBeLessThanOrEqual(8);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a snapshot whose frontier does not fit its size', () => {
    const tree = new MerkleFrontier();
    for (const l of leaves(5)) tree.append(l);
    const snap = tree.snapshot();
    expect(() => MerkleFrontier.restore({ ...snap, size: 7 })).toThrow(/frontier hashes/);
    expect(() => MerkleFrontier.restore({ ...snap, frontier: ['zz', snap.frontier[1]!] })).toThrow(/not hex/);
    expect(() => new MerkleFrontier().append(Buffer.alloc(31))).toThrow(RangeError);
  });
});

describe('inclusion proofs', () => {
  it('equal RFC 6962 PATH and verify, for every leaf of trees up to 70', () => {
    for (let n = 1; n <= 70; n++) {
      const d = leaves(n);
      const root = refMTH(d);
      expect(hex(merkleTreeHash(d))).toBe(hex(root));
      for (let m = 0; m < n; m++) {
        const proof = inclusionProof(d, m);
        expect(proof.map(hex)).toEqual(refPATH(m, d).map(hex));
        expect(verifyInclusion(d[m]!, m, n, proof, root)).toBe(true);
      }
    }
  });

  it('fail for a wrong leaf, index, size, root or proof', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }).chain((n) => fc.tuple(fc.constant(n), fc.nat({ max: n - 1 }))),
        fc.nat(),
        ([n, m], salt) => {
          const d = leaves(n);
          const root = refMTH(d);
          const proof = inclusionProof(d, m);
          expect(verifyInclusion(d[m]!, m, n, proof, root)).toBe(true);
          expect(verifyInclusion(flip(d[m]!, salt), m, n, proof, root)).toBe(false);
          expect(verifyInclusion(d[m]!, (m + 1) % n, n, proof, root)).toBe(false);
          expect(verifyInclusion(d[m]!, m, n, proof, flip(root, salt))).toBe(false);
          expect(verifyInclusion(d[m]!, n, n, proof, root)).toBe(false);
          if (proof.length > 0) {
            const i = salt % proof.length;
            const bad = proof.map((p, j) => (j === i ? flip(p, salt) : p));
            expect(verifyInclusion(d[m]!, m, n, bad, root)).toBe(false);
            expect(verifyInclusion(d[m]!, m, n, proof.slice(0, -1), root)).toBe(false);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('consistency proofs', () => {
  it('equal RFC 6962 PROOF and verify, for every m ≤ n up to 64', () => {
    for (let n = 1; n <= 64; n++) {
      const d = leaves(n);
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(d, m);
        expect(proof.map(hex)).toEqual(refSUBPROOF(m, d, true).map(hex));
        expect(verifyConsistency(m, n, refMTH(d.slice(0, m)), refMTH(d), proof)).toBe(true);
      }
    }
    expect(consistencyProof(leaves(3), 0)).toEqual([]);
    // A proof "from" the empty tree proves nothing: refused, as transparency-dev/merkle and Go's tlog do.
    expect(verifyConsistency(0, 3, EMPTY_ROOT, refMTH(leaves(3)), [])).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(true);
  });

  it('return false, never throw, for a hash that is not 32 bytes', () => {
    const d = leaves(5);
    const root = refMTH(d);
    const short = Buffer.alloc(31);
    const leaf = d[2]!;
    const proof = inclusionProof(d, 2);
    expect(verifyInclusion(leaf, 2, 5, proof, root)).toBe(true);
    expect(verifyInclusion(short, 2, 5, proof, root)).toBe(false);
    expect(verifyInclusion(leaf, 2, 5, proof, short)).toBe(false);
    expect(verifyInclusion(leaf, 2, 5, [short, ...proof.slice(1)], root)).toBe(false);
    const old = refMTH(d.slice(0, 3));
    const cons = consistencyProof(d, 3);
    expect(verifyConsistency(3, 5, old, root, cons)).toBe(true);
    expect(verifyConsistency(3, 5, short, root, cons)).toBe(false);
    expect(verifyConsistency(3, 5, old, short, cons)).toBe(false);
    expect(verifyConsistency(3, 5, old, root, [short, ...cons.slice(1)])).toBe(false);
    expect(verifyConsistency(5, 5, short, short, [])).toBe(false);
  });

  it('fail for a forked tree, wrong roots or a damaged proof', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 300 })
          .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n - 1 }))),
        fc.nat(),
        ([n, m], salt) => {
          const d = leaves(n);
          const oldRoot = refMTH(d.slice(0, m));
          const newRoot = refMTH(d);
          const proof = consistencyProof(d, m);
          expect(verifyConsistency(m, n, oldRoot, newRoot, proof)).toBe(true);
          expect(verifyConsistency(m, n, flip(oldRoot, salt), newRoot, proof)).toBe(false);
          expect(verifyConsistency(m, n, oldRoot, flip(newRoot, salt), proof)).toBe(false);
          expect(verifyConsistency(n, m, newRoot, oldRoot, proof)).toBe(false);
          // A history rewritten below m cannot be shown consistent with the old root.
          const forked = d.map((l, i) => (i === salt % m ? flip(l) : l));
          expect(verifyConsistency(m, n, oldRoot, refMTH(forked), consistencyProof(forked, m))).toBe(false);
          const i = salt % proof.length;
          const bad = proof.map((p, j) => (j === i ? flip(p, salt) : p));
          expect(verifyConsistency(m, n, oldRoot, newRoot, bad)).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('hashes interior nodes as SHA-256(0x01 ‖ left ‖ right)', () => {
    const [a, b] = leaves(2) as [Buffer, Buffer];
    expect(hex(nodeHash(a, b))).toBe(hex(H(Buffer.from([1]), a, b)));
    expect(() => nodeHash(a, Buffer.alloc(3))).toThrow(RangeError);
  });
});
