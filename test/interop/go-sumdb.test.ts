// An independent implementation checks the format: Go's golang.org/x/mod/sumdb/note opens the
// checkpoints a real store exported, and sumdb/tlog rebuilds the Merkle tree from the rows' canonical
// bytes, gets every root the checkpoints sign, and accepts onbehalf's inclusion and consistency proofs;
// Go's verdict on each signed-note edge case of testdata/notes.json is the one the file states.
// Needs `go` and the Go module sources from Debian: apt-get install golang-go golang-golang-x-mod-dev.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  generateSigningKey,
  type SigningKey,
  type TrustedKey,
  trustedKeysFromJwks,
} from '../../src/keys/keys.js';
import { canonicalEventBytes } from '../../src/log-format/canonical.js';
import { leafHash } from '../../src/log-format/chain.js';
import { checkpointKeyId } from '../../src/log-format/checkpoint.js';
import { consistencyProof, inclusionProof, merkleTreeHash } from '../../src/log-format/merkle-proofs.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { seedEvent } from '../helpers/postgres-db.js';
import { runProcess } from '../helpers/run-process.js';

const GO_SOURCES = '/usr/share/gocode';
const go = spawnSync('go', ['version'], { encoding: 'utf8' });
const haveGo = go.status === 0;
const MISSING =
  'skipped: `go` is not on PATH; install Go and the x/mod sources: apt-get install -y golang-go golang-golang-x-mod-dev';

// Said where every reporter shows it, not only in the skipped test's name.
if (!haveGo) console.warn(`test/interop/go-sumdb.test.ts ${MISSING}`);

