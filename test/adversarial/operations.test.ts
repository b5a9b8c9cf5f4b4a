// Operations: two writers creating one fresh store at once must end with one key (the one jwks.json
// names), and `onbehalf sql` must stay read-only and stop a statement that runs too long.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureBuilt, repo, scratchDir } from './support.js';

let dir: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = scratchDir('operations');
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A writer that waits for `go` to exist, then opens the store, appends one event and closes. */
const WRITER = `
import { existsSync } from 'node:fs';
import { SqliteAuditStore } from '${join(repo, 'dist/stores/sqlite-store.js')}';
import { auditEvent } from '${join(repo, 'dist/pipeline/event.js')}';
const [path, go, name] = process.argv.slice(1);
process.stdout.write('ready\\n');
while (!existsSync(go)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
const store = new SqliteAuditStore(path, { checkpointIntervalMs: 0 });
store.appendSync([auditEvent({ event_id: name, record_type: 'action', timestamp: new Date().toISOString(), action: 'a' })]);
await store.close();
`;

function startWriter(path: string, go: string, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, path, go, name], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve) => child.stdout!.once('data', () => resolve(child)));
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

describe('store and key creation', () => {
  it('two writers creating a fresh store at once: one key, named by jwks.json, and the store verifies with it (12 trials)', async () => {
    for (let trial = 0; trial < 12; trial++) {
      const path = join(dir, `race-${trial}.db`);
      const go = join(dir, `go-${trial}`);
      const writers = await Promise.all(['a', 'b'].map((name) => startWriter(path, go, `${name}-${trial}`)));
      writeFileSync(go, '');
      expect(await Promise.all(writers.map(exited)), `trial ${trial}`).toEqual([0, 0]);
      const privateKid = JSON.parse(readFileSync(`${path}.keys/signing-key.jwk`, 'utf8')).kid;
      const published = JSON.parse(readFileSync(`${path}.keys/jwks.json`, 'utf8')).keys.map(
        (k: { kid: string }) => k.kid,
      );
      expect(published, `trial ${trial}`).toEqual([privateKid]);
      const db = new Database(path, { readonly: true });
      const kids = db.prepare('SELECT kid FROM audit_keys').pluck().all();
      db.close();
      expect(kids, `trial ${trial}`).toEqual([privateKid]);
      const r = await cli('verify', path, '--trusted-keys', `${path}.keys/jwks.json`);
      expect(r.code, `trial ${trial}: ${r.stdout}`).toBe(0);
      expect(r.stdout).toMatch(/^intact .*: 2 events/m);
      expect(existsSync(`${path}.keys`)).toBe(true);
    }
  }, 240_000);
});

describe('onbehalf sql is read-only and bounded', () => {
  let store: string;
  beforeAll(async () => {
    store = join(dir, 'sql.db');
    const { SqliteAuditStore } = await import('../../src/stores/sqlite-store.js');
    await new SqliteAuditStore(store, { checkpointIntervalMs: 0 }).close();
  });

  it('stops a statement that never returns after --timeout, with exit 2 and a message', async () => {
    const forever =
      'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c';
    const r = await cli('sql', store, forever, '--timeout', '1');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(
      'onbehalf: sql: the statement ran longer than 1 s and was stopped (--timeout SECONDS)\n',
    );
    expect(r.stdout).toBe('');
  }, 60_000);

  it('refuses writes, ATTACH and a bad --timeout', async () => {
    for (const [statement, message] of [
      ['DELETE FROM audit_events', /only read-only statements/],
      ['PRAGMA writable_schema = ON', /only read-only statements|returns no rows/],
      [`ATTACH DATABASE '${join(dir, 'other.db')}' AS other`, /only read-only statements|returns no rows/],
    ] as const) {
      const r = await cli('sql', store, statement);
      expect(r.code, `${statement}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(join(dir, 'other.db'))).toBe(false);
    const bad = await cli('sql', store, 'SELECT 1', '--timeout', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout: expected a number of seconds, got soon');
    const ok = await cli('sql', store, 'SELECT 1 AS one', '--format', 'json');
    expect(JSON.parse(ok.stdout)).toEqual([{ one: 1 }]);
  }, 60_000);
});
