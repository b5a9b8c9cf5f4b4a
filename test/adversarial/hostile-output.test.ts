// Output an attacker can write: a target from a hostile email carries ANSI/OSC escapes, C1 controls
// and bidi overrides; an origin written into the store by hand carries a newline and a fake
// "intact" line. No CLI output may pass them to the terminal, and the verifier must not crash.

import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvent } from '../../src/pipeline/event.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { testSigningKey } from '../helpers/audit.js';
import { pinnedJwksText } from '../helpers/keys.js';
import { cli, cliMain, copyStore, ensureBuilt, scratchDir, tamper } from './support.js';

const sh = promisify(execFile);
let dir: string;
let store: string;
let jwks: string;

/** A fake all-clear drawn over the line above, a C1 CSI, an OSC hyperlink and a right-to-left override. */
const HOSTILE =
  'dana@acme.example\x1b[1A\x1b[2K\rintact  onbehalf/host: 9 events\x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \u009b2K \u202eelpmaxe.live@yap';
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

beforeAll(async () => {
  await ensureBuilt();
  dir = scratchDir('output');
  store = join(dir, 'hostile.db');
  const writer = new SqliteAuditStore(store, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
  writer.appendSync(
    ['read_inbox', 'send_mail'].map((action, i) =>
      auditEvent({
        event_id: `evt-${i}`,
        record_type: 'action',
        timestamp: `2026-01-01T00:00:0${i}.000Z`,
        action,
        actor_type: 'agent',
        actor_id: `nhi:agent\x1b[31m-7f3`,
        trigger_type: 'email',
        trigger_id: 'msg-8821',
        target: HOSTILE,
        result: 'ok',
      }),
    ),
  );
  await writer.close();
  jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, pinnedJwksText([testSigningKey]));
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('every CLI output escapes what an attacker wrote', () => {
  it('timeline, query, sql and verify in every format: no raw control or bidi character; JSON still decodes to the value', async () => {
    const runs = [
      ['timeline', store, '--trigger', 'msg-8821'],
      ['query', store],
      ['query', store, '--format', 'json'],
      ['query', store, '--format', 'ndjson'],
      ['sql', store, 'SELECT target, actor_id FROM audit_events'],
      ['sql', store, 'SELECT target FROM audit_events', '--format', 'json'],
      ['verify', store, '--trusted-keys', jwks],
      ['verify', store, '--format', 'json'],
      ['checkpoints', store],
    ];
    for (const args of runs) {
      const r = await cli(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(RAW_CONTROL.test(r.stdout), `${args.join(' ')} stdout`).toBe(false);
      expect(RAW_CONTROL.test(r.stderr), `${args.join(' ')} stderr`).toBe(false);
    }
    const timeline = await cli('timeline', store, '--trigger', 'msg-8821');
    expect(timeline.stdout).toContain('\\u001b[1A\\u001b[2K\\u000dintact');
    expect(timeline.stdout).toContain('\\u009b2K \\u202eelpmaxe');
    // No line of output starts with the forged all-clear.
    expect(timeline.stdout).not.toMatch(/^intact/m);
    const json = JSON.parse((await cli('query', store, '--format', 'json')).stdout) as { target: string }[];
    expect(json[0]!.target).toBe(HOSTILE);
  }, 180_000);

  it('an origin holding a newline and escapes: verify, report and checkpoints name the log escaped, without a crash', async () => {
    const path = copyStore(store, join(dir, 'origin.db'));
    const evil = 'onbehalf/host\n\x1b[32mintact  onbehalf/host: 2 events\x1b[0m';
    tamper(path, (db) => db.prepare('UPDATE audit_events SET origin = ? WHERE seq = 2').run(evil));
    const r = await cli('verify', path, '--trusted-keys', jwks);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
    expect(RAW_CONTROL.test(r.stdout)).toBe(false);
    expect(r.stdout).toContain(
      'TAMPERED  onbehalf/host\\u000a\\u001b[32mintact  onbehalf/host: 2 events\\u001b[0m: 0 events',
    );
    expect(r.stdout).toContain('first bad seq: 1\n');
    expect(r.stdout).toMatch(/reason: seq 1: log origin .* cannot be a writer's/);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('intact'))).toHaveLength(0);
    for (const args of [
      ['report', path, '--out', join(dir, 'origin.html')],
      ['checkpoints', path],
    ]) {
      const out = await cli(...args);
      expect(out.code, `${args[0]}: ${out.stderr}`).toBe(1);
      expect(RAW_CONTROL.test(out.stdout + out.stderr), args[0]).toBe(false);
      expect(out.stderr).not.toMatch(/unexpected error|\n\s+at /);
    }
    expect(readFileSync(join(dir, 'origin.html'), 'utf8')).toContain('Store TAMPERED');
  }, 60_000);

  it('output cut short by `| head` ends quietly, without an EPIPE stack trace', async () => {
    const statement =
      'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 200000) SELECT x FROM c';
    const errFile = join(dir, 'epipe.err');
    await sh('sh', [
      '-c',
      `"${process.execPath}" "${cliMain}" sql "${store}" "${statement}" --format ndjson 2>"${errFile}" | head -c 100 >/dev/null`,
    ]);
    expect(readFileSync(errFile, 'utf8')).toBe('');
  }, 60_000);
});
