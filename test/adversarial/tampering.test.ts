// Tampering with real SQLite stores: each property copies a store written through the audit pipeline,
// lets an attacker with write access to the file (append-only triggers dropped) change it, and checks
// that `verify` notices and names the first bad seq; untouched stores must never raise an alarm.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/keys/keys.js';
import { LogState, rowLeafHash } from '../../src/log-format/chain.js';
import { signCheckpoint } from '../../src/log-format/checkpoint.js';
import { EVENT_COLUMNS, type StoredAuditEvent } from '../../src/pipeline/event.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { testSigningKey } from '../helpers/audit.js';
import {
  allRows,
  type BuiltStore,
  buildStore,
  checkpointSizes,
  copyStore,
  eventOf,
  floorCheckpoint,
  pinnedKeys,
  rechainFrom,
  scratchDir,
  tamper,
  verifyPath,
} from './support.js';

const CHECKPOINT_EVERY = 8;
/** Runs per property; each one copies, tampers with and verifies a real store file. */
const RUNS = 40;

let dir: string;
let base: BuiltStore;
/** A second store under the same key: its checkpoints are genuine, but for another log. */
let other: BuiltStore;
let sizes: number[];
let copies = 0;

beforeAll(async () => {
  dir = scratchDir('tamper');
  base = await buildStore(join(dir, 'base.db'), 30, CHECKPOINT_EVERY);
  other = await buildStore(join(dir, 'other.db'), 5, CHECKPOINT_EVERY);
  sizes = tamper(copyStore(base.path, join(dir, 'sizes.db')), checkpointSizes);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function freshCopy(): string {
  const path = join(dir, `copy-${copies++}.db`);
  return copyStore(base.path, path);
}

/** The verification of the real origin's log (a row moved to a made-up origin opens a second log). */
async function verifyOwnLog(path: string, externalCheckpoints?: string[]) {
  const result = await verifyPath(path, { trustedKeys: pinnedKeys, externalCheckpoints });
  const log = result.logs.find((l) => l.origin === base.origin);
  return { result, log };
}

const NOT_NULL = new Set(['event_id', 'record_type', 'timestamp', 'action']);

/** Any value SQLite can hold, including a BLOB of a string's own bytes and non-finite numbers. */
const sqlValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.integer(),
  fc.double(),
  fc.constant(null),
  fc.constantFrom('ok', 'agent', 'tom', '0', '2', '', ' '),
  fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
);

describe('tampering with a real SQLite store is detected', () => {
  it('untouched copies, and copies merely opened by another connection, verify', async () => {
    expect(base.rows).toBeGreaterThan(30);
    expect(sizes.at(-1)).toBe(base.rows);
    const plain = await verifyPath(freshCopy());
    expect(plain).toMatchObject({ ok: true, count: base.rows, keySource: 'store' });
    const opened = freshCopy();
    tamper(opened, () => undefined);
    const pinned = await verifyPath(opened, { trustedKeys: pinnedKeys, externalCheckpoints: base.exported });
    expect(pinned.ok, pinned.reason).toBe(true);
    expect(pinned.logs[0]!.checkpointsVerified).toBe(sizes.length + base.exported.length);
  });

  it('a single edit of any column names that row', async () => {
    const columns = [...EVENT_COLUMNS, 'prev_hash', 'hash'] as const;
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: base.rows }),
        fc.constantFrom(...columns),
        sqlValue,
        async (seq, column, value) => {
          const path = freshCopy();
          const changed = tamper(path, (db) => {
            const before = rowAt(db, seq);
            const v = value === null && NOT_NULL.has(column) ? '' : value;
            try {
              db.prepare(`UPDATE audit_events SET ${column} = ? WHERE seq = ?`).run(v, seq);
            } catch {
              return false; // e.g. a duplicate event_id: the attacker would pick another value
            }
            return differs(before, rowAt(db, seq), column);
          });
          fc.pre(changed);
          tried++;
          const { result, log } = await verifyOwnLog(path);
          expect(result.ok).toBe(false);
          expect(log?.firstBadSeq, log?.reason).toBe(seq);
          expect(log?.reason).toMatch(new RegExp(`^seq ${seq}\\b`));
        },
      ),
      { numRuns: RUNS * 3 },
    );
    expect(tried).toBeGreaterThan(RUNS);
  });

  it('a row moved to another seq or another origin names the row it left', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: base.rows }),
        fc.oneof(
          fc.record({ seq: fc.integer({ min: base.rows + 1, max: 1e6 }) }),
          fc.record({ origin: fc.string({ minLength: 1, maxLength: 30 }) }),
        ),
        async (seq, to) => {
          fc.pre(!('origin' in to) || to.origin !== base.origin);
          const path = freshCopy();
          tamper(path, (db) => {
            if ('seq' in to) db.prepare('UPDATE audit_events SET seq = ? WHERE seq = ?').run(to.seq, seq);
            else db.prepare('UPDATE audit_events SET origin = ? WHERE seq = ?').run(to.origin, seq);
          });
          const { result, log } = await verifyOwnLog(path);
          expect(result.ok).toBe(false);
          expect(log?.firstBadSeq, log?.reason).toBe(seq);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('deleting rows names the first one deleted, the tail included', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: base.rows }),
        fc.integer({ min: 1, max: 10 }),
        async (seq, count) => {
          const path = freshCopy();
          tamper(path, (db) =>
            db.prepare('DELETE FROM audit_events WHERE seq >= ? AND seq < ?').run(seq, seq + count),
          );
          const { result, log } = await verifyOwnLog(path);
          expect(result.ok).toBe(false);
          expect(log?.firstBadSeq, log?.reason).toBe(seq);
          expect(log?.reason).toMatch(/missing/);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('an inserted row, correctly linked to its predecessor, is caught at the link after it or by a checkpoint', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: base.rows }), async (seq) => {
        const path = freshCopy();
        tamper(path, (db) => {
          const rows = allRows(db);
          const state = new LogState(base.origin);
          for (const r of rows.slice(0, seq - 1)) state.append(eventOf(r));
          const forged = {
            ...eventOf(rows[seq - 1]!),
            event_id: 'evt-forged',
            target: 'attacker@evil.example',
          };
          shiftUp(db, seq);
          insertRow(db, { ...forged, ...state.append(forged).integrity });
        });
        const { result, log } = await verifyOwnLog(path);
        expect(result.ok).toBe(false);
        // A checkpoint of exactly `seq` rows sees the forged leaf; otherwise the next row's link breaks.
        const expected = sizes.includes(seq) ? floorCheckpoint(sizes, seq) + 1 : seq + 1;
        expect(log?.firstBadSeq, log?.reason).toBe(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('reordered rows name the first position that changed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: base.rows - 1 }),
        fc.integer({ min: 1, max: base.rows - 1 }),
        fc.boolean(),
        async (a, d, rotate) => {
          const i = a;
          const j = Math.min(base.rows, a + d);
          const path = freshCopy();
          tamper(path, (db) => {
            const move = db.prepare('UPDATE audit_events SET seq = ? WHERE seq = ?');
            if (rotate) {
              // Row i moves to the end of i..j, the rest move down one.
              move.run(-1, i);
              for (let s = i + 1; s <= j; s++) move.run(s - 1, s);
              move.run(j, -1);
            } else {
              move.run(-1, i);
              move.run(i, j);
              move.run(j, -1);
            }
          });
          const { result, log } = await verifyOwnLog(path);
          expect(result.ok).toBe(false);
          expect(log?.firstBadSeq, log?.reason).toBe(i);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a duplicated row (same seq, or appended at the end) is named', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: base.rows }), fc.boolean(), async (seq, atEnd) => {
        const path = freshCopy();
        tamper(path, (db) => {
          // The attacker rebuilds the table without its UNIQUE and PRIMARY KEY constraints.
          db.exec(
            'CREATE TABLE copy AS SELECT * FROM audit_events; DROP TABLE audit_events; ALTER TABLE copy RENAME TO audit_events;',
          );
          const row = db.prepare('SELECT * FROM audit_events WHERE seq = ?').get(seq) as StoredAuditEvent;
          insertRow(db, atEnd ? { ...row, seq: base.rows + 1 } : row);
        });
        const { result, log } = await verifyOwnLog(path);
        expect(result.ok).toBe(false);
        expect(log?.firstBadSeq, log?.reason).toBe(atEnd ? base.rows + 1 : seq);
        if (!atEnd) expect(log?.reason).toMatch(/appears twice/);
      }),
      { numRuns: RUNS },
    );
  });

  it('history rewritten with the chain recomputed is caught by the old signed checkpoints', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: base.rows }),
        fc.constantFrom('actor_id', 'on_behalf_of', 'target', 'result', 'policy_decision'),
        fc.string({ maxLength: 20 }),
        fc.boolean(),
        async (seq, column, value, dropCheckpoints) => {
          const path = freshCopy();
          const changed = tamper(path, (db) => {
            const events = allRows(db).map(eventOf);
            const edited = { ...events[seq - 1]!, [column]: value };
            if (JSON.stringify(edited) === JSON.stringify(events[seq - 1])) return false;
            events[seq - 1] = edited;
            rechainFrom(db, base.origin, events, seq);
            // The attacker cannot re-sign, so the best they can do is remove what no longer matches.
            if (dropCheckpoints) db.prepare('DELETE FROM audit_checkpoints WHERE size >= ?').run(seq);
            return true;
          });
          fc.pre(changed);
          // Without stored checkpoints, only the copy exported off-host can tell.
          const external = dropCheckpoints ? [base.exported.at(-1)!] : undefined;
          const { result, log } = await verifyOwnLog(path, external);
          expect(result.ok).toBe(false);
          expect(log?.firstBadSeq, log?.reason).toBe(floorCheckpoint(sizes, seq) + 1);
          expect(log?.reason).toMatch(/Merkle root/);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('truncation or rollback below an exported checkpoint is caught with that checkpoint', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: base.rows - 1 }),
        fc.integer({ min: 0, max: 12 }),
        async (keep, forgedTail) => {
          const path = freshCopy();
          tamper(path, (db) => {
            const original = allRows(db).map(eventOf);
            const events = original.slice(0, keep);
            for (let i = 0; i < forgedTail; i++) {
              events.push({ ...original[0]!, ...forgedBase, event_id: `evt-rollback-${i}` });
            }
            rechainFrom(db, base.origin, events, keep + 1);
            db.prepare('DELETE FROM audit_checkpoints WHERE size > ?').run(keep);
          });
          const size = keep + forgedTail;
          const { result, log } = await verifyOwnLog(path, [base.exported.at(-1)!]);
          expect(result.ok).toBe(false);
          // Shorter than the checkpoint: the first missing seq; as long or longer: a rewritten range.
          const expected = size < base.rows ? size + 1 : floorCheckpoint(sizes, keep + 1) + 1;
          expect(log?.firstBadSeq, log?.reason).toBe(expected);
          // The CLI's form: `--checkpoint FILE` is the same external note.
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('an edited stored checkpoint note is refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: sizes.length - 1 }),
        fc.constantFrom('size', 'root', 'signature', 'origin', 'key-name'),
        fc.integer({ min: 0, max: 1000 }),
        async (which, part, salt) => {
          const size = sizes[which]!;
          const path = freshCopy();
          tamper(path, (db) => {
            const { note } = db.prepare('SELECT note FROM audit_checkpoints WHERE size = ?').get(size) as {
              note: string;
            };
            const edited = editNote(note, part, salt);
            expect(edited).not.toBe(note);
            db.prepare('UPDATE audit_checkpoints SET note = ? WHERE size = ?').run(edited, size);
          });
          for (const trustedKeys of [pinnedKeys, undefined]) {
            const result = await verifyPath(path, { trustedKeys });
            expect(result.ok).toBe(false);
            expect(result.reason).toMatch(/checkpoint/);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a replayed checkpoint (another log under the same key, or a fork of this one) is refused', async () => {
    // Another log's genuine checkpoint, filed under this log.
    const foreign = freshCopy();
    tamper(foreign, (db) =>
      db
        .prepare(
          'INSERT INTO audit_checkpoints (origin, size, root, note, state, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(base.origin, 10_000, 'x', other.exported.at(-1)!, '{}', new Date().toISOString()),
    );
    const r1 = await verifyPath(foreign, { trustedKeys: pinnedKeys });
    expect(r1.ok).toBe(false);
    expect(r1.reason).toMatch(/is for origin/);

    // A fork: two writers continue the same log differently; one's signed checkpoint replaces the other's.
    const forks = await Promise.all(['a', 'b'].map((name) => extend(freshCopy(), 3, name)));
    const [a, b] = forks as [string, string];
    const forkedNote = tamper(b, (db) => lastNote(db));
    tamper(a, (db) =>
      db.prepare('UPDATE audit_checkpoints SET note = ? WHERE size = ?').run(forkedNote, base.rows + 3),
    );
    const r2 = await verifyPath(a, { trustedKeys: pinnedKeys });
    expect(r2.ok).toBe(false);
    expect(r2.firstBadSeq, r2.reason).toBe(base.rows + 1);
    // Each fork on its own is intact.
    expect((await verifyPath(b, { trustedKeys: pinnedKeys })).ok).toBe(true);
  });

  it('checkpoints re-signed by another key pass only the store-recorded keys, never pinned ones', async () => {
    const attacker = generateSigningKey();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: base.rows }), async (seq) => {
        const path = freshCopy();
        tamper(path, (db) => {
          const events = allRows(db).map(eventOf);
          events[seq - 1] = { ...events[seq - 1]!, target: 'attacker@evil.example' };
          rechainFrom(db, base.origin, events, seq);
          const state = new LogState(base.origin);
          db.exec('DELETE FROM audit_checkpoints');
          const insert = db.prepare(
            'INSERT INTO audit_checkpoints (origin, size, root, note, state, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          );
          events.forEach((e, i) => {
            state.append(e);
            if (sizes.includes(i + 1)) {
              const cp = state.checkpoint();
              const root = Buffer.from(cp.root).toString('base64');
              const note = signCheckpoint(cp, attacker);
              insert.run(base.origin, cp.size, root, note, JSON.stringify(state.snapshot()), 'now');
            }
          });
          db.prepare('INSERT INTO audit_keys (kid, jwk, added_at) VALUES (?, ?, ?)').run(
            attacker.kid,
            JSON.stringify(attacker.publicJwk),
            '0',
          );
        });
        // The store's own key table now vouches for the attacker: consistency is all it can prove.
        expect((await verifyPath(path)).ok).toBe(true);
        const pinned = await verifyPath(path, { trustedKeys: pinnedKeys });
        expect(pinned.ok).toBe(false);
        expect(pinned.reason).toMatch(/not signed by a trusted key/);
        // The genuine exported checkpoint names the rewritten range.
        const withExport = await verifyPath(path, {
          trustedKeys: pinnedKeys,
          externalCheckpoints: [base.exported.at(-1)!],
        });
        expect(withExport.firstBadSeq, withExport.reason).toBe(1);
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
});

const forgedBase = { action: 'wire_money', target: 'attacker-account', result: 'ok' } as const;

function rowAt(db: Database.Database, seq: number): StoredAuditEvent | undefined {
  return db.prepare('SELECT * FROM audit_events WHERE seq = ?').get(seq) as StoredAuditEvent | undefined;
}

/** Whether an edit changed what the chain covers (SQLite's type affinity can turn '2' back into 2). */
function differs(before: StoredAuditEvent | undefined, after: StoredAuditEvent | undefined, column: string) {
  if (!before || !after) return true;
  if (column === 'hash' || column === 'prev_hash') return before[column] !== after[column];
  try {
    return !rowLeafHash(before).equals(rowLeafHash(after));
  } catch {
    return true; // not even canonicalizable (e.g. Infinity): certainly changed
  }
}

function shiftUp(db: Database.Database, from: number): void {
  db.prepare('UPDATE audit_events SET seq = seq + 1000000 WHERE seq >= ?').run(from);
  db.prepare('UPDATE audit_events SET seq = seq - 999999 WHERE seq >= 1000000').run();
}

function insertRow(db: Database.Database, row: StoredAuditEvent): void {
  const cols = ['seq', 'origin', 'prev_hash', 'hash', ...EVENT_COLUMNS];
  db.prepare(
    `INSERT INTO audit_events (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`,
  ).run(row);
}

function lastNote(db: Database.Database): string {
  return (
    db.prepare('SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1').get() as { note: string }
  ).note;
}

/** Appends `n` events through a writer reopening the store, as a second, diverging writer would. */
async function extend(path: string, n: number, tag: string): Promise<string> {
  const store = new SqliteAuditStore(path, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
  const [first] = store.readLogSync(store.origin, 1);
  const template = eventOf(first![0]!);
  store.appendSync(
    Array.from({ length: n }, (_, i) => ({
      ...template,
      event_id: `evt-${tag}-${i}`,
      target: `fork-${tag}`,
    })),
  );
  await store.close();
  return path;
}

/** One targeted edit of a signed note; each keeps the note well-formed, so only the signature can tell. */
function editNote(note: string, part: string, salt: number): string {
  const [origin, size, root, blank, sig, ...rest] = note.split('\n');
  const lines = [origin!, size!, root!, blank!, sig!, ...rest];
  switch (part) {
    case 'size':
      lines[1] = String(Number(size) + 1 + (salt % 5));
      break;
    case 'root': {
      const bytes = Buffer.from(root!, 'base64');
      bytes.writeUInt8(bytes.readUInt8(salt % 32) ^ (1 + (salt % 255)), salt % 32);
      lines[2] = bytes.toString('base64');
      break;
    }
    case 'signature': {
      const [dash, name, b64] = sig!.split(' ');
      const blob = Buffer.from(b64!, 'base64');
      const at = 4 + (salt % 64);
      blob.writeUInt8(blob.readUInt8(at) ^ (1 + (salt % 255)), at);
      lines[4] = `${dash} ${name} ${blob.toString('base64')}`;
      break;
    }
    case 'origin':
      lines[0] = `${origin}-${salt}`;
      break;
    default: {
      const [dash, name, b64] = sig!.split(' ');
      lines[4] = `${dash} ${name}x${salt} ${b64}`;
    }
  }
  return lines.join('\n');
}
