// Several writer processes (child processes, each its own login role) append to one PostgreSQL store at
// once: each keeps a valid chain of its own, and verify finds an edited, deleted or reordered row in
// exactly the log it was done to.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/keys/keys.js';
import { openAuditStore } from '../../src/stores/open.js';
import { POSTGRES_AUDITOR_ROLE, POSTGRES_WRITER_ROLE } from '../../src/stores/postgres-schema.js';
import { PostgresAuditStore } from '../../src/stores/postgres-store.js';
import { verifyAuditStore } from '../../src/verify/verify-store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres-db.js';

const repo = join(import.meta.dirname, '../..');
const run = promisify(execFile);
const WRITERS = 4;
const EVENTS = 300;

let db: TestDatabase;
let keyDir: string;
let auditorUrl: string;
const origins: string[] = [];

/** The child processes run the compiled store: build it when dist/ is missing or older than the source. */
async function ensureBuilt(): Promise<void> {
  const mtime = (p: string) => {
    try {
      return statSync(join(repo, p)).mtimeMs;
    } catch {
      return 0;
    }
  };
  if (mtime('dist/stores/postgres-store.js') < mtime('src/stores/postgres-store.ts'))
    await run('npm', ['run', 'build', '--silent'], { cwd: repo });
}

beforeAll(async () => {
  await ensureBuilt();
  db = await createTestDatabase('fleet');
  keyDir = mkdtempSync(join(tmpdir(), 'onbehalf-pg-fleet-'));
  // The owner creates the schema and roles once; the hosts then log in as INSERT-only writers.
  const owner = new PostgresAuditStore(db.url, { signingKey: generateSigningKey() });
  await owner.ready();
  await owner.close();
  auditorUrl = db.urlAs(await db.createLoginRole(POSTGRES_AUDITOR_ROLE));
  const writers = await Promise.all(
    Array.from({ length: WRITERS }, () => db.createLoginRole(POSTGRES_WRITER_ROLE)),
  );
  const results = await Promise.all(
    writers.map((role, w) =>
      run(process.execPath, [
        join(import.meta.dirname, 'postgres-writer.mjs'),
        db.urlAs(role),
        `w${w}`,
        String(EVENTS),
        join(keyDir, `w${w}`),
      ]),
    ),
  );
  for (const { stdout } of results) {
    const out = JSON.parse(stdout) as { origin: string; stored: number };
    expect(out.stored).toBe(EVENTS);
    origins.push(out.origin);
  }
}, 60_000);

afterAll(async () => {
  await db?.drop();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

/** Changes rows as the owner with triggers off: what someone with the database's files could do. */
async function tamper(...statements: [string, unknown[]][]): Promise<void> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    // The triggers are always enabled (even for replication): only the owner turning them off gets by.
    await client.query('BEGIN');
    await client.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
    for (const [sql, params] of statements) await client.query(sql, params);
    await client.query('ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_append_only');
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

describe('a fleet of writers on one PostgreSQL store', () => {
  it('keeps one valid chain per writer process', async () => {
    expect(new Set(origins).size).toBe(WRITERS);
    const store = await openAuditStore(auditorUrl, { readonly: true });
    const result = await verifyAuditStore(store);
    expect(result.ok).toBe(true);
    expect(result.count).toBe(WRITERS * EVENTS);
    for (const origin of origins) {
      const log = result.logs.find((l) => l.origin === origin);
      expect(log).toMatchObject({ ok: true, count: EVENTS });
      // Checkpoints about every 50 events and at close, each verified against the rows.
      expect(log!.checkpointsVerified).toBeGreaterThan(EVENTS / 50 / 2);
      expect((await store.checkpoints(origin)).at(-1)?.size).toBe(EVENTS);
    }
    await store.close();
  });

  it('finds an edited, a deleted and a reordered row, each in its own writer log', async () => {
    const [edited, deleted, reordered, untouched] = origins as [string, string, string, string];
    await tamper([
      "UPDATE audit_events SET target = 'dana@acme.example' WHERE origin = $1 AND seq = 17",
      [edited],
    ]);
    await tamper(['DELETE FROM audit_events WHERE origin = $1 AND seq = 30', [deleted]]);
    // Rows 40 and 41 trade places, each with its own integrity columns.
    await tamper(
      ['UPDATE audit_events SET seq = -40 WHERE origin = $1 AND seq = 40', [reordered]],
      ['UPDATE audit_events SET seq = 40 WHERE origin = $1 AND seq = 41', [reordered]],
      ['UPDATE audit_events SET seq = 41 WHERE origin = $1 AND seq = -40', [reordered]],
    );
    const store = await openAuditStore(auditorUrl, { readonly: true });
    const result = await verifyAuditStore(store);
    await store.close();
    expect(result.ok).toBe(false);
    const log = (origin: string) => result.logs.find((l) => l.origin === origin)!;
    expect(log(edited)).toMatchObject({ ok: false, firstBadSeq: 17 });
    expect(log(edited).reason).toMatch(/seq 17: hash does not match its contents/);
    expect(log(deleted)).toMatchObject({ ok: false, firstBadSeq: 30 });
    expect(log(deleted).reason).toMatch(/seq 30: missing/);
    expect(log(reordered)).toMatchObject({ ok: false, firstBadSeq: 40 });
    expect(log(reordered).reason).toMatch(/seq 40: prev_hash does not link to seq 39/);
    expect(log(untouched)).toMatchObject({ ok: true, count: EVENTS });
  });
});
