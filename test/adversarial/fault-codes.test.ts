// Each class of tampering yields its own verification fault code (docs/verification-faults.md), on
// the shared anchored store: 12 rows, checkpoints at 5 and 10 (and 12 at close), its key pinned and
// bound to this host's origins, its last checkpoint kept off-host.
import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationFault, VerificationFaultCode } from '../../src/errors/verification-fault.js';
import { generateSigningKey, type TrustedKey, trustedKeysFromJwks } from '../../src/keys/keys.js';
import { parseCheckpoint, signCheckpoint } from '../../src/log-format/checkpoint.js';
import type { VerifyStoreResult } from '../../src/verify/verify-store.js';
import { testSigningKey } from '../helpers/audit.js';
import {
  type AnchoredStore,
  allRows,
  anchoredStore,
  cli,
  eventOf,
  pinnedKeys,
  rechainFrom,
  tamper,
  verifyPath,
} from './support.js';

let fixture: AnchoredStore;
let anchorNote: string;
beforeAll(async () => {
  fixture = await anchoredStore('codes');
  anchorNote = readFileSync(fixture.anchor, 'utf8');
}, 120_000);
afterAll(() => fixture?.remove());

/** Verifies a tampered copy the strongest way: pinned keys and the off-host checkpoint. */
async function verifyTampered(
  fn: (db: Database.Database) => void,
  trustedKeys: readonly TrustedKey[] = pinnedKeys,
): Promise<VerifyStoreResult> {
  const path = fixture.freshCopy();
  tamper(path, fn);
  return verifyPath(path, { trustedKeys, externalCheckpoints: [anchorNote] });
}

/** The deciding fault of the store's log. */
function firstFault(result: VerifyStoreResult): VerificationFault {
  const log = result.logs.find((l) => l.origin === fixture.base.origin)!;
  return log.problems[0]!;
}

function resign(db: Database.Database, size: number): void {
  const { note } = db.prepare('SELECT note FROM audit_checkpoints WHERE size = ?').get(size) as {
    note: string;
  };
  const cp = parseCheckpoint(note);
  const forged = signCheckpoint({ origin: cp.origin, size: cp.size, root: cp.root }, generateSigningKey());
  db.prepare('UPDATE audit_checkpoints SET note = ? WHERE size = ?').run(forged, size);
}

