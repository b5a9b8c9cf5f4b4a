import { createHash, verify } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, type TrustedKey, trustedKeysFromJwks } from '../../src/keys/keys.js';
import {
  CheckpointError,
  checkpointKeyId,
  formatCheckpoint,
  parseCheckpoint,
  signCheckpoint,
  verifyCheckpoint,
} from '../../src/log-format/checkpoint.js';

const ORIGIN = 'onbehalf/host-1/3f9a';
const ROOT = createHash('sha256').update('some tree').digest();
const cp = { origin: ORIGIN, size: 8821, root: ROOT };
const key = generateSigningKey();
const trusted = trustedKeysFromJwks({ keys: [key.publicJwk] });
const other = generateSigningKey();

describe('formatCheckpoint', () => {
  it('writes origin, size and base64 root, one per line', () => {
    expect(formatCheckpoint(cp)).toBe(`${ORIGIN}\n8821\n${ROOT.toString('base64')}\n`);
    expect(formatCheckpoint({ origin: 'o', size: 0, root: ROOT })).toBe(`o\n0\n${ROOT.toString('base64')}\n`);
  });

  it('refuses what a note cannot carry', () => {
    expect(() => formatCheckpoint({ ...cp, origin: 'a\nb' })).toThrow(/origin/);
    expect(() => formatCheckpoint({ ...cp, origin: '' })).toThrow(/origin is empty/);
    expect(() => formatCheckpoint({ ...cp, size: -1 })).toThrow(/size/);
    expect(() => formatCheckpoint({ ...cp, size: 1.5 })).toThrow(/size/);
    expect(() => formatCheckpoint({ ...cp, root: ROOT.subarray(0, 31) })).toThrow(/32 bytes/);
  });
});

describe('signCheckpoint', () => {
  it('writes a C2SP signed note: body, blank line, "— name base64(key id ‖ Ed25519 signature)"', () => {
    const note = signCheckpoint(cp, key);
    const body = formatCheckpoint(cp);
    expect(note.startsWith(`${body}\n— ${ORIGIN} `)).toBe(true);
    expect(note.endsWith('\n')).toBe(true);
    const blob = Buffer.from(
      note
        .slice(body.length + 1)
        .trim()
        .split(' ')[2]!,
      'base64',
    );
    expect(blob.length).toBe(68);
    const raw = Buffer.from(key.publicJwk.x!, 'base64url');
    const id = createHash('sha256')
      .update(Buffer.concat([Buffer.from(`${ORIGIN}\n`), Buffer.from([1]), raw]))
      .digest()
      .subarray(0, 4);
    expect(blob.subarray(0, 4).equals(id)).toBe(true);
    expect(verify(null, Buffer.from(body), key.publicKey, blob.subarray(4))).toBe(true);
  });

  it('computes key ids as the Go sumdb/note reference does', () => {
    // Verifier key and signed message from the golang.org/x/mod/sumdb/note documentation.
    const vkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    const raw = Buffer.from(vkey.split('+')[2]!, 'base64').subarray(1);
    const [peter] = trustedKeysFromJwks({
      keys: [{ kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }],
    }) as [TrustedKey];
    expect(checkpointKeyId('PeterNeumann', peter).toString('hex')).toBe('c74f20a3');
    const text =
      "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const sig = Buffer.from(
      'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=',
      'base64',
    );
    expect(sig.subarray(0, 4).toString('hex')).toBe('c74f20a3');
    expect(verify(null, Buffer.from(text), peter.publicKey, sig.subarray(4))).toBe(true);
  });

  it('refuses a key name with spaces or a plus sign', () => {
    expect(() => signCheckpoint(cp, key, 'my key')).toThrow(CheckpointError);
    expect(() => signCheckpoint(cp, key, 'a+b')).toThrow(/key name/);
  });
});

describe('parseCheckpoint', () => {
  it('round-trips any checkpoint', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9./_-]{1,40}$/),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (origin, size, root) => {
          const parsed = parseCheckpoint(signCheckpoint({ origin, size, root }, key));
          expect(parsed.origin).toBe(origin);
          expect(parsed.size).toBe(size);
          expect(parsed.root.equals(Buffer.from(root))).toBe(true);
          expect(parsed.extensions).toEqual([]);
          expect(parsed.signatures.map((s) => s.keyName)).toEqual([origin]);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('names what is malformed', () => {
    const note = signCheckpoint(cp, key);
    const [body, sigs] = note.split('\n\n') as [string, string];
    const cases: [string, RegExp][] = [
      ['', /empty/],
      [note.slice(0, -1), /does not end with a newline/],
      [`${body}\n${sigs}`, /no blank line/],
      [`${body}\n\n`, /no signature lines/],
      [note.replace('\n8821\n', '\n08821\n'), /size line "08821"/],
      [note.replace('\n8821\n', '\nlots\n'), /size line "lots"/],
      [note.replace(ROOT.toString('base64'), 'AAAA'), /root line "AAAA"/],
      [`${ORIGIN}\n8821\n\n${sigs}`, /origin, a size and a root/],
      [note.replace('— ', '- '), /does not start with '— '/],
      [note.replace(`— ${ORIGIN} `, `— ${ORIGIN}`), /not '— <name> <base64>'/],
      [note.replace(/ [A-Za-z0-9+/=]+\n$/, ' AAAA\n'), /not valid base64 of a key id/],
      [note.replace('\n8821', '\r\n8821'), /control characters/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseCheckpoint(text), JSON.stringify(text)).toThrow(CheckpointError);
      expect(() => parseCheckpoint(text)).toThrow(message);
    }
  });

  it('keeps extension lines and every signature', () => {
    const note = signCheckpoint(cp, key);
    const body = formatCheckpoint(cp);
    const cosigned = `${note}${signCheckpoint(cp, other, 'witness.example/w1').slice(body.length + 1)}`;
    const parsed = parseCheckpoint(cosigned);
    expect(parsed.signatures.map((s) => s.keyName)).toEqual([ORIGIN, 'witness.example/w1']);
    const withExtension = parseCheckpoint(
      note.replace(`${ROOT.toString('base64')}\n`, `${ROOT.toString('base64')}\nx-ext 1\n`),
    );
    expect(withExtension.extensions).toEqual(['x-ext 1']);
  });
});

