// `onbehalf checkpoints` exports each log's latest signed checkpoint off-host; `verify --checkpoint DIR`
// checks a store against everything exported so far. Real SQLite files, the built CLI.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { thisHostOrigins } from '../../src/keys/key-binding.js';
import { generateSigningKey, writeKeyPair } from '../../src/keys/keys.js';
import { parseCheckpoint, signCheckpoint } from '../../src/log-format/checkpoint.js';
import { openAuditStore } from '../../src/stores/open.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { restoreTriggers } from '../adversarial/support.js';
import { tempDir, testSigningKey } from '../helpers/audit.js';
import { pinnedJwksText } from '../helpers/keys.js';
import { createTestDatabase, seedEvent } from '../helpers/postgres-db.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

let dir: string;
let path: string;
let anchors: string;
beforeEach(() => {
  dir = tempDir('onbehalf-anchors-');
  path = join(dir, 'audit.db');
  anchors = join(dir, 'anchors');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The checkpoint notes in an export directory (beside them: each one's chain state and consistency proof). */
const notesIn = (d: string) => readdirSync(d).filter((name) => name.endsWith('.note'));

/** Appends `n` events and closes the store, which signs a checkpoint of its size. */
async function grow(n: number, from: number): Promise<void> {
  const store = new SqliteAuditStore(path, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
  await store.append(Array.from({ length: n }, (_, i) => seedEvent(from + i)));
  await store.close();
}

/** A copy of the store with its append-only triggers dropped and `sql` applied. */
function tamperedCopy(name: string, sql: string): string {
  const copy = join(dir, `${name}.db`);
  copyFileSync(path, copy);
  const db = new Database(copy);
  db.exec(
    'DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete; DROP TRIGGER audit_checkpoints_no_delete; DROP TRIGGER audit_checkpoints_no_update;',
  );
  db.exec(sql);
  // The attacker puts the triggers back: verify reports a schema that is not the migration's.
  restoreTriggers(db);
  db.close();
  return copy;
}

describe('onbehalf checkpoints', () => {
  it('prints the latest signed checkpoint of a one-log store, which verify then accepts', async () => {
    await grow(5, 0);
    const r = run('checkpoints', path);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(parseCheckpoint(r.stdout)).toMatchObject({ size: 5 });
    const file = join(dir, 'latest.note');
    writeFileSync(file, r.stdout);
    expect(run('verify', path, '--checkpoint', file).status).toBe(0);
  });

  it('writes one file per export into DIR, leaves an unchanged one alone, and verify reads the whole DIR', async () => {
    await grow(5, 0);
    const first = run('checkpoints', path, '--out', anchors);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^wrote .*\.5\.note \(onbehalf\/.* at size 5\)\n$/);
    const again = run('checkpoints', path, '--out', anchors);
    expect(again.stdout).toMatch(/unchanged/);
    await grow(4, 5);
    expect(run('checkpoints', path, '--out', anchors).status).toBe(0);
    expect(notesIn(anchors).sort()).toEqual([
      expect.stringMatching(/\.5\.note$/),
      expect.stringMatching(/\.9\.note$/),
    ]);

    const { publicPath } = writeKeyPair(join(dir, 'keys'), testSigningKey, { origins: [thisHostOrigins()] });
    const ok = run('verify', path, '--checkpoint', anchors, '--trusted-keys', publicPath);
    expect(ok.stdout).toMatch(/intact .* 9 events, 4 signed checkpoint\(s\) verified/);
    expect(ok.status).toBe(0);
  });

  it('catches a tail deleted after the export, with the store’s own later checkpoints deleted too', async () => {
    await grow(5, 0);
    await grow(4, 5);
    expect(run('checkpoints', path, '--out', anchors).status).toBe(0);
    const truncated = tamperedCopy(
      'truncated',
      'DELETE FROM audit_events WHERE seq > 6; DELETE FROM audit_checkpoints WHERE size > 6;',
    );
    // Without the exported anchor the shortened log is self-consistent.
    expect(run('verify', truncated).status).toBe(0);
    const r = run('verify', truncated, '--checkpoint', anchors);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('first bad seq: 7');
    // Nor is the shortened log anchored anew into the same directory.
    const again = run('checkpoints', truncated, '--out', anchors);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/is tampered \(seq 7\.\.9: missing.*not exporting/);
    expect(notesIn(anchors)).toHaveLength(1);
    expect(r.stdout).toMatch(
      /seq 7\.\.9: missing: the log has 6 rows but the signed external checkpoint at size 9/,
    );
  });

  it('refuses to export from a tampered store, and reports a rewritten history against an earlier export', async () => {
    await grow(5, 0);
    expect(run('checkpoints', path, '--out', anchors).status).toBe(0);
    const edited = tamperedCopy('edited', "UPDATE audit_events SET target = 'nobody' WHERE seq = 2");
    const refused = run('checkpoints', edited, '--out', join(dir, 'other'));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /is tampered \(seq 2: hash does not match its contents \(row edited\) \[row\.hash_mismatch\]\); not exporting/,
    );
    expect(() => readdirSync(join(dir, 'other'))).toThrow();

    // An anchor whose root was changed no longer verifies: the export refuses to build on it.
    const [name] = notesIn(anchors);
    const file = join(anchors, name!);
    const genuine = readFileSync(file, 'utf8');
    const forged = genuine.replace(
      /\n([A-Za-z0-9+/=]{44})\n/,
      '\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n',
    );
    expect(forged).not.toBe(genuine);
    writeFileSync(file, forged);
    const bad = run('checkpoints', path, '--out', anchors);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/external checkpoint at size 5: .*not exporting/);

    // The same checkpoint signed by a second trusted key: both verify, yet the log has two notes
    // for one size, so the export stops rather than pick one.
    const other = generateSigningKey();
    const cp = parseCheckpoint(genuine);
    writeFileSync(file, signCheckpoint({ origin: cp.origin, size: cp.size, root: cp.root }, other));
    const jwks = join(dir, 'both.json');
    writeFileSync(jwks, pinnedJwksText([testSigningKey, other]));
    const clash = run('checkpoints', path, '--out', anchors, '--trusted-keys', jwks);
    expect(clash.status).toBe(1);
    expect(clash.stderr).toMatch(/already holds a different checkpoint .* at size 5/);
  });

  it('keeps stdout for notes only: a log with no checkpoint yet, or an empty store, is said on stderr', async () => {
    const store = new SqliteAuditStore(path, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
    try {
      expect(run('checkpoints', path).stderr).toBe('the store holds no logs yet: nothing to export\n');
      await store.append([seedEvent(0)]);
      const r = run('checkpoints', path);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/: no signed checkpoint yet/);
    } finally {
      await store.close();
    }
    expect(parseCheckpoint(run('checkpoints', path).stdout)).toMatchObject({ size: 1 });
  });

  it('exits 2 for a --checkpoint that is missing, an empty directory or not a note', async () => {
    await grow(3, 0);
    expect(run('verify', path, '--checkpoint', join(dir, 'nope')).stderr).toMatch(/cannot read: ENOENT/);
    mkdirSync(anchors);
    const empty = run('verify', path, '--checkpoint', anchors);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/no \*\.note files in it/);
    writeFileSync(join(anchors, 'junk.note'), 'hello\n');
    const junk = run('verify', path, '--checkpoint', anchors);
    expect(junk.status).toBe(2);
    expect(junk.stderr).toMatch(/junk\.note: not a signed checkpoint note/);
  });
});

describe('onbehalf checkpoints on a PostgreSQL fleet store', () => {
  it('needs --out for several logs, then writes one file per writer, and verify checks every log against them', async () => {
    const db = await createTestDatabase('anchors');
    try {
      for (const tag of ['host-a', 'host-b']) {
        const store = await openAuditStore(db.url, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
        await store.append(Array.from({ length: 3 }, (_, i) => seedEvent(i, tag)));
        await store.close();
      }
      const stdout = run('checkpoints', db.url);
      expect(stdout.status).toBe(2);
      expect(stdout.stderr).toMatch(/holds 2 logs; use --out DIR/);
      const r = run('checkpoints', db.url, '--out', anchors);
      expect(r.status).toBe(0);
      expect(notesIn(anchors)).toHaveLength(2);
      const ok = run('verify', db.url, '--checkpoint', anchors);
      expect(ok.status).toBe(0);
      expect(ok.stdout.match(/^intact /gm)).toHaveLength(2);
    } finally {
      await db.drop();
    }
  });
});
