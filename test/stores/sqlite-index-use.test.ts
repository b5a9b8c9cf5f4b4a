// Every index of a new SQLite store is there for a query the CLI, report or verify runs: the plan
// SQLite makes for each query (no ANALYZE statistics, as a store has) names the index docs/log-format.md
// ("SQLite indexes") gives for it, and no index is left that no query uses.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_QUERIES } from '../../src/cli/commands/demo.js';
import { auditEvent } from '../../src/pipeline/event.js';
import type { AuditQuery } from '../../src/stores/audit-store.js';
import { buildQuery, TABLE_COLUMNS } from '../../src/stores/query-sql.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { tempDir, testSigningKey } from '../helpers/audit.js';

const PK = 'sqlite_autoindex_audit_events_2';
const EVENT_ID = 'sqlite_autoindex_audit_events_1';

const q = (query: AuditQuery) => {
  const { sql, params } = buildQuery(query, () => '?');
  return { sql, params };
};
const raw = (sql: string, params: unknown[] = []) => ({ sql, params });

/** Query → the index its plan must use (`null`: a scan of the table, which is what the query needs). */
const QUERIES: [string, { sql: string; params: unknown[] }, string | null][] = [
  [
    'verify / readLog batch',
    raw(
      `SELECT ${TABLE_COLUMNS.join(', ')} FROM audit_events WHERE origin = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ['o', 0, 10],
    ),
    PK,
  ],
  [
    'writer tail, prerendered row',
    raw('SELECT hash FROM audit_events WHERE origin = ? AND seq = ?', ['o', 1]),
    PK,
  ],
  ['origins()', raw('SELECT DISTINCT origin FROM audit_events ORDER BY origin'), PK],
  ['writer max(seq)', raw('SELECT max(seq) AS max FROM audit_events WHERE origin = ?', ['o']), PK],
  ['receipt prove', raw("SELECT origin, seq FROM audit_events WHERE event_id = 'evt-1'"), EVENT_ID],
  ['query, no filter', q({}), 'audit_events_timestamp'],
  ['query --since/--until/--day', q({ since: '2026-01-01', until: '2026-01-02' }), 'audit_events_timestamp'],
  ['query --actor-type (seed query 1)', q({ actorType: 'agent' }), 'audit_events_timestamp'],
  ['seed query 1 as typed', raw(SEED_QUERIES.agent), 'audit_events_timestamp'],
  ['query --actor / report --actor', q({ actor: 'nhi:agent-7f3' }), 'audit_events_timestamp'],
  ['query --action', q({ action: 'send_mail' }), 'audit_events_timestamp'],
  ['query --on-behalf-of / report', q({ onBehalfOf: 'tom', order: 'asc' }), 'audit_events_on_behalf_of'],
  [
    'report --on-behalf-of --since',
    q({ onBehalfOf: 'tom', since: '2026-01-01', order: 'asc' }),
    'audit_events_on_behalf_of',
  ],
  ['timeline / query --trigger / report', q({ trigger: 'msg-8821', order: 'asc' }), 'audit_events_trigger'],
  ['query --trigger type:id', q({ trigger: 'email:msg-8821' }), 'audit_events_trigger'],
  ['seed query 2 as typed', raw(SEED_QUERIES.trigger), 'audit_events_trigger'],
  ['gap summary (verify)', raw("SELECT attributes FROM audit_events WHERE record_type = 'gap'"), null],
];

let dir: string;
let db: Database.Database;
beforeAll(async () => {
  dir = tempDir();
  const path = join(dir, 'audit.db');
  const store = new SqliteAuditStore(path, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
  store.appendSync(
    Array.from({ length: 50 }, (_, i) =>
      auditEvent({
        event_id: `evt-${i}`,
        record_type: 'action',
        timestamp: new Date(Date.UTC(2026, 0, 1, 3, 14, i)).toISOString(),
        actor_type: 'agent',
        actor_id: 'nhi:agent-7f3',
        on_behalf_of: `user-${i % 5}`,
        trigger_type: 'email',
        trigger_id: `msg-${i % 7}`,
        action: 'send_mail',
        risk_tier: 0,
        result: 'ok',
        provenance: 'local',
      }),
    ),
  );
  await store.close();
  db = new Database(path, { readonly: true });
});
afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const plan = (sql: string, params: unknown[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[])
    .map((r) => r.detail)
    .join(' | ');
const indexOf = (detail: string) => /USING (?:COVERING )?INDEX (\S+)/.exec(detail)?.[1] ?? null;

describe('SQLite indexes', () => {
  for (const [name, { sql, params }, index] of QUERIES) {
    it(`${name}: ${index ?? 'a table scan'}`, () => {
      const detail = plan(sql, params);
      expect(indexOf(detail), detail).toBe(index);
    });
  }

  it('has no index that none of these queries uses', () => {
    const indexes = (
      db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events'")
        .all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    const used = new Set(QUERIES.map(([, { sql, params }]) => indexOf(plan(sql, params))));
    expect(indexes.filter((i) => !used.has(i))).toEqual([]);
  });
});
