// A real PostgreSQL for tests: the server on 127.0.0.1:5432 (trust auth, user postgres); each test file
// creates its own uniquely named database and login roles, and drops them afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { AuditEvent } from '../../src/pipeline/event.js';

/** The server the tests use; `ONBEHALF_TEST_PG` overrides it (a URL without a database name). */
export const PG_SERVER = process.env.ONBEHALF_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432';

/** A database made for one test file. */
export interface TestDatabase {
  name: string;
  /** Connection URL as the superuser (owner of the schema). */
  url: string;
  /** The same database as another (login) role. */
  urlAs(role: string): string;
  /** Runs SQL as the superuser in this database. */
  admin(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** A login role (dropped with the database), member of the given group roles. */
  createLoginRole(...groups: string[]): Promise<string>;
  /** Drops the database (closing connections left open) and the login roles. */
  drop(): Promise<void>;
}

async function onServer<T>(database: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${PG_SERVER}/${database}` });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database named `onbehalf_<prefix>_<random>`. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const name = `onbehalf_${prefix}_${suffix}`;
  await onServer('postgres', (c) => c.query(`CREATE DATABASE ${name}`));
  const roles: string[] = [];
  let next = 0;
  const admin = new pg.Pool({ connectionString: `${PG_SERVER}/${name}`, max: 2 });
  const urlAs = (role: string) => PG_SERVER.replace(/\/\/[^@/]*@/, `//${role}@`).concat(`/${name}`);
  return {
    name,
    url: `${PG_SERVER}/${name}`,
    urlAs,
    admin: (sql, params) => admin.query(sql, params),
    async createLoginRole(...groups) {
      const role = `ob_login_${suffix}_${next++}`;
      await admin.query(`CREATE ROLE ${role} LOGIN${groups.length ? ` IN ROLE ${groups.join(', ')}` : ''}`);
      roles.push(role);
      return role;
    },
    async drop() {
      await admin.end();
      await onServer('postgres', async (c) => {
        // pool.end() resolves before its connections have closed: a forced drop would kill them
        // mid-close, an error nobody listens to. Wait (a little) for them to go first.
        for (let i = 0; i < 50; i++) {
          const { rows } = await c.query(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if (rows[0].n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        for (const role of roles) await c.query(`DROP ROLE IF EXISTS ${role}`);
      });
    },
  };
}

/** Runs `fn` on one connection to `url`, closed afterwards. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const ACTIONS = ['read_inbox', 'summarize', 'send_mail', 'delete_mail'] as const;

/** The seed scenario's kind of event, varied by `i` (and `tag`, so that writers' events differ). */
export function seedEvent(i: number, tag = 'w0'): AuditEvent {
  const action = ACTIONS[i % ACTIONS.length]!;
  const human = i % 5 === 4;
  return {
    event_id: `evt-${tag}-${i}-${randomBytes(4).toString('hex')}`,
    record_type: 'action',
    timestamp: new Date(Date.UTC(2026, 0, 14, 3, 14, 0, i * 7)).toISOString(),
    actor_type: human ? 'human' : 'agent',
    actor_id: human ? 'tom' : 'nhi:agent-7f3',
    actor_name: human ? null : 'inbox-agent',
    owner_id: 'tom',
    on_behalf_of: 'tom',
    trigger_type: 'email',
    trigger_id: i % 3 === 0 ? 'msg-8821' : `msg-${9000 + i}`,
    intent: 'triage_inbox',
    session_id: `sess-${tag}`,
    delegation_chain: '["tom","nhi:agent-7f3"]',
    scopes: '["mail.read","mail.send"]',
    action,
    target: action === 'send_mail' ? 'stranger@evil.example' : `mailbox/tom/${i}`,
    risk_tier: action === 'send_mail' ? 2 : 0,
    result: 'ok',
    policy_decision: 'allow',
    policy_rule: `rule-${action}`,
    approval_state: 'not_required',
    approved_by: null,
    provenance: 'local',
    tool_arguments: action === 'send_mail' ? '{"to":"[REDACTED:email]","subject":"invoice"}' : null,
    redactions: action === 'send_mail' ? '["email"]' : null,
    trace_id: randomBytes(16).toString('hex'),
    span_id: randomBytes(8).toString('hex'),
    parent_span_id: null,
    service_name: `inbox-agent-${tag}`,
    duration_ms: 1.25 + i,
    attributes: '{"gen_ai.tool.name":"x"}',
  };
}