const work = mkdtempSync(join(tmpdir(), 'onbehalf-go-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface GoLog {
  roots: string[];
  checkpoints:
    | { opened: boolean; error?: string; origin: string; size: number; root_match: boolean }[]
    | null;
  inclusion: boolean[] | null;
  consistency: boolean[] | null;
}

const GO_ENV = {
  ...process.env,
  GO111MODULE: 'off',
  GOPATH: `${join(work, 'gopath')}:${GO_SOURCES}`,
  // Kept between runs: the standard library is compiled once, not on every test run.
  GOCACHE: join(tmpdir(), 'onbehalf-go-build-cache'),
  GOFLAGS: '',
  GOPROXY: 'off',
};
let checker: Promise<string> | undefined;
/** The first test compiles Go's crypto and the checker: minutes on a loaded machine. */
const GO_TIMEOUT_MS = 600_000;

/** Builds the Go checker once, offline, against Debian's Go module sources. */
function buildChecker(): Promise<string> {
  checker ??= (async () => {
    const bin = join(work, 'go-sumdb');
    const built = await runProcess(
      'go',
      ['build', '-o', bin, join(import.meta.dirname, 'go-sumdb/main.go')],
      {
        env: GO_ENV,
        timeoutMs: 600_000,
      },
    );
    if (built.status !== 0) throw new Error(`go build failed: ${built.stderr}`);
    return bin;
  })();
  return checker;
}

/** Runs the Go checker on a request. */
async function runGo(request: unknown): Promise<GoResponse> {
  const run = await runProcess(await buildChecker(), [], { input: JSON.stringify(request), env: GO_ENV });
  if (run.status !== 0) throw new Error(`go-sumdb failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as GoResponse;
}

interface GoResponse {
  notes: boolean[] | null;
  logs: GoLog[];
  /** "ok" or Go's error, per receipt and per consistency proof. */
  receipts: string[] | null;
  tree_proofs: string[] | null;
}

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
/** The built CLI as a child process; fails the test on a non-zero exit. */
async function onbehalf(...args: string[]): Promise<string> {
  const r = await runProcess(process.execPath, [CLI, ...args]);
  if (r.status !== 0) throw new Error(`onbehalf ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A Go sumdb/note verifier key: `name+hash+base64(0x01 ‖ public key)`. */
function verifierKey(name: string, key: SigningKey | TrustedKey): string {
  const jwk = 'publicJwk' in key ? key.publicJwk : key.jwk;
  const raw = Buffer.concat([Buffer.from([1]), Buffer.from(jwk.x as string, 'base64url')]);
  return `${name}+${checkpointKeyId(name, key).toString('hex')}+${raw.toString('base64')}`;
}

describe.skipIf(!haveGo)(`Go sumdb/note and sumdb/tlog${haveGo ? '' : ` (${MISSING})`}`, () => {
  it('has the Go module sources it builds against', () => {
    expect(
      existsSync(join(GO_SOURCES, 'src/golang.org/x/mod/sumdb/note/note.go')),
      'install them: apt-get install -y golang-golang-x-mod-dev',
    ).toBe(true);
  });

  it(
    "open a real store's exported checkpoints, rebuild every root and accept its proofs",
    async () => {
      const key = generateSigningKey();
      const store = new SqliteAuditStore(join(work, 'audit.db'), {
        signingKey: key,
        checkpointEvery: 7,
        checkpointIntervalMs: 0,
      });
      const exported: string[] = [];
      store.onCheckpoint((cp) => exported.push(cp.note));
      for (let i = 0; i < 37; i += 5)
        await store.append(Array.from({ length: 5 }, (_, j) => seedEvent(i + j, 'go')));
      await store.checkpoint();
      const rows = [];
      for await (const batch of store.readLog(store.origin)) rows.push(...batch);
      await store.close();
      expect(exported.length).toBeGreaterThanOrEqual(4);

      const data = rows.map((r) => canonicalEventBytes(r));
      const leaves = data.map((d) => leafHash(d));
      const n = leaves.length;
      const inclusion = [1, 2, 7, 16, 33, n].flatMap((size) =>
        [0, Math.floor(size / 2), size - 1].map((index) => ({
          size,
          index,
          proof: inclusionProof(leaves, index, size).map((h) => h.toString('base64')),
        })),
      );
      const consistency = [
        [1, 2],
        [3, 7],
        [4, 16],
        [7, n],
        [16, n],
        [n, n],
      ].map(([old, size]) => ({
        old,
        new: size,
        proof: consistencyProof(leaves.slice(0, size), old!).map((h) => h.toString('base64')),
      }));
      const tampered = { ...inclusion[4]!, index: inclusion[4]!.index + 1 };
      const result = await runGo({
        verifier_keys: [verifierKey(store.origin, key)],
        notes: [],
        logs: [
          {
            leaves: data.map((d) => d.toString('base64')),
            checkpoints: exported,
            inclusion: [...inclusion, tampered],
            consistency,
          },
        ],
      });
      const log = result.logs[0]!;
      for (const [i, cp] of (log.checkpoints ?? []).entries()) {
        expect(cp, exported[i]).toMatchObject({ opened: true, origin: store.origin, root_match: true });
      }
      expect(log.checkpoints?.at(-1)?.size).toBe(n);
      // Go's tlog gives the empty tree an all-zero hash where RFC 6962 has SHA-256(""): sizes from 1 on.
      for (let size = 1; size <= n; size++)
        expect(log.roots[size], `root of ${size}`).toBe(merkleTreeHash(leaves, size).toString('base64'));
      expect(log.inclusion).toEqual([...inclusion.map(() => true), false]);
      expect(log.consistency).toEqual(consistency.map(() => true));
    },
    GO_TIMEOUT_MS,
  );

  it(
    'accept the receipts onbehalf prove writes (CheckRecord) and the consistency proofs checkpoints --out writes (CheckTree)',
    async () => {
      const key = generateSigningKey();
      const path = join(work, 'receipts.db');
      const anchors = join(work, 'anchors');
      const grow = async (n: number, from: number) => {
        const store = new SqliteAuditStore(path, {
          signingKey: key,
          checkpointEvery: 1000,
          checkpointIntervalMs: 0,
        });
        await store.append(Array.from({ length: n }, (_, j) => seedEvent(from + j, 'rcpt')));
        await store.close();
        return store.origin;
      };
      const origin = await grow(20, 0);
      await onbehalf('checkpoints', path, '--out', anchors);
      await grow(17, 20);
      await onbehalf('checkpoints', path, '--out', anchors);
      const receipts: string[] = [];
      for (const seq of [1, 2, 7, 20, 21, 36, 37]) {
        receipts.push(await onbehalf('prove', path, '--origin', origin, '--seq', String(seq)));
      }
      const stem = join(anchors, origin.replace(/[^A-Za-z0-9._-]+/g, '_'));
      const body = readFileSync(`${stem}.37.consistency`, 'utf8');
      const oldNote = readFileSync(`${stem}.20.note`, 'utf8');
      const changedIndex = receipts[2]!.replace(/^index 6$/m, 'index 5');
      // One proof hash replaced: CheckTree itself must refuse it.
      const lines = body.split('\n');
      lines[1] = Buffer.alloc(32, 1).toString('base64');
      const changedOld = lines.join('\n');
      const result = await runGo({
        verifier_keys: [verifierKey(origin, key)],
        notes: [],
        logs: [],
        receipts: [...receipts, changedIndex],
        tree_proofs: [
          { old_note: oldNote, body },
          { old_note: oldNote, body: changedOld },
        ],
      });
      expect(result.receipts?.slice(0, receipts.length)).toEqual(receipts.map(() => 'ok'));
      expect(result.receipts?.at(-1)).toBe('invalid transparency proof');
      expect(result.tree_proofs?.[0]).toBe('ok');
      expect(result.tree_proofs?.[1]).toBe('invalid transparency proof');
    },
    GO_TIMEOUT_MS,
  );

  it(
    'give the verdict testdata/notes.json states for each signed-note edge case',
    async () => {
      const vectors = JSON.parse(
        readFileSync(join(import.meta.dirname, '../../testdata/notes.json'), 'utf8'),
      ) as {
        trusted_keys: unknown;
        notes: { name: string; text: string; key_name: string; go_accepts: boolean }[];
      };
      const [trusted] = trustedKeysFromJwks(vectors.trusted_keys) as [TrustedKey];
      // Go refuses to build a verifier for a name it judges invalid; such notes have no verifier.
      const names = [...new Set(vectors.notes.map((n) => n.key_name))].filter(
        (name) => !/[\u0085\u00a0]/.test(name),
      );
      const result = await runGo({
        verifier_keys: names.map((name) => verifierKey(name, trusted)),
        notes: vectors.notes.map((n) => n.text),
        logs: [],
      });
      expect(Object.fromEntries(vectors.notes.map((n, i) => [n.name, result.notes?.[i]]))).toEqual(
        Object.fromEntries(vectors.notes.map((n) => [n.name, n.go_accepts])),
      );
    },
    GO_TIMEOUT_MS,
  );
});
