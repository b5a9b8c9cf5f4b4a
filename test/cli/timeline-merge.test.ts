// `timeline` over several real stores: an agent's SQLite store, its tool service's, and a PostgreSQL
// fleet holding two writers; and `query`'s new filters, alike on SQLite and PostgreSQL.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEvent, auditEvent } from '../../src/pipeline/event.js';
import { PostgresAuditStore } from '../../src/stores/postgres-store.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres-db.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

const TRACE_A = 'a'.repeat(32);
const TRACE_B = 'b'.repeat(32);

function row(id: string, fields: Partial<AuditEvent> & Pick<AuditEvent, 'timestamp' | 'action'>): AuditEvent {
  return auditEvent({
    event_id: id,
    record_type: 'action',
    actor_type: 'agent',
    actor_id: 'nhi:agent-7f3',
    actor_name: 'inbox-agent',
    on_behalf_of: 'tom',
    trigger_type: 'email',
    trigger_id: 'msg-9000',
    result: 'ok',
    provenance: 'local',
    ...fields,
  });
}

/** The agent's records: a read, and a send whose start and outcome are both here. */
const AGENT_ROWS = [
  row('ag-1', {
    timestamp: '2026-02-02T10:00:00.000Z',
    action: 'read_mail',
    trace_id: TRACE_A,
    span_id: '01',
    duration_ms: 5,
  }),
  row('ag-2', {
    timestamp: '2026-02-02T10:00:02.000Z',
    action: 'send_mail',
    record_type: 'started',
    result: 'started',
    trace_id: TRACE_A,
    span_id: '02',
  }),
  row('ag-3', {
    timestamp: '2026-02-02T10:00:03.500Z',
    action: 'send_mail',
    trace_id: TRACE_A,
    span_id: '02',
    duration_ms: 1500,
  }),
];
/** The tool service's: its part of the send (same trace), a transfer that never finished, and the read again. */
const TOOL_ROWS = [
  row('tl-1', {
    timestamp: '2026-02-02T10:00:03.000Z',
    action: 'smtp_deliver',
    actor_type: 'service',
    actor_id: 'svc:mailer',
    actor_name: 'mailer',
    provenance: 'verified',
    trace_id: TRACE_A,
    span_id: '03',
    parent_span_id: '02',
    duration_ms: 800,
  }),
  row('tl-2', {
    timestamp: '2026-02-02T10:00:01.000Z',
    action: 'wire_money',
    record_type: 'started',
    result: 'started',
    target: 'acct:\u001b[31mevil',
    provenance: 'unverified',
    trace_id: TRACE_B,
    span_id: '04',
  }),
  AGENT_ROWS[0]!,
];

let dir: string;
let agentStore: string;
let toolStore: string;
let pgdb: TestDatabase;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'onbehalf-timeline-'));
  agentStore = join(dir, 'agent.db');
  toolStore = join(dir, 'tool.db');
  for (const [path, rows] of [
    [agentStore, AGENT_ROWS],
    [toolStore, TOOL_ROWS],
  ] as const) {
    const store = new SqliteAuditStore(path);
    await store.append(rows);
    await store.close();
  }
  pgdb = await createTestDatabase('timeline');
  for (const [origin, rows] of [
    ['fleet/agent', AGENT_ROWS],
    // event_id is unique across a fleet: the tool writer there holds only its own rows.
    ['fleet/tool', TOOL_ROWS.slice(0, 2)],
  ] as const) {
    const store = new PostgresAuditStore(pgdb.url, { origin });
    await store.append(rows);
    await store.close();
  }
}, 60_000);

afterAll(async () => {
  await pgdb?.drop();
});

