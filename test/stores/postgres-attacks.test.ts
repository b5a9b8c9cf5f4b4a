// What a compromised fleet host can do with its own PostgreSQL login (a member of onbehalf_writer), on
// the real server: shadow the store's tables with temporary ones, read or write another host's log,
// record keys in another's name, plant a garbage key row. Each is refused, or reported by verify;
// a store made by the previous migration is upgraded in place, and the same attacks then fail there too.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationFaultCode } from '../../src/errors/verification-fault.js';
import { generateSigningKey, type SigningKey, trustedKeysFromJwks } from '../../src/keys/keys.js';
import { LogState } from '../../src/log-format/chain.js';
import { verifyCheckpoint } from '../../src/log-format/checkpoint.js';
import type { StoredAuditEvent } from '../../src/pipeline/event.js';
import { openAuditStore } from '../../src/stores/open.js';
import {
  POSTGRES_AUDITOR_ROLE,
  POSTGRES_MIGRATION,
  POSTGRES_WRITER_ROLE,
} from '../../src/stores/postgres-schema.js';
import { PostgresAuditStore } from '../../src/stores/postgres-store.js';
import { INSERT_EVENTS } from '../../src/stores/postgres-values.js';
import { TABLE_COLUMNS } from '../../src/stores/query-sql.js';
import { signWriterCheckpoint } from '../../src/stores/writer-checkpoint.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { createTestDatabase, seedEvent, type TestDatabase, withClient } from '../helpers/postgres-db.js';
import { runProcess } from '../helpers/run-process.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const V1_MIGRATION = readFileSync(join(import.meta.dirname, '../fixtures/postgres-schema-v1.sql'), 'utf8');
const FORGED = {
  ...seedEvent(99, 'forged'),
  actor_type: 'human' as const,
  actor_id: 'cfo',
  action: 'approve_payment',
  target: 'IBAN DE00 ATTACKER',
};

let keyDir: string;
beforeAll(() => {
  keyDir = mkdtempSync(join(tmpdir(), 'onbehalf-pg-attack-'));
});
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

/** A store with two writer hosts, A (the attacker) and B (the victim), each with a few rows. */
async function fleet(db: TestDatabase) {
  const owner = new PostgresAuditStore(db.url, { signingKey: generateSigningKey(), keyDir });
  await owner.ready();
  await owner.close();
  const roleA = await db.createLoginRole(POSTGRES_WRITER_ROLE);
  const roleB = await db.createLoginRole(POSTGRES_WRITER_ROLE);
  const auditor = await db.createLoginRole(POSTGRES_AUDITOR_ROLE);
  const keyB = generateSigningKey();
  const b = await openAuditStore(db.urlAs(roleB), { signingKey: keyB, keyDir });
  await b.append([seedEvent(0, 'b'), seedEvent(1, 'b'), seedEvent(2, 'b')]);
  await b.close();
  const keyA = generateSigningKey();
  const a = await openAuditStore(db.urlAs(roleA), { signingKey: keyA, keyDir });
  await a.append([seedEvent(0, 'a')]);
  await a.close();
  return { roleA, roleB, auditor, keyA, keyB, originA: a.origin, originB: b.origin };
}

async function rowsOf(db: TestDatabase, origin: string): Promise<StoredAuditEvent[]> {
  return (await db.admin('SELECT * FROM audit_events WHERE origin = $1 ORDER BY seq', [origin]))
    .rows as StoredAuditEvent[];
}

/** The next row of `origin` after `rows`, correctly chained: what an attacker who read the log can make. */
function chainedRow(origin: string, rows: readonly StoredAuditEvent[]): StoredAuditEvent {
  const state = LogState.fromRows(origin, rows);
  return { ...FORGED, ...state.append(FORGED).integrity };
}

const insertRow = (c: pg.Client, row: StoredAuditEvent) =>
  c.query(
    INSERT_EVENTS,
    TABLE_COLUMNS.map((col) => [row[col]]),
  );

async function verifyAs(db: TestDatabase, role: string) {
  const store = await openAuditStore(db.urlAs(role), { readonly: true });
  try {
    return await verifyAuditStore(store);
  } finally {
    await store.close();
  }
}

