// The tlog-witness rules one by one, over real HTTP on loopback against a witness with a SQLite
// state file: status codes, the 409 size body, atomic state, and a cosignature that verifies.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundJwk } from '../../src/keys/key-binding.js';
import { generateSigningKey, trustedKeysFromJwks } from '../../src/keys/keys.js';
import { signCheckpoint } from '../../src/log-format/checkpoint.js';
import { sha256 } from '../../src/log-format/merkle.js';
import { consistencyProof, merkleTreeHash } from '../../src/log-format/merkle-proofs.js';
import { cosignedAt, cosignerVkey } from '../../src/witness/cosignature.js';
import { checkPolicy, parsePolicy } from '../../src/witness/policy.js';
import { type RunningWitness, startWitness } from '../../src/witness/witness-server.js';
import { tempDir } from '../helpers/audit.js';

const ORIGIN = 'onbehalf/test-host/0001';
const logKey = generateSigningKey();
const witnessKey = generateSigningKey();
const leaves = Array.from({ length: 20 }, (_, i) => sha256(`row ${i}`));
const note = (size: number, key = logKey, origin = ORIGIN) =>
  signCheckpoint({ origin, size, root: merkleTreeHash(leaves, size) }, key);
const body = (
  old: number,
  size: number,
  proof = old === 0 ? [] : consistencyProof(leaves.slice(0, size), old),
) => `old ${old}\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${note(size)}`;

let dir: string;
let witness: RunningWitness;
const post = async (text: string, path = '/add-checkpoint') => {
  const res = await fetch(`${witness.url}${path}`, { method: 'POST', body: text });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
};

beforeAll(async () => {
  dir = tempDir('onbehalf-witness-protocol-');
  const logKeys = trustedKeysFromJwks({ keys: [boundJwk(logKey.publicJwk, [], [ORIGIN])] });
  witness = await startWitness(
    {
      name: 'witness.test/p',
      key: witnessKey,
      logKeys,
      statePath: join(dir, 'state.db'),
      now: () => 1_700_000_000,
    },
    '127.0.0.1',
    0,
  );
});
afterAll(async () => {
  await witness.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the witness protocol', () => {
  it('cosigns a first checkpoint from old 0, then only a consistent extension of it', async () => {
    const first = await post(body(0, 5));
    expect(first.status).toBe(200);
    const identity = { name: 'witness.test/p', publicKey: witnessKey.publicKey };
    const n5 = note(5);
    expect(cosignedAt(n5.slice(0, n5.indexOf('\n\n') + 1), first.text.trim().split('\n'), identity)).toBe(
      1_700_000_000,
    );

    // A stale old size: 409 with the size held, as text/x.tlog.size.
    const stale = await post(body(0, 9));
    expect(stale).toMatchObject({ status: 409, type: 'text/x.tlog.size', text: '5\n' });
    // A proof that does not lead from the held root: 422, and the state is unchanged.
    const wrong = await post(body(5, 9, consistencyProof(leaves.slice(0, 9), 4)));
    expect(wrong.status).toBe(422);
    expect((await post(body(5, 9))).status).toBe(200);
    // The same size again: cosigned again if the root is the same, a fork (409) if not.
    expect((await post(body(9, 9))).status).toBe(200);
    const forked = signCheckpoint({ origin: ORIGIN, size: 9, root: Buffer.alloc(32, 9) }, logKey);
    const fork = await post(`old 9\n\n${forked}`);
    expect(fork.status).toBe(409);
    expect(fork.text).toMatch(/forked/);

    const policy = parsePolicy(
      `witness P ${cosignerVkey('witness.test/p', witnessKey.publicKey)}\nquorum P\n`,
    );
    const n9 = note(9);
    const again = await post(body(9, 9));
    expect(checkPolicy(policy, n9 + again.text).ok).toBe(true);
    expect(checkPolicy(policy, n9)).toMatchObject({
      ok: false,
      fault: { code: 'witness.quorum_unmet', message: 'quorum P not met: cosigned by no witness' },
    });
  });

  it('answers 404 for an unknown log, 403 for a checkpoint no trusted key signed, 400 for a malformed body', async () => {
    const other = signCheckpoint({ origin: 'onbehalf/else/1', size: 1, root: leaves[0]! }, logKey);
    expect((await post(`old 0\n\n${other}`)).status).toBe(404);
    expect((await post(`old 0\n\n${note(3, generateSigningKey())}`)).status).toBe(403);
    expect((await post('hello')).status).toBe(400);
    expect((await post(`old 01\n\n${note(3)}`)).status).toBe(400);
    expect((await post(`old 30\n\n${note(3)}`)).status).toBe(400);
    expect((await post(`old 0\nnot-a-hash\n\n${note(3)}`)).status).toBe(400);
    expect((await post(body(0, 3), '/elsewhere')).status).toBe(404);
    expect((await post('x'.repeat(70_000))).status).toBe(413);
  });
});
