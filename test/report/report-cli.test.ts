import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelineWithGap } from '../helpers/audit.js';
import { cli, demoStore, tempDir } from './helpers.js';

let dir: string;
let store: string;

beforeAll(async () => {
  dir = tempDir();
  store = await demoStore(dir);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The seq of every timeline row in a written report. */
const seqs = (html: string) => [...html.matchAll(/data-seq="(\d+)"/g)].map((m) => Number(m[1]));

describe('onbehalf report (CLI)', () => {
  it('is in the usage text', async () => {
    const run = await cli(['--help']);
    expect(run.stdout).toMatch(/onbehalf report STORE \[--trigger ID\] \[--actor ID\] \[--on-behalf-of ID\]/);
    expect(run.stdout).toContain(
      '[--jaeger-url URL] [--trusted-keys JWKS] [--checkpoint FILE|DIR]... [--out FILE]',
    );
  });

  it('writes onbehalf-report.html in the working directory by default', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect((await cli(['report', store, '--trigger', 'msg-8821'])).code).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    expect(seqs(readFileSync(join(dir, 'onbehalf-report.html'), 'utf8'))).toEqual([1, 2, 3, 4, 5]);
  });

  it('scopes by actor, principal and time', async () => {
    const file = join(dir, 'scoped.html');
    expect((await cli(['report', store, '--actor', 'tom', '--out', file])).code).toBe(0);
    let html = readFileSync(file, 'utf8');
    expect(seqs(html)).toEqual([8, 9, 10, 12, 13]);
    expect(html).toContain('<h1>Audit report: actor tom</h1>');

    const window = ['--since', '2026-01-01T07:00:00Z', '--until', '2026-01-01T10:00:00Z'];
    expect((await cli(['report', store, '--on-behalf-of', 'tom', ...window, '--out', file])).code).toBe(0);
    html = readFileSync(file, 'utf8');
    expect(seqs(html)).toEqual([6, 7, 8]);
    expect(html).toContain('on behalf of tom, since 2026-01-01T07:00:00Z, until 2026-01-01T10:00:00Z');
  });

  it('says so when nothing matches, and still verifies the store', async () => {
    const file = join(dir, 'empty.html');
    const run = await cli(['report', store, '--trigger', 'msg-0000', '--out', file]);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining('0 record(s); store intact') });
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('No audit records match this scope.');
    expect(html).toContain('Store intact');
  });

  it('says what verification rested on: store keys and no anchors, or pinned keys and off-host checkpoints', async () => {
    const plain = join(dir, 'plain.html');
    expect((await cli(['report', store, '--out', plain])).code).toBe(0);
    let html = readFileSync(plain, 'utf8');
    expect(html).toContain('keys recorded in the store itself');
    expect(html).toContain('No checkpoints kept off-host were given');
    expect(html).not.toContain('Incomplete:');

    const anchors = join(dir, 'anchors');
    expect((await cli(['checkpoints', store, '--out', anchors])).code).toBe(0);
    const pinned = join(dir, 'pinned.html');
    const args = ['--trusted-keys', `${store}.keys/jwks.json`, '--checkpoint', anchors, '--out', pinned];
    expect((await cli(['report', store, ...args])).code).toBe(0);
    html = readFileSync(pinned, 'utf8');
    expect(html).toContain('Store intact');
    expect(html).toContain('checked against pinned, trusted keys');
    expect(html).toContain('Also checked against 1 checkpoint kept off-host');

    // The same anchors against a store shortened with its own checkpoints: the page says TAMPERED.
    const shortened = join(dir, 'shortened.db');
    copyFileSync(store, shortened);
    const db = new Database(shortened);
    db.exec(
      'DROP TRIGGER audit_events_no_delete; DROP TRIGGER audit_checkpoints_no_delete; DELETE FROM audit_events WHERE seq > 10; DELETE FROM audit_checkpoints;',
    );
    db.close();
    const broken = join(dir, 'broken.html');
    const run = await cli(['report', shortened, '--checkpoint', anchors, '--out', broken]);
    // The exit code is verify's: 1, tampered.
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/breaks at seq 11/);
    expect(readFileSync(broken, 'utf8')).toMatch(
      /Store TAMPERED: the chain of <code>[^<]+<\/code> breaks at seq 11/,
    );
  });

  it('warns on the page and on stderr when the store holds gap records', async () => {
    const pl = await pipelineWithGap(5, 3);
    try {
      const file = join(dir, 'gaps.html');
      const run = await cli(['report', pl.path, '--out', file]);
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('the store holds 1 gap record(s): 2 event(s) were not recorded');
      const html = readFileSync(file, 'utf8');
      expect(html).toContain('Store intact');
      expect(html).toContain(
        '<strong>Incomplete:</strong> the store holds 1 gap record: 2 events could not be recorded (queue full)',
      );
    } finally {
      await pl.teardown();
    }
  });

  it('refuses unusable input with exit code 2 and writes nothing', async () => {
    const file = join(dir, 'refused.html');
    for (const args of [
      ['report', store, '--jaeger-url', 'javascript:alert(1)', '--out', file],
      ['report', store, '--since', 'yesterday-ish', '--out', file],
      ['report', join(dir, 'missing.db'), '--out', file],
      ['report', '--out', file],
      ['report', store, '--out', join(dir, 'no-such-dir', 'x.html')],
      ['report', store, '--checkpoint', join(dir, 'no-such-anchor'), '--out', file],
    ]) {
      const run = await cli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/^onbehalf: /);
    }
    expect(existsSync(file)).toBe(false);
  });
});
