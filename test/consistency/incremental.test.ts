// `checkpoints --out DIR` proves each new checkpoint consistent with the newest in DIR; `verify
// --checkpoint DIR --incremental` reads only the rows after it. Real SQLite stores, the built CLI.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { thisHostOrigins } from '../../src/keys/key-binding.js';
import { writeKeyPair } from '../../src/keys/keys.js';
import { parseCheckpoint } from '../../src/log-format/checkpoint.js';
import { verifyConsistency } from '../../src/log-format/merkle-proofs.js';
import { openAuditStore } from '../../src/stores/open.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { cli, copyStore, ensureBuilt, tamper } from '../adversarial/support.js';
import { tempDir, testSigningKey } from '../helpers/audit.js';
import { createTestDatabase, seedEvent } from '../helpers/postgres-db.js';

let dir: string;
let path: string;
let anchors: string;
let jwks: string;
beforeEach(async () => {
  await ensureBuilt();
  dir = tempDir('onbehalf-incremental-');
  path = join(dir, 'audit.db');
  anchors = join(dir, 'anchors');
  jwks = writeKeyPair(join(dir, 'keys'), testSigningKey, { origins: [thisHostOrigins()] }).publicPath;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Appends `n` events (a checkpoint every 7) and closes the store, which signs one of its size. */
async function grow(n: number, from: number, at = path): Promise<void> {
  const store = new SqliteAuditStore(at, {
    signingKey: testSigningKey,
    checkpointEvery: 7,
    checkpointIntervalMs: 0,
  });
  await store.append(Array.from({ length: n }, (_, i) => seedEvent(from + i)));
  await store.close();
}

/** A copy of the store with `sql` applied behind its triggers' back. */
function tamperedCopy(name: string, sql: string): string {
  const copy = copyStore(path, join(dir, `${name}.db`));
  tamper(copy, (db) => db.exec(sql));
  return copy;
}

const incremental = (store: string, ...more: string[]) =>
  cli('verify', store, '--checkpoint', anchors, '--incremental', '--trusted-keys', jwks, ...more);

describe('consistency proofs and incremental verify', () => {
  it('verifies only the rows after the anchor, and proves the next export consistent with it', async () => {
    await grow(20, 0);
    expect((await cli('checkpoints', path, '--out', anchors, '--trusted-keys', jwks)).code).toBe(0);
    await grow(30, 20);
    const r = await incremental(path);
    expect(r.stdout).toMatch(
      /^intact {2}onbehalf\/.*: 30 new row\(s\) after the checkpoint anchored at seq 20, [1-9]\d* later signed checkpoint\(s\) consistent with it/,
    );
    expect(r.code).toBe(0);
    const json = JSON.parse((await incremental(path, '--format', 'json')).stdout);
    expect(json.logs[0]).toMatchObject({
      verdict: 'intact',
      anchoredSize: 20,
      size: 50,
      newRows: 30,
      vouchedSize: 50,
    });

    const next = await cli('checkpoints', path, '--out', anchors, '--trusted-keys', jwks);
    expect(next.stdout).toMatch(
      /at size 50\), consistent with size 20 \(proof of \d+ hash\(es\) in .*\.50\.consistency\)/,
    );
    expect(next.code).toBe(0);
    const name = readdirSync(anchors).find((f) => f.endsWith('.50.consistency'))!;
    const body = readFileSync(join(anchors, name), 'utf8');
    const blank = body.indexOf('\n\n');
    const [oldLine, ...proof] = body.slice(0, blank).split('\n');
    expect(oldLine).toBe('old 20');
    const before = parseCheckpoint(
      readFileSync(join(anchors, name.replace('.50.consistency', '.20.note')), 'utf8'),
    );
    // The rest is the new checkpoint, as it is written beside it: a tlog-witness add-checkpoint body.
    const after = parseCheckpoint(body.slice(blank + 2));
    expect(body.slice(blank + 2)).toBe(
      readFileSync(join(anchors, name.replace('.consistency', '.note')), 'utf8'),
    );
    expect(after.size).toBe(50);
    const hashes = proof.map((p) => Buffer.from(p, 'base64'));
    expect(verifyConsistency(20, 50, before.root, after.root, hashes)).toBe(true);
    expect(verifyConsistency(20, 50, Buffer.alloc(32), after.root, hashes)).toBe(false);
    // From the new anchor on, nothing is new.
    expect((await incremental(path)).stdout).toMatch(
      /: 0 new row\(s\) after the checkpoint anchored at seq 50/,
    );
  });

  it('catches a new row edited, the log cut back below the anchor, and an edited anchor state', async () => {
    await grow(20, 0);
    await cli('checkpoints', path, '--out', anchors, '--trusted-keys', jwks);
    await grow(15, 20);
    const edited = tamperedCopy('edited', "UPDATE audit_events SET target = 'x' WHERE seq = 27");
    const e = await incremental(edited);
    expect(e.stdout).toMatch(
      /TAMPERED .*\n {2}first bad seq: 27\n {2}reason: seq 27: hash does not match its contents/,
    );
    expect(e.stdout).toContain('(row edited) [row.hash_mismatch]');
    expect(e.code).toBe(1);

    const cut = tamperedCopy(
      'cut',
      'DELETE FROM audit_events WHERE seq > 12; DELETE FROM audit_checkpoints WHERE size > 12;',
    );
    const c = await incremental(cut);
    expect(c.stdout).toMatch(
      /seq 20: missing: the log holds fewer rows than its anchored checkpoint.*\[consistency\.rows_missing\]/,
    );
    expect(c.code).toBe(1);

    const [stateFile] = readdirSync(anchors).filter((f) => f.endsWith('.state.json'));
    const file = join(anchors, stateFile!);
    const state = JSON.parse(readFileSync(file, 'utf8'));
    state.frontier[0] = '00'.repeat(32);
    writeFileSync(file, JSON.stringify(state));
    const s = await incremental(path);
    expect(s.stdout).toMatch(
      /does not hash to the root the note at size 20 signs \[consistency\.anchor_invalid\]/,
    );
    expect(s.code).toBe(1);
    const refused = await cli('checkpoints', path, '--out', anchors, '--trusted-keys', jwks);
    expect(refused.stderr).toMatch(/cannot prove the new checkpoint consistent: .*does not hash to the root/);
    expect(refused.code).toBe(1);
    expect(readdirSync(anchors).filter((f) => f.endsWith('.note'))).toHaveLength(1);
  });

  it('catches old rows rewritten with their chain, but leaves an old row whose chain is left broken to the full verify', async () => {
    await grow(20, 0);
    await cli('checkpoints', path, '--out', anchors, '--trusted-keys', jwks);
    await grow(5, 20);
    // Row 3 edited and nothing else: its stored hash no longer matches, which only re-reading it shows.
    const old = tamperedCopy('old', "UPDATE audit_events SET target = 'x' WHERE seq = 3");
    expect((await incremental(old)).code).toBe(0);
    const full = await cli('verify', old, '--checkpoint', anchors, '--trusted-keys', jwks);
    expect(full.stdout).toMatch(/first bad seq: 3/);
    expect(full.code).toBe(1);
    // Rewritten with a recomputed chain: the anchored row's hash changes, which incremental verify checks.
    const other = join(dir, 'other.db');
    await grow(25, 100, other);
    const mine = new Database(path, { readonly: true });
    const { origin } = mine.prepare('SELECT origin FROM audit_events').get() as { origin: string };
    mine.close();
    const db = new Database(other, { readonly: true });
    const rows = db.prepare('SELECT seq, hash, prev_hash FROM audit_events ORDER BY seq').all() as {
      seq: number;
      hash: string;
      prev_hash: string;
    }[];
    db.close();
    const swapped = tamperedCopy(
      'swapped',
      rows
        .map(
          (r) =>
            `UPDATE audit_events SET hash = '${r.hash}', prev_hash = '${r.prev_hash}' WHERE origin = '${origin}' AND seq = ${r.seq};`,
        )
        .join('\n'),
    );
    const w = await incremental(swapped);
    expect(w.stdout).toMatch(
      /seq 20: does not match the anchored checkpoint's chain state.*\[consistency\.inconsistent\]/,
    );
    expect(w.code).toBe(1);
  });

  it('says a log with no checkpoint in DIR is not vouched for (exit 3), and refuses --incremental without one DIR (exit 2)', async () => {
    await grow(5, 0);
    await cli('checkpoints', path, '--out', anchors, '--trusted-keys', jwks);
    const second = join(dir, 'second.db');
    await grow(5, 0, second);
    const r = await incremental(second);
    expect(r.stdout).toMatch(
      /UNVOUCHED .*\n {2}reason: no checkpoint of this log in .*\[consistency\.no_anchor\]/,
    );
    expect(r.code).toBe(3);
    expect((await cli('verify', path, '--incremental')).code).toBe(2);
    const notDir = join(dir, 'keys', 'jwks.json');
    expect((await cli('verify', path, '--incremental', '--checkpoint', notDir)).code).toBe(2);
  });
});

describe('incremental verify on a PostgreSQL fleet store', () => {
  it('reads a writer log from its anchor on, and says a writer log begun since is not anchored (exit 3)', async () => {
    const db = await createTestDatabase('incremental');
    try {
      const store = await openAuditStore(db.url, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
      await store.append(Array.from({ length: 6 }, (_, i) => seedEvent(i, 'host-a')));
      await store.checkpoint();
      expect((await cli('checkpoints', db.url, '--out', anchors, '--trusted-keys', jwks)).code).toBe(0);
      await store.append(Array.from({ length: 5 }, (_, i) => seedEvent(6 + i, 'host-a')));
      await store.checkpoint();
      const r = await incremental(db.url, '--format', 'json');
      expect(r.code, r.stdout).toBe(0);
      expect(JSON.parse(r.stdout).logs).toMatchObject([
        { origin: store.origin, verdict: 'intact', anchoredSize: 6, newRows: 5, vouchedSize: 11 },
      ]);
      await store.close();
      // Every opened PostgreSQL store is a new writer log: until anchored, incremental verify cannot vouch for it.
      const next = await openAuditStore(db.url, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
      await next.append([seedEvent(0, 'host-b')]);
      await next.close();
      const later = await incremental(db.url);
      expect(later.stdout).toMatch(/UNVOUCHED .*: 0 new row.*\n {2}reason: no checkpoint of this log in/);
      expect(later.code).toBe(3);
    } finally {
      await db.drop();
    }
  });
});
