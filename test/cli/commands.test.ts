import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { timelineLine } from '../../src/cli/commands/store-commands.js';
import { TABLE_COLUMNS } from '../../src/stores/query-sql.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { pipelineWithGap } from '../helpers/audit.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

let dir: string;
let store: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'onbehalf-cli-'));
  store = join(dir, 'demo.db');
  expect(run('demo', '--store', store).status).toBe(0);
});

/** A copy of the demo store with the append-only triggers dropped and `sql` applied. */
function tampered(name: string, sql: string): string {
  const copy = join(dir, `${name}.db`);
  copyFileSync(store, copy);
  const db = new Database(copy);
  db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
  db.exec('DROP TRIGGER audit_checkpoints_no_update;');
  db.exec(sql);
  db.close();
  return copy;
}

describe('onbehalf verify', () => {
  it('exits 0 on an intact store', () => {
    const r = run('verify', store);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^intact {2}onbehalf\/.+: 25 events, 1 signed checkpoint\(s\) verified$/m);
  });

  it('exits 1 naming the first bad seq when a row was edited', () => {
    const r = run(
      'verify',
      tampered('edited', "UPDATE audit_events SET on_behalf_of = 'dana' WHERE seq = 5"),
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('TAMPERED');
    expect(r.stdout).toContain('first bad seq: 5');
    expect(r.stdout).toContain('seq 5: hash does not match its contents (row edited)');
  });

  it('--format json gives a scheduled check the whole result, with the same exit codes', () => {
    const good = run('verify', store, '--format', 'json');
    expect(good.status).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, count: 25, keySource: 'store' });
    const bad = run(
      'verify',
      tampered('edited-json', "UPDATE audit_events SET target = 'x' WHERE seq = 7"),
      '--format',
      'ndjson',
    );
    expect(bad.status).toBe(1);
    expect(bad.stdout.trim().split('\n')).toHaveLength(1);
    const result = JSON.parse(bad.stdout) as { ok: boolean; firstBadSeq: number; reason: string };
    expect(result).toMatchObject({ ok: false, firstBadSeq: 7 });
    expect(result.reason).toContain('seq 7: hash does not match its contents (row edited)');
    expect(run('verify', store, '--format', 'xml').status).toBe(2);
  });

  it('exits 1 when a row was deleted', () => {
    const r = run('verify', tampered('deleted', 'DELETE FROM audit_events WHERE seq = 4'));
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('first bad seq: 4');
    expect(r.stdout).toMatch(/seq 4: missing \(row deleted\)/);
  });

  it('exits 1 when the signed checkpoint was edited', () => {
    const r = run(
      'verify',
      tampered('checkpoint', "UPDATE audit_checkpoints SET note = replace(note, '\n25\n', '\n24\n')"),
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('TAMPERED');
  });

  it('exits 2 for a missing file, a file that is not a database, and bad arguments', () => {
    expect(run('verify', join(dir, 'missing.db')).status).toBe(2);
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not sqlite');
    const r = run('verify', junk);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('not a SQLite database');
    expect(run('verify').status).toBe(2);
    expect(run('frobnicate').status).toBe(2);
  });

  it('accepts an exported checkpoint and pinned keys', () => {
    const db = new Database(store, { readonly: true });
    const { note } = db.prepare('SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1').get() as {
      note: string;
    };
    db.close();
    const cp = join(dir, 'checkpoint.txt');
    writeFileSync(cp, note);
    const r = run('verify', store, '--checkpoint', cp, '--trusted-keys', `${store}.keys/jwks.json`);
    expect(r.stdout).not.toContain('checkpoint keys were read from the store itself');
    expect(r.status).toBe(0);
    // The same checkpoint against a store rolled back below it: the rollback is caught.
    const rolledBack = tampered(
      'rolled-back',
      'DELETE FROM audit_events WHERE seq > 10; DROP TRIGGER audit_checkpoints_no_delete; DELETE FROM audit_checkpoints',
    );
    const r2 = run('verify', rolledBack, '--checkpoint', cp);
    expect(r2.status).toBe(1);
  });
});