describe('each tamper class yields its fault code', { timeout: 120_000 }, () => {
  // A value of the wrong type (row.type_invalid) needs a pre-STRICT store: types.test.ts checks it.
  const rowCases: [string, (db: Database.Database) => void, VerificationFaultCode, number | undefined][] = [
    [
      'a row edited',
      (db) => db.exec("UPDATE audit_events SET target = 'x' WHERE seq = 3"),
      'row.hash_mismatch',
      3,
    ],
    ['a row deleted', (db) => db.exec('DELETE FROM audit_events WHERE seq = 3'), 'row.missing', 3],
    [
      'a link replaced',
      (db) => db.exec(`UPDATE audit_events SET prev_hash = '${'ab'.repeat(32)}' WHERE seq = 4`),
      'row.chain_broken',
      4,
    ],
    [
      'the tail cut off with its stored checkpoints (rolled back past the off-host one)',
      (db) =>
        db.exec('DELETE FROM audit_events WHERE seq > 10; DELETE FROM audit_checkpoints WHERE size > 10'),
      'checkpoint.rollback',
      11,
    ],
    [
      'a checkpoint note edited',
      (db) => {
        const { note } = db.prepare('SELECT note FROM audit_checkpoints WHERE size = 5').get() as {
          note: string;
        };
        db.prepare('UPDATE audit_checkpoints SET note = ? WHERE size = 5').run(
          note.replace('\n5\n', '\n4\n'),
        );
      },
      'checkpoint.signature_invalid',
      undefined,
    ],
  ];
  for (const [what, fn, code, seq] of rowCases) {
    it(`${what}: ${code}`, async () => {
      const result = await verifyTampered(fn);
      expect(result.verdict).toBe('tampered');
      const f = firstFault(result);
      expect(f).toMatchObject({ code, origin: fixture.base.origin });
      expect(f.seq).toBe(seq);
      expect(result.reason).toContain(`[${code}]`);
    });
  }

  it('the tail cut off under its stored checkpoints, no off-host one given: checkpoint.beyond_log', async () => {
    const path = fixture.freshCopy();
    tamper(path, (db) => db.exec('DELETE FROM audit_events WHERE seq > 9'));
    const result = await verifyPath(path, { trustedKeys: pinnedKeys });
    expect(result.verdict).toBe('tampered');
    expect(firstFault(result)).toMatchObject({ code: 'checkpoint.beyond_log', seq: 10 });
  });

  it('a row edited and the chain recomputed: checkpoint.root_mismatch from the last matching checkpoint on', async () => {
    const result = await verifyTampered((db) => {
      const events = allRows(db).map(eventOf);
      events[6] = { ...events[6]!, target: 'x' };
      rechainFrom(db, fixture.base.origin, events, 7);
    });
    expect(result.verdict).toBe('tampered');
    expect(firstFault(result)).toMatchObject({ code: 'checkpoint.root_mismatch', seq: 6 });
    expect(firstFault(result).message).toMatch(/^seq 6\.\.10: the Merkle root of the first 10 rows/);
  });

  it('a checkpoint re-signed by an unknown key, pinned keys: checkpoint.untrusted, unvouched', async () => {
    const result = await verifyTampered((db) => resign(db, 10));
    expect(result.verdict).toBe('unvouched');
    expect(firstFault(result).code).toBe('checkpoint.untrusted');
    expect(result.logs[0]!.problems.map((p) => p.code)).toEqual(['checkpoint.untrusted']);
    expect(result.logs[0]!.untrustedCheckpoints).toBe(1);
  });

  it('every checkpoint deleted, pinned keys: checkpoint.unvouched', async () => {
    const path = fixture.freshCopy();
    tamper(path, (db) => db.exec('DELETE FROM audit_checkpoints'));
    const result = await verifyPath(path, { trustedKeys: pinnedKeys });
    expect(result.verdict).toBe('unvouched');
    expect(firstFault(result)).toMatchObject({ code: 'checkpoint.unvouched', origin: fixture.base.origin });
    expect(result.logs[0]!.problems).toHaveLength(1);
  });

  it('a pinned key not bound to the origin: checkpoint.key_unbound', async () => {
    const unbound = trustedKeysFromJwks({ keys: [testSigningKey.publicJwk] });
    const result = await verifyPath(fixture.base.path, { trustedKeys: unbound });
    expect(result.verdict).toBe('unvouched');
    expect(firstFault(result).code).toBe('checkpoint.key_unbound');
  });

  const databaseCases: [string, (db: Database.Database) => void, VerificationFaultCode][] = [
    ['a view added', (db) => db.exec('CREATE VIEW shadow AS SELECT 1'), 'store.schema_changed'],
    [
      "a row moved to another log's origin",
      (db) => db.exec("UPDATE audit_events SET origin = 'onbehalf/elsewhere/1' WHERE seq = 12"),
      'row.foreign_log',
    ],
    [
      'audit_meta added to',
      (db) => db.exec("INSERT INTO audit_meta VALUES ('extra', '1')"),
      'store.meta_changed',
    ],
    [
      'a row below seq 1',
      (db) =>
        db.exec(
          "DROP TRIGGER audit_events_no_replace; CREATE TEMP TABLE t AS SELECT * FROM audit_events WHERE seq = 1; UPDATE t SET seq = 0, event_id = event_id || '-0'; INSERT INTO audit_events SELECT * FROM t",
        ),
      'row.outside_chain',
    ],
  ];
  for (const [what, fn, code] of databaseCases) {
    it(`${what}: ${code} among the database's faults`, async () => {
      const result = await verifyTampered(fn);
      expect(result.verdict).toBe('tampered');
      expect(result.database.map((p) => p.code)).toContain(code);
    });
  }

  it('verify --format json gives each fault as {code, origin, seq, message}; the table prints its code', async () => {
    const path = fixture.freshCopy();
    tamper(path, (db) => db.exec("UPDATE audit_events SET target = 'x' WHERE seq = 3"));
    const args = ['verify', path, '--trusted-keys', fixture.jwks, '--checkpoint', fixture.anchor];
    const json = await cli(...args, '--format', 'json');
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as { logs: { problems: Record<string, unknown>[] }[] };
    const first = parsed.logs[0]!.problems[0]!;
    expect(Object.keys(first)).toEqual(['code', 'origin', 'seq', 'message']);
    expect(first).toEqual({
      code: 'row.hash_mismatch',
      origin: fixture.base.origin,
      seq: 3,
      message: 'seq 3: hash does not match its contents (row edited)',
    });
    const table = await cli(...args);
    expect(table.code).toBe(1);
    expect(table.stdout).toContain(
      '  reason: seq 3: hash does not match its contents (row edited) [row.hash_mismatch]',
    );
  });
});
