import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const run = (args: string[], cwd?: string) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd });

describe('onbehalf demo', () => {
  let dir: string;
  let store: string;
  let stdout: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'onbehalf-demo-'));
    store = join(dir, 'demo.db');
    const r = run(['demo', '--store', store]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    stdout = r.stdout;
  });

  it('prints the naive line and the attributed line of the 03:14 send_mail', () => {
    expect(stdout).toContain('# Before: attribution erased  (logged at 03:14, Tom was asleep)');
    expect(stdout).toContain('user=tom  action=send_mail  to=stranger@evil.example  result=ok');
    expect(stdout).toContain('actor=inbox-agent (nhi:agent-7f3)  on_behalf_of=tom  action=send_mail');
    expect(stdout).toContain('to=stranger@evil.example  trigger=email:msg-8821  result=ok');
    expect(stdout).toMatch(/Store intact: 25 events/);
    expect(stdout).toContain('Try next:');
  });

  it("answers the seed's first query with the agent's actions only, newest first", () => {
    const db = new Database(store, { readonly: true });
    const rows = db
      .prepare("select * from audit_events\nwhere actor_type = 'agent'\norder by timestamp desc;")
      .all() as Record<string, unknown>[];
    db.close();
    // The clinic's actions are dated from today, so they come first.
    const clinic = rows.filter((r) => r.actor_id === 'nhi:agent-c41');
    expect(clinic.map((r) => [r.action, r.result, r.on_behalf_of])).toEqual([
      ['read_record', 'ok', 'marco'],
      ['read_record', 'ok', 'marco'],
      // The referral waited for Dr. Okafor: its approval request and resolution are rows of their own.
      ['export_record', 'ok', 'priya'],
      ['export_record', 'started', 'priya'],
      ['export_record', null, 'priya'],
      ['export_record', null, 'priya'],
      ['read_record', 'ok', 'priya'],
    ]);
    expect(rows.slice(0, clinic.length)).toEqual(clinic);
    for (const r of clinic) expect(r).toMatchObject({ owner_id: 'dr.okafor', provenance: 'local' });
    const inbox = rows.slice(clinic.length);
    expect(inbox.map((r) => [r.action, r.result, r.trigger_id])).toEqual([
      // The payment waited for Tom: its approval request and resolution are rows of their own.
      ['pay_invoice', 'ok', 'chat-5540'],
      ['pay_invoice', 'started', 'chat-5540'],
      ['pay_invoice', null, 'chat-5540'],
      ['pay_invoice', null, 'chat-5540'],
      ['create_event', 'ok', 'chat-5512'],
      ['send_mail', 'ok', 'daily-digest'],
      ['read_mail', 'ok', 'daily-digest'],
      ['delete_mail', 'denied', 'msg-8821'],
      ['send_mail', 'ok', 'msg-8821'],
      ['send_mail', 'started', 'msg-8821'],
      ['search_files', 'ok', 'msg-8821'],
      ['read_mail', 'ok', 'msg-8821'],
    ]);
    for (const r of inbox) {
      expect(r).toMatchObject({ actor_type: 'agent', actor_id: 'nhi:agent-7f3', actor_name: 'inbox-agent' });
      expect(r).toMatchObject({ owner_id: 'tom', on_behalf_of: 'tom', provenance: 'local' });
    }
  });

  it("answers the seed's second query with the incident timeline, in order", () => {
    const db = new Database(store, { readonly: true });
    const rows = db
      .prepare("select * from audit_events\nwhere trigger_id = 'msg-8821'\norder by timestamp asc;")
      .all() as Record<string, unknown>[];
    db.close();
    // Completed actions are stamped when they end, a fraction of a millisecond after they began.
    expect(
      rows.map((r) => [String(r.timestamp).slice(0, 19), r.action, r.target, r.risk_tier, r.result]),
    ).toEqual([
      ['2026-01-01T03:14:02', 'read_mail', 'inbox/msg-8821', 0, 'ok'],
      ['2026-01-01T03:14:05', 'search_files', 'drive:/finance', 1, 'ok'],
      ['2026-01-01T03:14:09', 'send_mail', 'stranger@evil.example', 2, 'started'],
      ['2026-01-01T03:14:09', 'send_mail', 'stranger@evil.example', 2, 'ok'],
      ['2026-01-01T03:14:12', 'delete_mail', 'sent/fwd-invoice-2025-12', 3, 'denied'],
    ]);
    const sent = rows[3]!;
    expect(sent).toMatchObject({ trigger_type: 'email', actor_type: 'agent', on_behalf_of: 'tom' });
    expect(sent.tool_arguments).not.toContain('stranger@evil.example');
    expect(JSON.parse(String(sent.redactions))).toEqual(['email']);
  });

  it('decides with examples/inbox-agent/policy.cedar: a too-broad allow, a named forbid, an approval by Tom', () => {
    const db = new Database(store, { readonly: true });
    const rows = db
      .prepare("select * from audit_events where actor_type = 'agent' order by timestamp")
      .all() as Record<string, unknown>[];
    db.close();
    const byAction = (action: string, type = 'action') =>
      rows.filter((r) => r.action === action && r.record_type === type);
    expect(byAction('send_mail')[0]).toMatchObject({
      target: 'stranger@evil.example',
      policy_decision: 'allow',
      policy_rule: 'mail-send-any-recipient',
    });
    expect(byAction('delete_mail')[0]).toMatchObject({
      policy_decision: 'deny',
      policy_rule: 'never-delete-sent-mail',
    });
    expect(
      rows
        .filter((r) => r.action === 'pay_invoice')
        .map((r) => [r.record_type, r.approval_state, r.approved_by]),
    ).toEqual([
      ['approval_request', 'pending', null],
      ['approval_resolution', 'approved', 'tom'],
      ['started', 'approved', 'tom'],
      ['action', 'approved', 'tom'],
    ]);
    const paid = byAction('pay_invoice')[0] as Record<string, unknown>;
    expect(paid).toMatchObject({
      policy_decision: 'require_approval',
      policy_rule: 'payments-need-tom',
      result: 'ok',
    });
    const attributes = JSON.parse(String(paid.attributes)) as Record<string, unknown>;
    expect(attributes['attribution.policy.engine']).toMatch(/^cedar 4\./);
    expect(attributes['attribution.approval.id']).toBe(
      JSON.parse(String(byAction('pay_invoice', 'approval_resolution')[0]?.attributes))[
        'attribution.approval.id'
      ],
    );
  });

  it('records Tom acting directly as a human, with no agent', () => {
    const db = new Database(store, { readonly: true });
    const rows = db
      .prepare(
        "select * from audit_events where actor_type = 'human' and actor_id = 'tom' order by timestamp",
      )
      .all() as Record<string, unknown>[];
    db.close();
    expect(rows.map((r) => r.action)).toEqual([
      'read_mail',
      'send_mail',
      'send_mail',
      'approve_invoice',
      'approve_invoice',
    ]);
    for (const r of rows) expect(r).toMatchObject({ actor_id: 'tom', on_behalf_of: 'tom', owner_id: null });
  });

  it('replaces its own store when run again, and refuses to replace any other file', () => {
    expect(run(['demo', '--store', store]).status).toBe(0);
    const db = new Database(store, { readonly: true });
    expect((db.prepare('select count(*) as n from audit_events').get() as { n: number }).n).toBe(25);
    db.close();
    const other = join(dir, 'real.db');
    new Database(other).exec('create table t (x)');
    const r = run(['demo', '--store', other]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('is not a demo store; refusing to replace it');
  });
});
