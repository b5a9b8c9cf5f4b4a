// Receipts: `onbehalf prove` writes a C2SP tlog-proof of one row of a real store (the demo, made by the
// real pipeline), and `onbehalf verify-receipt` checks it in a directory holding nothing else. Every
// single-bit flip and every single-field change of the receipt fails, in the style of Go's sumdb/note
// tests. The built CLI, as child processes.
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundJwk } from '../../src/keys/key-binding.js';
import { generateSigningKey, type TrustedKey, trustedKeysFromJwks } from '../../src/keys/keys.js';
import { canonicalEventBytes, type EventRow } from '../../src/log-format/canonical.js';
import { signCheckpoint } from '../../src/log-format/checkpoint.js';
import { formatReceipt, parseReceipt, verifyReceipt } from '../../src/receipts/receipt.js';
import { cli, ensureBuilt, restoreTriggers } from '../adversarial/support.js';
import { tempDir } from '../helpers/audit.js';

let dir: string;
let store: string;
let jwks: string;
let keys: TrustedKey[];
let origin: string;
let receiptText: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = tempDir('onbehalf-receipts-');
  store = join(dir, 'demo.db');
  const demo = await cli('demo', '--store', store);
  expect(demo.code, demo.stderr).toBe(0);
  jwks = join(`${store}.keys`, 'jwks.json');
  keys = trustedKeysFromJwks(JSON.parse(readFileSync(jwks, 'utf8')));
  const db = new Database(store, { readonly: true });
  origin = (db.prepare('SELECT origin FROM audit_events LIMIT 1').get() as { origin: string }).origin;
  db.close();
  const proved = await cli('prove', store, '--origin', origin, '--seq', '5');
  expect(proved.code, proved.stderr).toBe(0);
  receiptText = proved.stdout;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('onbehalf prove and verify-receipt', () => {
  it('writes a receipt by event id that verifies in a directory holding nothing else', async () => {
    const db = new Database(store, { readonly: true });
    const { event_id, seq } = db
      .prepare("SELECT event_id, seq FROM audit_events WHERE action = 'send_mail' LIMIT 1")
      .get() as { event_id: string; seq: number };
    db.close();
    const alone = join(dir, 'alone');
    mkdirSync(alone);
    const file = join(alone, 'row.tlog-proof');
    const proved = await cli('prove', store, '--event', event_id, '--out', file);
    expect(proved.code, proved.stderr).toBe(0);
    // Only the receipt and the pinned public key travel to the auditor.
    copyFileSync(jwks, join(alone, 'jwks.json'));
    // The store and its key directory are moved away while the receipt is checked.
    const away = tempDir('onbehalf-away-');
    renameSync(dir, join(away, 'gone'));
    let v: Awaited<ReturnType<typeof cli>>;
    try {
      const moved = join(away, 'gone', 'alone');
      v = await cli(
        'verify-receipt',
        join(moved, 'row.tlog-proof'),
        '--trusted-keys',
        join(moved, 'jwks.json'),
      );
    } finally {
      renameSync(join(away, 'gone'), dir);
      rmSync(away, { recursive: true, force: true });
    }
    expect(v.stdout).toMatch(new RegExp(`^VERIFIED  event ${event_id} is seq ${seq} of log `));
    expect(v.stdout).toMatch(/send_mail/);
    expect(v.code).toBe(0);
    const json = await cli('verify-receipt', file, '--trusted-keys', jwks, '--format', 'json');
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, origin, row: { event_id, seq } });
  });

  it('fails on every single-bit flip of the receipt', () => {
    const bytes = Buffer.from(receiptText, 'utf8');
    expect(verifyReceipt(bytes, keys).ok).toBe(true);
    const survivors: string[] = [];
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(bytes);
        flipped[i]! ^= 1 << bit;
        if (verifyReceipt(flipped, keys).ok) survivors.push(`byte ${i} bit ${bit}`);
      }
    }
    expect(survivors).toEqual([]);
  });

  it('fails on every single-field change of the receipt', () => {
    const good = parseReceipt(receiptText);
    const row = JSON.parse(good.canonical.toString('utf8')) as Record<string, unknown>;
    const changes: [string, string][] = [];
    // Each column of the row, changed and re-encoded canonically: a well-formed receipt of another row.
    for (const [column, value] of Object.entries(row)) {
      const other =
        typeof value === 'number'
          ? value + 1
          : value === null
            ? 'x'
            : column === 'origin'
              ? value
              : `${value}x`;
      if (column === 'origin') continue;
      const canonical = canonicalEventBytes({ ...row, [column]: other } as EventRow);
      changes.push([`row.${column}`, formatReceipt({ ...good, canonical })]);
    }
    changes.push(['index + 1', formatReceipt({ ...good, index: good.index + 1 })]);
    changes.push(['index - 1', formatReceipt({ ...good, index: good.index - 1 })]);
    for (let i = 0; i < good.proof.length; i++) {
      const proof = [...good.proof];
      proof[i] = Buffer.alloc(32, 7);
      changes.push([`proof[${i}] replaced`, formatReceipt({ ...good, proof })]);
      changes.push([
        `proof[${i}] removed`,
        formatReceipt({ ...good, proof: good.proof.filter((_, j) => j !== i) }),
      ]);
    }
    changes.push(['proof extended', formatReceipt({ ...good, proof: [...good.proof, Buffer.alloc(32)] })]);
    changes.push(['proof reversed', formatReceipt({ ...good, proof: [...good.proof].reverse() })]);
    const [body, sigs] = good.checkpoint.split('\n\n') as [string, string];
    const [cpOrigin, size, root] = body.split('\n') as [string, string, string];
    const note = (o: string, s: string, r: string, sig = sigs) => `${o}\n${s}\n${r}\n\n${sig}`;
    changes.push([
      'checkpoint size',
      formatReceipt({ ...good, checkpoint: note(cpOrigin, `${Number(size) + 1}`, root) }),
    ]);
    changes.push([
      'checkpoint root',
      formatReceipt({ ...good, checkpoint: note(cpOrigin, size, Buffer.alloc(32).toString('base64')) }),
    ]);
    changes.push([
      'checkpoint origin',
      formatReceipt({ ...good, checkpoint: note(`${cpOrigin}x`, size, root) }),
    ]);
    changes.push([
      'signature key name',
      formatReceipt({
        ...good,
        checkpoint: note(cpOrigin, size, root, sigs.replace(cpOrigin, `${cpOrigin}x`)),
      }),
    ]);
    changes.push([
      'checkpoint extension line',
      formatReceipt({ ...good, checkpoint: `${body}\nextra\n\n${sigs}` }),
    ]);
    // The row moved to another log, whose key signs a checkpoint of it: the real log's key is what is trusted.
    const forger = generateSigningKey();
    const forged = signCheckpoint(
      { origin: cpOrigin, size: Number(size), root: Buffer.from(root, 'base64') },
      forger,
    );
    changes.push(['checkpoint re-signed by another key', formatReceipt({ ...good, checkpoint: forged })]);
    // The same bytes in another base64 form (a trailing bit set, which decoders ignore).
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sloppy = (b64: string) => {
      const end = b64.replace(/=+$/, '');
      const last = alphabet.indexOf(end.at(-1)!);
      return `${end.slice(0, -1)}${alphabet[last ^ 1]}${b64.slice(end.length)}`;
    };
    const lines = receiptText.split('\n');
    const sigLine = lines.length - 2;
    for (const [name, at] of [
      ['extra in another base64 form', 1],
      ['proof line in another base64 form', 3],
      ['signature in another base64 form', sigLine],
    ] as const) {
      const words = lines[at]!.split(' ');
      words[words.length - 1] = sloppy(words.at(-1)!);
      const text = lines.map((l, i) => (i === at ? words.join(' ') : l)).join('\n');
      expect(Buffer.from(words.at(-1)!, 'base64')).toEqual(
        Buffer.from(lines[at]!.split(' ').at(-1)!, 'base64'),
      );
      changes.push([name, text]);
    }
    const failing = changes.filter(([, text]) => !verifyReceipt(text, keys).ok).map(([name]) => name);
    expect(failing).toEqual(changes.map(([name]) => name));
    expect(changes.length).toBeGreaterThan(40);
    // Each failure is a receipt fault; the classes a person would tell apart have their own codes.
    const codeOf = (name: string) => verifyReceipt(changes.find(([n]) => n === name)![1], keys).fault?.code;
    for (const [name] of changes) expect(codeOf(name), name).toMatch(/^receipt\./);
    expect(codeOf('index + 1')).toBe('receipt.proof_invalid');
    expect(codeOf('proof[0] replaced')).toBe('receipt.proof_invalid');
    expect(codeOf('checkpoint origin')).toBe('receipt.origin_mismatch');
    expect(codeOf('checkpoint extension line')).toBe('receipt.extensions');
    expect(codeOf('checkpoint re-signed by another key')).toBe('receipt.checkpoint_invalid');
    expect(codeOf('signature in another base64 form')).toBe('receipt.contents_invalid');
  });

  it('exits 1 on a changed receipt, 2 on a file that is not one, and refuses a key bound to other logs', async () => {
    const changed = join(dir, 'changed.tlog-proof');
    writeFileSync(changed, receiptText.replace(/^index 4$/m, 'index 3'));
    const bad = await cli('verify-receipt', changed, '--trusted-keys', jwks);
    expect(bad.stdout).toMatch(/^FAILED {2}.*inclusion proof does not lead/);
    expect(bad.code).toBe(1);
    const notReceipt = join(dir, 'not.txt');
    writeFileSync(notReceipt, 'hello\n');
    expect((await cli('verify-receipt', notReceipt, '--trusted-keys', jwks)).code).toBe(2);
    expect((await cli('verify-receipt', join(dir, 'missing'), '--trusted-keys', jwks)).code).toBe(2);
    const noKeys = await cli('verify-receipt', changed);
    expect(noKeys.stderr).toMatch(/--trusted-keys JWKS is required/);
    expect(noKeys.code).toBe(2);

    const good = join(dir, 'good.tlog-proof');
    writeFileSync(good, receiptText);
    const elsewhere = join(dir, 'elsewhere.json');
    writeFileSync(elsewhere, JSON.stringify({ keys: [boundJwk(keys[0]!.jwk, [], ['onbehalf/other-log'])] }));
    const unbound = await cli('verify-receipt', good, '--trusted-keys', elsewhere);
    expect(unbound.stdout).toMatch(/not signed by a trusted key/);
    expect(unbound.code).toBe(1);
  });

  it('refuses to prove a row of a store that no longer matches its checkpoint (exit 1) or a row no checkpoint covers (exit 2)', async () => {
    const copy = join(dir, 'tampered.db');
    copyFileSync(store, copy);
    const db = new Database(copy);
    db.exec('DROP TRIGGER audit_events_no_update');
    db.prepare("UPDATE audit_events SET target = 'nothing to see' WHERE seq = 2").run();
    restoreTriggers(db);
    db.close();
    const tampered = await cli('prove', copy, '--origin', origin, '--seq', '7');
    expect(tampered.stderr).toMatch(/do not hash to the root/);
    expect(tampered.code).toBe(1);
    const beyond = await cli('prove', store, '--origin', origin, '--seq', '999');
    expect(beyond.stderr).toMatch(/no signed checkpoint covers it/);
    expect(beyond.code).toBe(2);
    const none = await cli('prove', store, '--event', "nope' OR '1'='1");
    expect(none.stderr).toMatch(/no event/);
    expect(none.code).toBe(2);
    expect((await cli('prove', store, '--event', 'x', '--seq', '1')).code).toBe(2);
  });
});
