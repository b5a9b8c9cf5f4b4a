// The README's "Auditor's questions": each command, exactly as written there, run on a fresh demo
// store, and its answer checked against the store itself (read with SQL, dates worked out here).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const DAY = 86_400_000;

/** The `sh` blocks of the README section, in order. */
function readmeCommands(): string[] {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.split("### Auditor's questions\n")[1]?.split('\n### ')[0] ?? '';
  return [...section.matchAll(/```sh\n(.+?)\n```/g)].map((m) => m[1]!);
}

/** Words of a command line as a POSIX shell splits them; only single quotes occur in the README. */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

let store: string;
let commands: string[];

/** Runs README command `n` (1-based) on the test's demo store, with extra arguments. */
function ask(n: number, ...extra: string[]) {
  const [program, ...args] = words(commands[n - 1]!);
  expect(program).toBe('onbehalf');
  const argv = args.map((a) => (a === 'onbehalf-demo.db' ? store : a));
  const r = spawnSync(process.execPath, [CLI, ...argv, ...extra], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r;
}

/** README command `n` with `--format json`: its `--columns` in every format, so the answer is exact. */
function answer(n: number): Record<string, unknown>[] {
  const table = ask(n);
  expect(table.status).toBe(0);
  const json = ask(n, '--format', 'json');
  expect(json.status).toBe(0);
  const rows = JSON.parse(json.stdout) as Record<string, unknown>[];
  // The table a person reads shows the same rows.
  expect(table.stdout.trim().split('\n')).toHaveLength(rows.length + 2);
  return rows;
}

function sql(text: string, ...params: unknown[]): Record<string, unknown>[] {
  const db = new Database(store, { readonly: true });
  try {
    return db.prepare(text).all(...params) as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

/** Midnight UTC of the last Tuesday before today, worked out without the CLI's code. */
function lastTuesday(now: Date): number {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let back = 1; back <= 7; back++) {
    if (new Date(today - back * DAY).getUTCDay() === 2) return today - back * DAY;
  }
  throw new Error('unreachable');
}

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'onbehalf-auditor-'));
  store = join(dir, 'onbehalf-demo.db');
  expect(spawnSync(process.execPath, [CLI, 'demo', '--store', store], { encoding: 'utf8' }).status).toBe(0);
  commands = readmeCommands();
}, 60_000);