describe('onbehalf query, sql, timeline', () => {
  it('prints a table for people and JSON arrays keyed by column name for machines', () => {
    const table = run('query', store, '--actor-type', 'agent', '--trigger', 'email:msg-8821');
    expect(table.status).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^timestamp\s+actor_type\s+actor\s+on_behalf_of\s+owner\s+trigger\s+action/,
    );
    const json = JSON.parse(
      run('query', store, '--trigger', 'msg-8821', '--format', 'json').stdout,
    ) as Record<string, unknown>[];
    expect(json).toHaveLength(5);
    expect(Object.keys(json[0]!)).toEqual([...TABLE_COLUMNS]);
    const ndjson = run(
      'query',
      store,
      '--on-behalf-of',
      'tom',
      '--action',
      'send_mail',
      '--format',
      'ndjson',
    ).stdout;
    expect(
      ndjson
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { target: string }).target),
    ).toEqual([
      'stranger@evil.example',
      'stranger@evil.example',
      'tom@acme.example',
      'dana@acme.example',
      'dana@acme.example',
    ]);
    const since = JSON.parse(
      run(
        'query',
        store,
        '--since',
        '2026-01-01T09:00:00Z',
        '--until',
        '2026-01-01T12:00:00Z',
        '--format',
        'json',
      ).stdout,
    ) as { action: string }[];
    expect(since.map((r) => r.action)).toEqual(['read_mail', 'send_mail', 'send_mail', 'create_event']);
    expect(run('query', store, '--actor-type', 'robot').status).toBe(2);
    expect(run('query', store, '--since', 'the day before').status).toBe(2);
    // Each run starts a process and checks the file's integrity before reading it.
  }, 120_000);

  it('runs read-only SQL and refuses writes', () => {
    const r = run(
      'sql',
      store,
      'select actor_type, count(*) as n from audit_events group by actor_type order by 1',
      '--format',
      'json',
    );
    expect(JSON.parse(r.stdout)).toEqual([
      { actor_type: 'agent', n: 19 },
      { actor_type: 'human', n: 6 },
    ]);
    const w = run('sql', store, "update audit_events set result = 'ok'");
    expect(w.status).toBe(2);
    expect(w.stderr).toContain('only read-only statements');
    expect(run('sql', store, 'select * from audit_events; delete from audit_events').status).toBe(2);
    // Each statement runs in a child process that checks the file first.
  }, 120_000);

  it('shows the timeline of one trigger in order', () => {
    const r = run('timeline', store, '--trigger', 'msg-8821');
    expect(r.status).toBe(0);
    // The started record of send_mail is folded into its outcome: four actions, one line each.
    expect(r.stdout.split('\n')[0]).toBe('Timeline of email:msg-8821: 4 action(s) in 4 trace(s)');
    const lines = r.stdout.trim().split('\n').slice(2);
    expect(lines.map((l) => l.split('  ')[3])).toEqual([
      'read_mail → inbox/msg-8821',
      'search_files → drive:/finance',
      'send_mail → stranger@evil.example',
      'delete_mail → sent/fwd-invoice-2025-12',
    ]);
    expect(lines.map((l) => l.split('  ').slice(4, 6).join('  '))).toEqual([
      'result=ok  took 240 ms',
      'result=ok  took 240 ms',
      'result=ok  took 240 ms',
      'result=denied  took 240 ms',
    ]);
    // Each row says where its attribution came from; none of these rests on a claim.
    for (const l of lines) expect(l).toMatch(/ {2}provenance=local$/);
    expect(r.stdout).not.toMatch(/rest on claims/);
    expect(run('timeline', store).status).toBe(2);
  });

  it('marks the rows of a timeline that rest on claims, and says how many', async () => {
    const reader = new SqliteAuditStore(store, { readonly: true });
    const rows = await reader.query({ trigger: 'msg-8821' });
    await reader.close();
    const claimed = { ...rows[0]!, provenance: 'unverified' as const };
    expect(timelineLine(claimed)).toMatch(/provenance=unverified {2}CLAIM$/);
    expect(timelineLine({ ...rows[0]!, provenance: null })).toMatch(/provenance=not recorded {2}CLAIM$/);
    expect(timelineLine({ ...rows[0]!, provenance: 'verified' })).toMatch(/provenance=verified$/);
  });
});

describe('onbehalf keygen', () => {
  it('writes a private JWK (0600) and a public JWKS, and will not overwrite without --force', () => {
    const out = join(dir, 'keys');
    expect(run('keygen', '--out', out).status).toBe(0);
    const priv = JSON.parse(readFileSync(join(out, 'signing-key.jwk'), 'utf8')) as Record<string, string>;
    const pub = JSON.parse(readFileSync(join(out, 'jwks.json'), 'utf8')) as {
      keys: Record<string, string>[];
    };
    expect(priv).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(priv.d).toBeTruthy();
    expect(pub.keys[0]!.d).toBeUndefined();
    expect(pub.keys[0]!.kid).toBe(priv.kid);
    expect(statSync(join(out, 'signing-key.jwk')).mode & 0o777).toBe(0o600);
    expect(run('keygen', '--out', out).status).toBe(2);
    expect(run('keygen', '--out', out, '--force').status).toBe(0);
    expect(existsSync(join(out, 'jwks.json'))).toBe(true);
  });
});

describe('onbehalf verify reports gaps', () => {
  it('an intact store with gap records says how many events it could not take, and why', async () => {
    const pl = await pipelineWithGap(10, 4);
    try {
      expect(pl.auditProcessor.stats).toMatchObject({ lost: 6, gapRecords: 1 });
      const r = run('verify', pl.path);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^intact /m);
      expect(r.stdout).toContain('gaps: 1 gap record(s), 6 event(s) not recorded (queue full)');
      expect(r.stdout).toContain(`list them: onbehalf query ${pl.path} --record-type gap`);
      const listed = JSON.parse(run('query', pl.path, '--record-type', 'gap', '--format', 'json').stdout);
      expect(listed.map((g: { record_type: string }) => g.record_type)).toEqual(['gap']);
      const actions = JSON.parse(
        run('query', pl.path, '--record-type', 'action,started', '--format', 'json').stdout,
      );
      expect(actions).toHaveLength(4);
      expect(run('query', pl.path, '--record-type', 'gaps').status).toBe(2);
      const json = JSON.parse(run('verify', pl.path, '--format', 'json').stdout) as { gaps: unknown };
      expect(json.gaps).toEqual({ records: 1, lost: 6, reasons: ['queue full'] });
      expect(run('verify', store).stdout).not.toContain('gaps:');
    } finally {
      await pl.teardown();
    }
  });
});

describe('onbehalf --help', () => {
  it('is what the README shows under "The CLI", line for line', () => {
    const usage = run('--help').stdout.split('\n');
    const from = usage.indexOf('Usage:') + 1;
    const lines = usage.slice(from, usage.indexOf('', from)).map((l) => l.slice(2));
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const block = readme.split('## The CLI\n\n```\n')[1]?.split('```')[0];
    expect(lines.length).toBeGreaterThan(8);
    expect(block).toBe(`${lines.join('\n')}\n`);
  });
});