describe('a writer attacking the PostgreSQL store with its own login', () => {
  let db: TestDatabase;
  let f: Awaited<ReturnType<typeof fleet>>;
  beforeAll(async () => {
    db = await createTestDatabase('attack');
    f = await fleet(db);
  }, 30_000);
  afterAll(() => db?.drop());

  it('cannot create a temporary table, and one granted back shadows nothing in the functions', async () => {
    await withClient(db.urlAs(f.roleA), async (c) => {
      await expect(
        c.query('CREATE TEMP TABLE audit_origins (origin text, owner name, created_at text)'),
      ).rejects.toThrow(/permission denied to create temporary tables/);
    });
    // An administrator re-grants TEMP to everyone: the shadow table still changes nothing.
    await db.admin(`GRANT TEMPORARY ON DATABASE ${db.name} TO PUBLIC`);
    try {
      await withClient(db.urlAs(f.roleA), async (c) => {
        await c.query('CREATE TEMP TABLE audit_origins (origin text, owner name, created_at text)');
        await c.query('INSERT INTO pg_temp.audit_origins VALUES ($1, session_user, now())', [f.originB]);
        await expect(c.query('SELECT * FROM onbehalf_own_rows($1, 0, 10)', [f.originB])).rejects.toThrow(
          /not registered to/,
        );
        await expect(insertRow(c, chainedRow(f.originB, await rowsOf(db, f.originB)))).rejects.toThrow(
          /row-level security/,
        );
      });
      // And verify says the writer role can create temporary tables again.
      const result = await verifyAs(db, f.auditor);
      expect(result.ok).toBe(false);
      expect(result.integrityProblems).toContainEqual({
        code: 'store.privilege_excess',
        message: 'role onbehalf_writer can create temporary tables (TEMPORARY on the database)',
      });
    } finally {
      await db.admin(`REVOKE TEMPORARY ON DATABASE ${db.name} FROM PUBLIC`);
    }
    expect((await verifyAs(db, f.auditor)).ok).toBe(true);
  });

  it("reads nothing of another writer's log: rows, checkpoints, origins, keys", async () => {
    await withClient(db.urlAs(f.roleA), async (c) => {
      for (const [sql, params] of [
        ['SELECT * FROM onbehalf_own_rows($1, 0, 10)', [f.originB]],
        ['SELECT * FROM onbehalf_own_checkpoint($1)', [f.originB]],
      ] as const)
        await expect(c.query(sql, [...params]), sql).rejects.toThrow(/not registered to/);
      for (const table of ['audit_events', 'audit_checkpoints', 'audit_origins', 'audit_keys'])
        await expect(c.query(`SELECT * FROM ${table}`), table).rejects.toThrow(/permission denied/);
      // The own-keys function returns this writer's keys only.
      const keys = await c.query('SELECT kid FROM onbehalf_public_keys()');
      expect(keys.rows.map((r) => r.kid)).toEqual([f.keyA.kid]);
    });
  });

  it("writes nothing into another writer's log, even a correctly chained row, checkpoint or key", async () => {
    const rows = await rowsOf(db, f.originB);
    const forged = chainedRow(f.originB, rows);
    const state = LogState.fromRows(f.originB, [...rows, forged]);
    const signed = signWriterCheckpoint(f.originB, state, f.keyA);
    await withClient(db.urlAs(f.roleA), async (c) => {
      await expect(insertRow(c, forged)).rejects.toThrow(/row-level security/);
      await expect(
        c.query(
          'INSERT INTO audit_checkpoints (origin, size, root, note, state, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
          [
            f.originB,
            signed.checkpoint.size,
            signed.checkpoint.root,
            signed.checkpoint.note,
            signed.state,
            'now',
          ],
        ),
      ).rejects.toThrow(/row-level security/);
      // Neither a key nor an origin in another role's name.
      await expect(
        c.query("INSERT INTO audit_keys (kid, jwk, added_at, owner) VALUES ('k', '{}', 'now', $1)", [
          f.roleB,
        ]),
      ).rejects.toThrow(/permission denied/);
      await expect(
        c.query("INSERT INTO audit_origins (origin, owner, created_at) VALUES ('o', $1, 'now')", [f.roleB]),
      ).rejects.toThrow(/permission denied/);
    });
    const result = await verifyAs(db, f.auditor);
    expect(result.ok).toBe(true);
    expect(result.logs.find((l) => l.origin === f.originB)?.count).toBe(3);
  });

  it("trusts a recorded key only for its own writer's origins", async () => {
    // Say a forged row and a checkpoint signed by A's own key reached B's log (as the owner could put
    // them, or a writer could under the previous migration).
    const scratch = await createTestDatabase('attack_bound');
    try {
      const g = await fleet(scratch);
      const rows = await rowsOf(scratch, g.originB);
      const forged = chainedRow(g.originB, rows);
      const cp = signWriterCheckpoint(
        g.originB,
        LogState.fromRows(g.originB, [...rows, forged]),
        g.keyA,
      ).checkpoint;
      // The note itself is well signed: only binding keys to writers tells it apart.
      expect(verifyCheckpoint(cp.note, trustedKeysFromJwks({ keys: [g.keyA.publicJwk] })).ok).toBe(true);
      await withClient(scratch.url, async (c) => {
        await insertRow(c, forged);
        await c.query(
          "INSERT INTO audit_checkpoints (origin, size, root, note, state, created_at) VALUES ($1, $2, $3, $4, '{}', 'now')",
          [cp.origin, cp.size, cp.root, cp.note],
        );
      });
      const result = await verifyAs(scratch, g.auditor);
      const log = result.logs.find((l) => l.origin === g.originB)!;
      expect(log.ok).toBe(false);
      expect(log.reason).toMatch(/not signed by a trusted key/);
    } finally {
      await scratch.drop();
    }
  });

  it('has its garbage key row reported by verify, which names it and does not crash', async () => {
    await withClient(db.urlAs(f.roleA), (c) =>
      c.query("INSERT INTO audit_keys (kid, jwk, added_at) VALUES ('garbage', '{not json', '0')"),
    );
    const result = await verifyAs(db, f.auditor);
    expect(result.ok).toBe(false);
    expect(result.integrityProblems).toEqual([
      {
        code: 'store.key_unusable',
        message: `audit_keys row kid "garbage" (recorded by "${f.roleA}") is not a usable public Ed25519 key: not JSON`,
      },
    ]);
    // Every log still verifies against its own writer's keys, and B resumes its log.
    expect(result.logs.every((l) => l.ok)).toBe(true);
    const b = new PostgresAuditStore(db.urlAs(f.roleB), { signingKey: f.keyB, origin: f.originB });
    expect((await b.append([seedEvent(3, 'b')]))[0]!.seq).toBe(4);
    await b.close();
    const cli = await runProcess(process.execPath, [CLI, 'verify', db.urlAs(f.auditor)]);
    expect(cli.status, cli.stderr).toBe(1);
    expect(cli.stdout).toContain('TAMPERED  store: audit_keys row kid "garbage"');
    expect(cli.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('verify and the migration', () => {
  let db: TestDatabase;
  let f: Awaited<ReturnType<typeof fleet>>;
  beforeAll(async () => {
    db = await createTestDatabase('drift');
    f = await fleet(db);
  }, 30_000);
  afterAll(() => db?.drop());

  it("reports every trigger, policy and function that is not the migration's", async () => {
    expect((await verifyAs(db, f.auditor)).integrityProblems).toEqual([]);
    const drift: [string, string, VerificationFaultCode, RegExp][] = [
      [
        'DROP TRIGGER audit_events_append_only ON audit_events',
        '',
        'store.trigger_changed',
        /trigger audit_events_append_only is missing/,
      ],
      [
        'ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_no_truncate',
        'ALTER TABLE audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_no_truncate',
        'store.trigger_changed',
        /trigger audit_checkpoints_no_truncate is not always enabled/,
      ],
      [
        'ALTER TABLE audit_keys DISABLE ROW LEVEL SECURITY',
        'ALTER TABLE audit_keys ENABLE ROW LEVEL SECURITY',
        'store.table_changed',
        /audit_keys: row-level security is off/,
      ],
      [
        `CREATE POLICY anyone ON audit_events FOR INSERT TO ${POSTGRES_WRITER_ROLE} WITH CHECK (true)`,
        'DROP POLICY anyone ON audit_events',
        'store.policy_changed',
        /policy anyone is not the migration's: PERMISSIVE INSERT TO onbehalf_writer/,
      ],
      [
        'ALTER FUNCTION onbehalf_owns_origin(text) RESET search_path',
        "ALTER FUNCTION onbehalf_owns_origin(text) SET search_path = 'pg_catalog, pg_temp'",
        'store.function_changed',
        /onbehalf_owns_origin\(text\): settings \[\], not search_path=pg_catalog, pg_temp/,
      ],
      [
        'CREATE OR REPLACE FUNCTION onbehalf_own_origin_owner(p_origin text) RETURNS name LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ SELECT session_user $$',
        '',
        'store.function_changed',
        /function onbehalf_own_origin_owner\(text\): body is not the migration's/,
      ],
      [
        `GRANT UPDATE ON audit_events TO ${POSTGRES_WRITER_ROLE}`,
        `REVOKE UPDATE ON audit_events FROM ${POSTGRES_WRITER_ROLE}`,
        'store.privilege_excess',
        /role onbehalf_writer has UPDATE on table audit_events/,
      ],
    ];
    for (const [change, undo, code, problem] of drift) {
      await db.admin(change);
      const result = await verifyAs(db, f.auditor);
      expect(result.ok, change).toBe(false);
      const found = result.integrityProblems.filter((p) => problem.test(p.message));
      expect(
        found.map((p) => p.code),
        change,
      ).toEqual([code]);
      if (undo) await db.admin(undo);
    }
    // The migration puts back what was dropped or replaced; every problem is gone.
    await db.admin(POSTGRES_MIGRATION);
    expect((await verifyAs(db, f.auditor)).integrityProblems).toEqual([]);
  });

  it('upgrades a store made by the previous migration, which the shadowing attack broke', async () => {
    const old = await createTestDatabase('v1');
    try {
      await old.admin(V1_MIGRATION);
      const roleA = await old.createLoginRole(POSTGRES_WRITER_ROLE);
      const roleB = await old.createLoginRole(POSTGRES_WRITER_ROLE);
      const auditor = await old.createLoginRole(POSTGRES_AUDITOR_ROLE);
      const originB = 'onbehalf/host-b/v1';
      const keyB = generateSigningKey();
      await withClient(old.urlAs(roleB), (c) => writeV1Log(c, originB, keyB, 3));
      // Under version 1, A shadows audit_origins with a temporary table, reads B's log through
      // onbehalf_own_rows and appends a correctly chained forged row to it.
      await withClient(old.urlAs(roleA), async (c) => {
        await c.query('CREATE TEMP TABLE audit_origins (origin text, owner name, created_at text)');
        await c.query('INSERT INTO audit_origins VALUES ($1, session_user, now())', [originB]);
        const read = await c.query('SELECT * FROM onbehalf_own_rows($1, 0, 100)', [originB]);
        expect(read.rows).toHaveLength(3);
        await insertRow(c, chainedRow(originB, read.rows as StoredAuditEvent[]));
      });
      expect((await rowsOf(old, originB)).at(-1)?.action).toBe('approve_payment');

      // The owner's next start migrates the store to version 2 in place.
      const owner = new PostgresAuditStore(old.url, { signingKey: generateSigningKey(), keyDir });
      await owner.ready();
      await owner.close();
      expect(
        (await old.admin("SELECT value FROM audit_meta WHERE key = 'schema_version'")).rows[0].value,
      ).toBe('2');
      await withClient(old.urlAs(roleA), async (c) => {
        await expect(
          c.query('CREATE TEMP TABLE audit_origins (origin text, owner name, created_at text)'),
        ).rejects.toThrow(/permission denied/);
        await expect(insertRow(c, chainedRow(originB, await rowsOf(old, originB)))).rejects.toThrow(
          /row-level security/,
        );
      });
      const result = await verifyAs(old, auditor);
      expect(result.integrityProblems).toEqual([]);
      // The forged row made under version 1 is past B's last signed checkpoint: the chain holds, the
      // checkpoint does not cover it (anchoring is what tells such a tail apart).
      expect(result.logs.find((l) => l.origin === originB)).toMatchObject({ ok: true, count: 4 });
      // B, whose key row predates binding, resumes its log.
      const b = new PostgresAuditStore(old.urlAs(roleB), { signingKey: keyB, origin: originB });
      expect((await b.append([seedEvent(5, 'b')]))[0]!.seq).toBe(5);
      await b.close();
      // Running the migration again changes nothing.
      const again = new PostgresAuditStore(old.url, { signingKey: generateSigningKey(), keyDir });
      await again.ready();
      await again.close();
      expect((await verifyAs(old, auditor)).integrityProblems).toEqual([]);
    } finally {
      await old.drop();
    }
  });
});

/** A version-1 writer's log as the version-1 store wrote it: origin, key, `count` rows, a checkpoint. */
async function writeV1Log(c: pg.Client, origin: string, key: SigningKey, count: number): Promise<void> {
  await c.query('INSERT INTO audit_keys (kid, jwk, added_at) VALUES ($1, $2, $3)', [
    key.kid,
    JSON.stringify(key.publicJwk),
    new Date().toISOString(),
  ]);
  await c.query('INSERT INTO audit_origins (origin, created_at) VALUES ($1, $2)', [origin, 'now']);
  const state = new LogState(origin);
  for (let i = 0; i < count; i++) {
    const event = seedEvent(i, 'v1');
    await insertRow(c, { ...event, ...state.append(event).integrity });
  }
  const signed = signWriterCheckpoint(origin, state, key);
  await c.query(
    'INSERT INTO audit_checkpoints (origin, size, root, note, state, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
    [origin, signed.checkpoint.size, signed.checkpoint.root, signed.checkpoint.note, signed.state, 'now'],
  );
}
