// Two witnesses, each its own `onbehalf witness` process on loopback with its own key and SQLite state,
// and a log that forks: two hosts holding copies of one store (one origin, one key) append different
// rows. The first host's checkpoint is cosigned by both; the second's by neither, and a policy with a
// quorum of 2 tells the two histories apart. Real stores, real HTTP, the built CLI.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thisHostOrigins } from '../../src/keys/key-binding.js';
import { generateSigningKey, writeKeyPair } from '../../src/keys/keys.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { cli, cliMain, ensureBuilt } from '../adversarial/support.js';
import { tempDir, testSigningKey } from '../helpers/audit.js';
import { seedEvent } from '../helpers/postgres-db.js';

let dir: string;
let jwks: string;
const witnesses: { child: ChildProcess; url: string; vkey: string; name: string }[] = [];

/** Starts `onbehalf witness` and reads the URL and vkey it prints. */
async function startWitness(n: number): Promise<(typeof witnesses)[number]> {
  const keyDir = join(dir, `w${n}`);
  const key = generateSigningKey();
  const { privatePath } = writeKeyPair(keyDir, key);
  const name = `witness.test/w${n}`;
  const child = spawn(process.execPath, [
    cliMain,
    'witness',
    '--listen',
    '127.0.0.1:0',
    '--state',
    join(keyDir, 'state.db'),
    '--key',
    privatePath,
    '--trusted-keys',
    jwks,
    '--name',
    name,
  ]);
  let text = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      text += s;
      if (/vkey \S+\n/.test(text)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`witness exited ${code}`)));
  });
  return {
    child,
    name,
    url: /listening on (\S+)/.exec(text)![1]!,
    vkey: /vkey (\S+)/.exec(text)![1]!,
  };
}

async function grow(path: string, n: number, from: number, tag: string): Promise<string> {
  const store = new SqliteAuditStore(path, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
  await store.append(Array.from({ length: n }, (_, i) => seedEvent(from + i, tag)));
  await store.close();
  return store.origin;
}

beforeAll(async () => {
  await ensureBuilt();
  dir = tempDir('onbehalf-witness-');
  jwks = writeKeyPair(join(dir, 'log-keys'), testSigningKey, { origins: [thisHostOrigins()] }).publicPath;
  witnesses.push(await startWitness(1), await startWitness(2));
}, 60_000);
afterAll(async () => {
  for (const w of witnesses) {
    const exited = new Promise((resolve) => w.child.once('exit', resolve));
    w.child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('onbehalf witness', () => {
  it('catches a two-host fork: both witnesses cosign the first history, neither the second, and a quorum of 2 tells them apart', async () => {
    const hostA = join(dir, 'host-a.db');
    const hostB = join(dir, 'host-b.db');
    const origin = await grow(hostA, 10, 0, 'shared');
    copyFileSync(hostA, hostB);
    for (const ext of ['-wal', '-shm']) if (existsSync(hostA + ext)) copyFileSync(hostA + ext, hostB + ext);
    const dirA = join(dir, 'anchors-a');
    const dirB = join(dir, 'anchors-b');
    const withWitnesses = witnesses.flatMap((w) => ['--witness', w.url]);
    // Both hosts anchor the shared history: the witnesses cosign size 10 once, then see it again.
    const sharedA = await cli('checkpoints', hostA, '--out', dirA, '--trusted-keys', jwks, ...withWitnesses);
    expect(sharedA.stdout).toMatch(/cosigned by witness\.test\/w1; cosigned by witness\.test\/w2/);
    expect(sharedA.code, sharedA.stderr).toBe(0);
    const sharedB = await cli('checkpoints', hostB, '--out', dirB, '--trusted-keys', jwks, ...withWitnesses);
    expect(sharedB.code, sharedB.stderr).toBe(0);

    // The hosts diverge: the same origin, different rows 11..15.
    await grow(hostA, 5, 10, 'host-a');
    await grow(hostB, 5, 10, 'host-b');
    const a = await cli('checkpoints', hostA, '--out', dirA, '--trusted-keys', jwks, ...withWitnesses);
    expect(a.stdout).toMatch(
      /at size 15\), consistent with size 10 .*cosigned by witness\.test\/w1; cosigned by witness\.test\/w2/,
    );
    expect(a.code, a.stderr).toBe(0);
    const b = await cli('checkpoints', hostB, '--out', dirB, '--trusted-keys', jwks, ...withWitnesses);
    // Each witness holds host A's size 15 and says so (409 with its size); at that size, host B's root differs.
    expect(
      b.stderr.match(/refused \(409\): a different checkpoint of size 15 was cosigned: the log is forked/g),
    ).toHaveLength(2);
    expect(b.stderr).toMatch(/2 witness\(es\) have cosigned another history of this log/);
    expect(b.code).toBe(1);

    const policy = join(dir, 'policy.txt');
    writeFileSync(
      policy,
      `# both witnesses must cosign\n${witnesses.map((w, i) => `witness W${i + 1} ${w.vkey}`).join('\n')}\ngroup both all W1 W2\nquorum both\n`,
    );
    const okA = await cli(
      'verify',
      hostA,
      '--checkpoint',
      dirA,
      '--trusted-keys',
      jwks,
      '--witness-policy',
      policy,
    );
    expect(okA.stdout).toMatch(
      new RegExp(`witnessed  ${origin} at size 15: cosigned by W1, W2 \\(quorum both met\\)`),
    );
    expect(okA.code).toBe(0);
    const forkB = await cli(
      'verify',
      hostB,
      '--checkpoint',
      dirB,
      '--trusted-keys',
      jwks,
      '--witness-policy',
      policy,
    );
    expect(forkB.stdout).toMatch(/UNWITNESSED {2}.* at size 15: quorum both not met: cosigned by no witness/);
    expect(forkB.code).toBe(3);

    // Host B grows on: the witnesses still refuse, now with a proof from their size 15 that does not verify.
    await grow(hostB, 1, 15, 'host-b');
    const b2 = await cli('checkpoints', hostB, '--out', dirB, '--trusted-keys', jwks, ...withWitnesses);
    expect(b2.stderr).toMatch(/refused \(422\): consistency proof from size 15 to 16 does not verify/);
    expect(b2.code).toBe(1);

    // A receipt from host A carries both cosignatures and meets the policy offline.
    const receipt = join(dir, 'a.tlog-proof');
    expect(
      (await cli('prove', hostA, '--origin', origin, '--seq', '12', '--checkpoint', dirA, '--out', receipt))
        .code,
    ).toBe(0);
    expect(readFileSync(receipt, 'utf8')).toMatch(/— witness\.test\/w1 .*\n— witness\.test\/w2 /);
    const checked = await cli('verify-receipt', receipt, '--trusted-keys', jwks, '--witness-policy', policy);
    expect(checked.stdout).toMatch(/^VERIFIED/);
    expect(checked.code).toBe(0);
    const receiptB = join(dir, 'b.tlog-proof');
    expect(
      (await cli('prove', hostB, '--origin', origin, '--seq', '12', '--checkpoint', dirB, '--out', receiptB))
        .code,
    ).toBe(0);
    const unwitnessed = await cli(
      'verify-receipt',
      receiptB,
      '--trusted-keys',
      jwks,
      '--witness-policy',
      policy,
    );
    expect(unwitnessed.stdout).toMatch(/FAILED .*witnesses: quorum both not met/);
    expect(unwitnessed.code).toBe(1);
  }, 180_000);
});