describe('verifyCheckpoint', () => {
  it('accepts a note signed by a trusted key under the origin', () => {
    const v = verifyCheckpoint(signCheckpoint(cp, key), trusted);
    expect(v).toMatchObject({ ok: true, signedBy: key.kid, checkpoint: { origin: ORIGIN, size: 8821 } });
    expect(v.fault).toBeUndefined();
  });

  it('rejects an edited note', () => {
    const note = signCheckpoint(cp, key);
    const other = createHash('sha256').update('another tree').digest('base64');
    for (const edited of [
      note.replace('\n8821\n', '\n8822\n'),
      note.replace(ROOT.toString('base64'), other),
    ]) {
      const v = verifyCheckpoint(edited, trusted);
      expect(v.ok).toBe(false);
      expect(v.fault?.code).toBe('checkpoint.signature_invalid');
      expect(v.fault?.message).toMatch(/does not verify \(checkpoint edited\)/);
    }
  });

  it('rejects a note no trusted key signed, and says who did', () => {
    const v = verifyCheckpoint(signCheckpoint(cp, other), trusted);
    expect(v.ok).toBe(false);
    expect(v.fault?.code).toBe('checkpoint.untrusted');
    expect(v.fault?.message).toMatch(
      /^not signed by a trusted key for onbehalf\/host-1\/3f9a: signed by onbehalf\/host-1\/3f9a \(key id [0-9a-f]{8}\)$/,
    );
    expect(v.checkpoint?.size).toBe(8821);
  });

  it('uses the key name it is told, and ignores signatures by unknown keys', () => {
    const note = signCheckpoint(cp, key, 'audit-signer');
    expect(verifyCheckpoint(note, trusted).ok).toBe(false);
    expect(verifyCheckpoint(note, trusted, 'audit-signer').ok).toBe(true);
    const body = formatCheckpoint(cp);
    const both = `${signCheckpoint(cp, other)}${signCheckpoint(cp, key).slice(body.length + 1)}`;
    expect(verifyCheckpoint(both, trusted)).toMatchObject({ ok: true, signedBy: key.kid });
  });

  it('reports a malformed note without throwing', () => {
    expect(verifyCheckpoint('nonsense', trusted)).toEqual({
      ok: false,
      fault: { code: 'checkpoint.malformed', message: 'note does not end with a newline' },
    });
  });
});

describe('parseCheckpoint at the edges, as Go sumdb/note and sumdb/tlog read notes', () => {
  const noteFor = (origin: string, name = origin) => signCheckpoint({ ...cp, origin }, key, name);
  /** The same note with the signature's base64 rewritten so its last digit carries non-zero trailing bits. */
  const nonCanonical = (note: string) =>
    note.replace(/([A-Za-z0-9+/])(=*)\n$/, (_, c: string, pad: string) => {
      const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      return `${digits[digits.indexOf(c) | 1]}${pad}\n`;
    });

  it('allows DEL, refuses other control characters and lone surrogates', () => {
    expect(verifyCheckpoint(noteFor('host\u007f1'), trusted).ok).toBe(true);
    expect(() => parseCheckpoint(noteFor('host-1').replace('host-1', 'host\u00011'))).toThrow(/control/);
    expect(() => parseCheckpoint(noteFor('host-1').replace('host-1', 'host\uD8001'))).toThrow(/control/);
  });

  it('reads tree sizes up to 2^63−1, exactly, and refuses larger ones', () => {
    const body = signCheckpoint(cp, key);
    const at = (size: string) => body.replace('\n8821\n', `\n${size}\n`);
    expect(parseCheckpoint(at('9007199254740993'))).toMatchObject({ sizeText: '9007199254740993' });
    expect(parseCheckpoint(at('9223372036854775807')).sizeText).toBe('9223372036854775807');
    expect(() => parseCheckpoint(at('9223372036854775808'))).toThrow(/size line/);
  });

  it('judges key names by Unicode white space as Go does, not by JavaScript \\s', () => {
    // U+FEFF is not white space (Go accepts it); U+0085 and U+00A0 are (Go refuses them).
    expect(verifyCheckpoint(noteFor('host-1', 'host\uFEFF1'), trusted, 'host\uFEFF1').ok).toBe(true);
    for (const space of ['\u0085', '\u00a0', '\u2028', '\u3000'])
      expect(() => signCheckpoint(cp, key, `host${space}1`), JSON.stringify(space)).toThrow(/key name/);
    const note = noteFor('host-1');
    expect(() => parseCheckpoint(note.replace('— host-1 ', '— host\u00851 '))).toThrow(/signature line/);
  });

  it('decodes padded base64 with non-zero trailing bits, as Go does, and refuses unpadded base64', () => {
    const note = noteFor('host-1');
    const odd = nonCanonical(note);
    expect(odd).not.toBe(note);
    expect(verifyCheckpoint(odd, trusted).ok).toBe(true);
    expect(() => parseCheckpoint(note.replace(/=+\n$/, '\n'))).toThrow(/signature line/);
  });
});