describe("the README's auditor's questions, one command each, on the demo store", () => {
  it('are eleven commands', () => {
    expect(commands).toHaveLength(11);
  });

  it('1. human or AI: an agent sent the invoice to the stranger, for tom', () => {
    expect(answer(1)).toEqual([
      expect.objectContaining({
        actor_type: 'agent',
        actor: 'inbox-agent (nhi:agent-7f3)',
        on_behalf_of: 'tom',
        action: 'send_mail',
      }),
    ]);
  });

  it("2. who is accountable: the agent's owner, not the nurse it acted for", () => {
    expect(answer(2)).toEqual([
      {
        actor: 'care-assistant (nhi:agent-c41)',
        owner: 'dr.okafor',
        on_behalf_of: 'priya',
        approval: 'approved by dr.okafor',
      },
    ]);
  });

  it('3. what the agent did between 03:00 and 04:00', () => {
    const rows = answer(3);
    expect(rows.map((r) => [r.action, r.result])).toEqual([
      ['read_mail', 'ok'],
      ['search_files', 'ok'],
      ['send_mail', 'ok'],
      ['delete_mail', 'denied'],
    ]);
    const inWindow = sql(
      "select action from audit_events where actor_name = 'inbox-agent' and record_type = 'action' and timestamp >= '2026-01-01T03:00' and timestamp < '2026-01-01T04:00' order by timestamp",
    );
    expect(rows.map((r) => r.action)).toEqual(inWindow.map((r) => r.action));
  });

  it('4. every action msg-8821 set off: one line per action, the started record folded in', () => {
    const r = ask(4);
    expect(r.status).toBe(0);
    const records = sql("select record_type from audit_events where trigger_id = 'msg-8821'");
    expect(records).toHaveLength(5); // 4 actions, one with a started record
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('Timeline of email:msg-8821: 4 action(s) in 4 trace(s)');
    expect(lines.slice(2)).toHaveLength(4);
    expect(lines.find((l) => l.includes('send_mail'))).toMatch(/result=ok {2}took 240 ms/);
    expect(r.stdout).not.toMatch(/started|NEVER FINISHED/);
    const json = JSON.parse(ask(4, '--format', 'json').stdout) as Record<string, unknown>[];
    const sent = json.find((a) => a.action === 'send_mail')!;
    expect(sent).toMatchObject({ record_type: 'action', finished: true, duration_ms: 240 });
    expect(sent.started_event_id).toBe(
      sql("select event_id from audit_events where trigger_id = 'msg-8821' and record_type = 'started'")[0]!
        .event_id,
    );
  });

  it('5. why it was allowed: the rule and the scopes', () => {
    expect(answer(5)).toEqual([
      {
        action: 'send_mail',
        policy: 'allow',
        rule: 'mail-send-any-recipient',
        scopes: ['mail.read', 'mail.send', 'files.read', 'mail.delete'],
      },
    ]);
  });

  it('6. human-approved or autonomous: the referral approved, the reads on its own', () => {
    const rows = answer(6);
    expect(rows.map((r) => [r.action, r.approval])).toEqual([
      ['read_record', 'not_required'],
      ['export_record', 'approved by dr.okafor'],
      ['read_record', 'not_required'],
      ['read_record', 'not_required'],
    ]);
    expect(rows.find((r) => r.action === 'export_record')).toMatchObject({ policy: 'require_approval' });
  });

  it('7. PII redacted: the patient’s e-mail address never reached the store', () => {
    expect(answer(7)).toEqual([
      expect.objectContaining({ target: 'patient/P-4471/chart', redactions: ['email'] }),
    ]);
    const [row] = sql("select tool_arguments from audit_events where target = 'patient/P-4471/chart'");
    expect(String(row!.tool_arguments)).not.toContain('ana.silva@example.org');
    expect(String(row!.tool_arguments)).toContain('[REDACTED:email]');
  });

  it('8. which employee accessed patient records through the assistant last Tuesday: priya', () => {
    const rows = answer(8);
    expect(rows.map((r) => [r.on_behalf_of, r.target])).toEqual([['priya', 'patient/P-4471/chart']]);
    const day = new Date(lastTuesday(new Date())).toISOString().slice(0, 10);
    expect(String(rows[0]!.timestamp).slice(0, 10)).toBe(day);
    // Not the nurse's own read that day, nor the assistant's reads on other days.
    expect(sql("select count(*) as n from audit_events where target like 'patient/%'")[0]!.n).toBe(4);
  });

  it('9. a human acting with no agent: actor human, the delegation chain the human alone, recorded locally', () => {
    expect(answer(9)).toEqual([
      expect.objectContaining({
        actor_type: 'human',
        actor: 'Priya (priya)',
        delegation: ['priya'],
        provenance: 'local',
        target: 'patient/P-2290/chart',
      }),
    ]);
  });

  it('10. the log is intact', () => {
    const r = ask(10);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^intact {2}\S+: 25 events, 1 signed checkpoint\(s\) verified$/m);
  });

  it("11. what the assistant accessed this week: today's reads, and last Tuesday's when it is in this week", () => {
    const now = new Date();
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    const monday = today - ((now.getUTCDay() + 6) % 7) * DAY;
    const expected = sql(
      "select target from audit_events where actor_id = 'nhi:agent-c41' and record_type = 'action' and timestamp >= ? order by timestamp",
      new Date(monday).toISOString(),
    ).map((r) => r.target);
    const rows = answer(11);
    expect(rows.map((r) => r.target)).toEqual(expected);
    expect(expected.slice(-2)).toEqual(['patient/P-1038/chart', 'patient/P-1038/labs']);
    // From Wednesday to Sunday, last Tuesday is this week's Tuesday.
    expect(expected.length).toBe(lastTuesday(now) >= monday ? 4 : 2);
  });
});
