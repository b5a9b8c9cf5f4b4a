// Attacks on the SQLite file itself, made through a second, independent connection: indexes that no
// longer match their table (rebuilt with a WHERE, or swapped for a shadow b-tree through
// writable_schema), a schema that is not the migration's, and values of the wrong type. Each must end
// in exit 1 from `verify` naming the origin, first bad seq and reason, and in a refusal from the
// commands that read rows.
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationFault } from '../../src/errors/verification-fault.js';
import { SQLITE_SCHEMA } from '../../src/stores/sqlite-schema.js';
import {
  type AnchoredStore,
  anchoredStore,
  type BuiltStore,
  cli,
  restoreTriggers,
  tamper,
} from './support.js';

let fixture: AnchoredStore;
let base: BuiltStore;
let jwks: string;
let anchor: string;
let freshCopy: () => string;

beforeAll(async () => {
  fixture = await anchoredStore('structure');
  ({ base, jwks, anchor, freshCopy } = fixture);
}, 60_000);

afterAll(() => fixture?.remove());

/** The strongest check the CLI offers: pinned keys and the exported checkpoint. */
const strongest = (path: string) => cli('verify', path, '--trusted-keys', jwks, '--checkpoint', anchor);

/** An attacker connection allowed to edit sqlite_master, as any process with the file can be. */
function withWritableSchema(path: string, fn: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    db.unsafeMode(true);
    db.pragma('writable_schema = ON');
    fn(db);
    db.pragma('writable_schema = OFF');
  } finally {
    db.close();
  }
}

const count = (path: string, sql: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

/** Every command that reads rows refuses the file, exit 1, saying why. */
async function readersRefuse(path: string): Promise<void> {
  for (const args of [
    ['timeline', path, '--trigger', 'msg-8821'],
    ['query', path, '--trigger', 'msg-8821'],
    ['sql', path, "SELECT count(*) AS n FROM audit_events WHERE trigger_id = 'msg-8821'"],
  ]) {
    const r = await cli(...args);
    expect(r.code, `${args[0]}: ${r.stdout}${r.stderr}`).toBe(1);
    expect(r.stderr).toMatch(/refusing to read rows: the database differs from what verify checks/);
    expect(r.stdout).toBe('');
  }
  const page = `${path}.html`;
  const report = await cli('report', path, '--trigger', 'msg-8821', '--trusted-keys', jwks, '--out', page);
  expect(report.code, report.stderr).toBe(1);
  const html = readFileSync(page, 'utf8');
  expect(html).toContain('Store TAMPERED');
  expect(html).not.toContain('Store intact');
  expect(html).toContain('0 audit records');
}

describe('an index that no longer matches its table', { timeout: 240_000 }, () => {
  it('rebuilt with a WHERE that leaves rows out, its CREATE text restored: hidden rows are named', async () => {
    const path = freshCopy();
    const hidden = count(path, "SELECT count(*) AS n FROM audit_events WHERE action = 'pay_invoice'");
    expect(hidden).toBeGreaterThan(0);
    const original = count(path, "SELECT count(*) AS n FROM audit_events WHERE trigger_id = 'msg-8821'");
    withWritableSchema(path, (db) => {
      db.exec(`DROP INDEX audit_events_trigger;
        CREATE INDEX audit_events_trigger ON audit_events (trigger_id, timestamp) WHERE action <> 'pay_invoice';`);
      db.prepare("UPDATE sqlite_master SET sql = ? WHERE name = 'audit_events_trigger'").run(
        'CREATE INDEX audit_events_trigger ON audit_events (trigger_id, timestamp)',
      );
    });
    // The attack works on any client: the seed's query no longer sees the payments.
    expect(count(path, "SELECT count(*) AS n FROM audit_events WHERE trigger_id = 'msg-8821'")).toBe(
      original - hidden,
    );
    const r = await strongest(path);
    expect(r.code, r.stdout).toBe(1);
    const firstPay = count(
      path,
      "SELECT min(seq) AS n FROM audit_events NOT INDEXED WHERE action = 'pay_invoice'",
    );
    expect(r.stdout).toContain(`TAMPERED  ${base.origin}:`);
    expect(r.stdout).toContain(`first bad seq: ${firstPay}\n`);
    expect(r.stdout).toMatch(
      /reason: seq \d+: database integrity check: row \d+ missing from index audit_events_trigger/,
    );
    await readersRefuse(path);
  });

  it('the primary-key index pointed at a shadow b-tree: a forged row queries see and verify did not', async () => {
    const path = freshCopy();
    const next = base.rows + 1;
    withWritableSchema(path, (db) => {
      db.exec('DROP TRIGGER IF EXISTS audit_events_no_replace');
      // A shadow of the primary-key index that will not hold the forged row.
      db.exec("CREATE INDEX shadow ON audit_events (origin, seq) WHERE event_id <> 'forged'");
      const row = db.prepare('SELECT * FROM audit_events WHERE seq = 1').get() as Record<string, unknown>;
      const forged = {
        ...row,
        seq: next,
        event_id: 'forged',
        actor_type: 'human',
        actor_id: 'tom',
        actor_name: 'Tom',
        action: 'approve_recipient',
        target: 'attacker@evil.example',
      };
      const cols = Object.keys(forged);
      db.prepare(
        `INSERT INTO audit_events (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`,
      ).run(forged);
      const { rootpage } = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'shadow'").get() as {
        rootpage: number;
      };
      db.prepare("UPDATE sqlite_master SET rootpage = ? WHERE name = 'sqlite_autoindex_audit_events_1'").run(
        rootpage,
      );
      db.exec("DELETE FROM sqlite_master WHERE name = 'shadow'");
      restoreTriggers(db);
    });
    expect(count(path, "SELECT count(*) AS n FROM audit_events WHERE action = 'approve_recipient'")).toBe(1);
    const r = await strongest(path);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toContain(`TAMPERED  ${base.origin}:`);
    // SQLite finds the whole index wrong (no row is where it should be): the first row is named, and
    // the forged row among the others.
    expect(r.stdout).toContain('first bad seq: 1\n');
    const json = JSON.parse(
      (await cli('verify', path, '--trusted-keys', jwks, '--checkpoint', anchor, '--format', 'json')).stdout,
    ) as { logs: { origin: string; problems: VerificationFault[] }[] };
    const problems = json.logs.find((l) => l.origin === base.origin)?.problems ?? [];
    expect(problems).toContainEqual({
      code: 'store.integrity_failed',
      origin: base.origin,
      seq: next,
      message: expect.stringMatching(
        new RegExp(
          `^seq ${next}: database integrity check: row ${next} missing from index sqlite_autoindex_audit_events_1`,
        ),
      ),
    });

    await readersRefuse(path);
  });
});

