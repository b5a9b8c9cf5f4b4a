// The real CLI (`node dist/cli/main.js verify`) on intact, tampered and unusable stores: exit codes
// 0 intact, 1 tampered (naming the first bad seq), 2 unusable input.

import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/keys/keys.js';
import { testSigningKey } from '../helpers/audit.js';
import { pinnedJwksText } from '../helpers/keys.js';
import {
  type BuiltStore,
  buildStore,
  cliMain,
  copyStore,
  ensureBuilt,
  scratchDir,
  tamper,
} from './support.js';

let dir: string;
let base: BuiltStore;

beforeAll(async () => {
  await ensureBuilt();
  dir = scratchDir('cli');
  base = await buildStore(join(dir, 'base.db'), 12, 5);
  writeFileSync(join(dir, 'jwks.json'), pinnedJwksText([testSigningKey]));
  writeFileSync(join(dir, 'other-jwks.json'), pinnedJwksText([generateSigningKey()]));
  writeFileSync(join(dir, 'exported.note'), base.exported.at(-1)!);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function verify(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliMain, 'verify', ...args], (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('onbehalf verify exit codes', () => {
  it('0 for an intact store, with pinned keys and the exported checkpoint', async () => {
    const r = await verify(
      base.path,
      '--trusted-keys',
      join(dir, 'jwks.json'),
      '--checkpoint',
      join(dir, 'exported.note'),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^intact /m);
  });

  it('1 for an edited row, naming its seq', async () => {
    const path = copyStore(base.path, join(dir, 'edited.db'));
    tamper(path, (db) => db.prepare("UPDATE audit_events SET on_behalf_of = 'mallory' WHERE seq = 4").run());
    const r = await verify(path);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/first bad seq: 4\n/);
  });

  it('1 for a store truncated below the exported checkpoint given with --checkpoint', async () => {
    const path = copyStore(base.path, join(dir, 'truncated.db'));
    tamper(path, (db) => {
      db.prepare('DELETE FROM audit_events WHERE seq > 6').run();
      db.prepare('DELETE FROM audit_checkpoints WHERE size > 6').run();
    });
    expect((await verify(path)).code).toBe(0);
    const r = await verify(path, '--checkpoint', join(dir, 'exported.note'));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/first bad seq: 7\n/);
  });

  it('3, not 1, when the checkpoints were not signed by the pinned key: nothing is wrong, nothing vouches', async () => {
    const r = await verify(base.path, '--trusted-keys', join(dir, 'other-jwks.json'));
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/^UNVOUCHED /m);
    expect(r.stdout).toMatch(/not signed by a trusted key.*either the wrong --trusted-keys were given/);
  });

  it('2 for a directory, a file that is not a database, a missing file and garbage inputs', async () => {
    const folder = join(dir, 'a-directory');
    mkdirSync(folder);
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not a database\n'.repeat(200));
    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '{"keys": 42');
    for (const args of [
      [folder],
      [junk],
      [join(dir, 'missing.db')],
      [base.path, '--trusted-keys', garbage],
      [base.path, '--trusted-keys', folder],
      [base.path, '--checkpoint', join(dir, 'missing.note')],
      // An operator handing over the wrong file is unusable input, not evidence of tampering.
      [base.path, '--checkpoint', garbage],
    ]) {
      const r = await verify(...args);
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^onbehalf: /);
      expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
    }
    // Seven process starts, on a machine that may be busy.
  }, 120_000);
});