const EXPECTED_LINES = [
  // Trace A first (it began first), all of it, then trace B: merged by trace, then time.
  /^2026-02-02T09:59:59\.995Z {2}\[aaaaaaaa\] {2}agent inbox-agent \(nhi:agent-7f3\) for tom {2}read_mail {2}result=ok {2}took 5 ms/,
  /^2026-02-02T10:00:02\.000Z {2}\[aaaaaaaa\] {2}agent inbox-agent \(nhi:agent-7f3\) for tom {2}send_mail {2}result=ok {2}took 1\.5 s/,
  /^2026-02-02T10:00:02\.200Z {2}\[aaaaaaaa\] {2}service mailer \(svc:mailer\) for tom {2}smtp_deliver {2}result=ok {2}took 800 ms {2}provenance=verified$/,
  // A start with no outcome; the target's escape sequence is shown, not obeyed.
  /^2026-02-02T10:00:01\.000Z {2}\[bbbbbbbb\] .* wire_money → acct:\\u001b\[31mevil {2}NEVER FINISHED \(started, no outcome recorded\) {2}provenance=unverified {2}CLAIM$/,
];

function expectActionLines(lines: string[]): void {
  for (const [i, pattern] of EXPECTED_LINES.entries()) expect(lines[i]).toMatch(pattern);
  expect(lines[EXPECTED_LINES.length]).toBe('');
}

describe('onbehalf timeline over several stores', () => {
  it('merges an agent’s and its tool service’s stores into one line per action', () => {
    const r = run('timeline', agentStore, toolStore, '--trigger', 'email:msg-9000');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    // Six records, one of them in both stores: four actions.
    expect(lines[0]).toBe(
      'Timeline of email:msg-9000: 4 action(s) in 2 trace(s) from 2 stores, 1 never finished',
    );
    expectActionLines(lines.slice(2));
    expect(r.stdout).toContain('1 of 4 action(s) rest on claims');
  });

  it('reads a PostgreSQL fleet URL, every writer in it, the same way', () => {
    const fleet = run('timeline', pgdb.url, '--trigger', 'msg-9000');
    expect(fleet.status).toBe(0);
    expect(fleet.stdout.split('\n')[0]).toBe(
      'Timeline of email:msg-9000: 4 action(s) in 2 trace(s), 1 never finished',
    );
    expectActionLines(fleet.stdout.split('\n').slice(2));
    // The fleet and a local copy of one of its writers: still each action once.
    const both = run('timeline', pgdb.url, agentStore, '--trigger', 'msg-9000', '--format', 'json');
    const actions = JSON.parse(both.stdout) as Record<string, unknown>[];
    expect(actions.map((a) => [a.action, a.finished, a.duration_ms])).toEqual([
      ['read_mail', true, 5],
      ['send_mail', true, 1500],
      ['smtp_deliver', true, 800],
      ['wire_money', false, null],
    ]);
    expect(actions[1]).toMatchObject({ event_id: 'ag-3', started_event_id: 'ag-2' });
  });

  it('says so when no store holds the trigger, and refuses a missing store', () => {
    expect(run('timeline', agentStore, toolStore, '--trigger', 'nothing').stdout).toBe(
      'no actions with trigger nothing\n',
    );
    expect(run('timeline', agentStore, join(dir, 'missing.db'), '--trigger', 'x').status).toBe(2);
  });
});

describe('onbehalf query --target, --provenance, --approval, --columns', () => {
  const targets = (location: string, ...args: string[]) =>
    (
      JSON.parse(run('query', location, ...args, '--columns', 'target', '--format', 'json').stdout) as {
        target: string | null;
      }[]
    ).map((r) => r.target);

  it('filters alike on SQLite and PostgreSQL', () => {
    for (const location of [toolStore, pgdb.url]) {
      expect(targets(location, '--target', 'ACCT:*')).toEqual(['acct:\u001b[31mevil']);
      expect(targets(location, '--target', 'acct?\u001b*')).toEqual(['acct:\u001b[31mevil']);
      expect(targets(location, '--provenance', 'verified')).toEqual([null]);
      expect(targets(location, '--provenance', 'unverified', '--record-type', 'started')).toHaveLength(1);
    }
    // % and _ are literal, not wildcards.
    expect(targets(toolStore, '--target', 'acct%')).toEqual([]);
    expect(targets(pgdb.url, '--target', 'acct_*')).toEqual([]);
  });

  it('refuses a provenance, approval or column it does not know, naming what it takes', () => {
    const p = run('query', toolStore, '--provenance', 'trusted');
    expect(p.status).toBe(2);
    expect(p.stderr).toContain('--provenance: expected local, verified or unverified, got trusted');
    expect(run('query', toolStore, '--approval', 'yes').stderr).toContain(
      '--approval: expected not_required',
    );
    const c = run('query', toolStore, '--columns', 'actor,secret');
    expect(c.status).toBe(2);
    expect(c.stderr).toContain('--columns: no column secret; expected a comma-separated list of timestamp');
    expect(run('query', toolStore, '--day', 'yesterday', '--since', '7d').status).toBe(2);
  });

  it('shows only the chosen columns in a table, escaped', () => {
    const r = run('query', toolStore, '--record-type', 'started', '--columns', 'action,target,provenance');
    expect(r.stdout).toBe(
      'action                target               provenance\n' +
        '--------------------  -------------------  ----------\n' +
        'wire_money (started)  acct:\\u001b[31mevil  unverified\n',
    );
  });
});