describe('a schema that is not the migration’s', { timeout: 240_000 }, () => {
  it('dropped append-only triggers, an added trigger that drops inserts, edited audit_meta: each reported', async () => {
    const cases: [string, (db: Database.Database) => void, RegExp][] = [
      [
        'dropped',
        (db) => db.exec('DROP TRIGGER audit_events_no_delete'),
        /trigger audit_events_no_delete is missing/,
      ],
      [
        'added',
        (db) =>
          db.exec(
            "CREATE TRIGGER quiet BEFORE INSERT ON audit_events WHEN NEW.action = 'delete_mail' BEGIN SELECT RAISE(IGNORE); END",
          ),
        /trigger "quiet" is not part of the store's schema/,
      ],
      [
        'meta',
        (db) => {
          db.exec('DROP TRIGGER audit_meta_no_replace');
          db.exec("INSERT INTO audit_meta (key, value) VALUES ('verified_by', 'auditor')");
          restoreTriggers(db);
        },
        /audit_meta: unknown key "verified_by"/,
      ],
      [
        'strict removed',
        (db) => {
          db.unsafeMode(true);
          db.pragma('writable_schema = ON');
          const { sql } = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'audit_events'").get() as {
            sql: string;
          };
          db.prepare("UPDATE sqlite_master SET sql = ? WHERE name = 'audit_events'").run(
            sql.replace(/ STRICT$/, ''),
          );
          db.pragma('writable_schema = OFF');
        },
        /table audit_events differs from the store's schema version 3/,
      ],
    ];
    for (const [name, attack, reason] of cases) {
      const path = freshCopy();
      const db = new Database(path);
      try {
        attack(db);
      } finally {
        db.close();
      }
      const r = await strongest(path);
      expect(r.code, `${name}: ${r.stdout}`).toBe(1);
      expect(r.stdout, name).toMatch(new RegExp(`^TAMPERED  database: .*${reason.source}`, 'm'));
    }
    expect(SQLITE_SCHEMA).toContain('STRICT');
  });

  it('a row below seq 1, where verify does not read, is named', async () => {
    const path = freshCopy();
    tamper(path, (db) => {
      db.exec('DROP TRIGGER IF EXISTS audit_events_no_replace');
      db.prepare(
        "INSERT INTO audit_events SELECT 0, origin, 'forged-0', record_type, timestamp, 'human', 'tom', actor_name, owner_id, on_behalf_of, trigger_type, trigger_id, intent, session_id, delegation_chain, scopes, 'approve_recipient', target, risk_tier, result, policy_decision, policy_rule, approval_state, approved_by, provenance, tool_arguments, redactions, trace_id, span_id, parent_span_id, service_name, duration_ms, attributes, prev_hash, hash FROM audit_events WHERE seq = 1",
      ).run();
    });
    const r = await strongest(path);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toContain(`TAMPERED  ${base.origin}:`);
    expect(r.stdout).toContain('first bad seq: 0\n');
    expect(r.stdout).toContain('reason: seq 0: a row below seq 1 is outside the chain');
    await readersRefuse(path);
  });
});
