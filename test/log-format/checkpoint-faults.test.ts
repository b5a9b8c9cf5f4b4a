// A checkpoint verification reports what is wrong as a coded fault, beside the sentence it always gave.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, trustedKeysFromJwks } from '../../src/keys/keys.js';
import {
  CheckpointError,
  parseCheckpoint,
  signCheckpoint,
  verifyCheckpoint,
} from '../../src/log-format/checkpoint.js';

const ORIGIN = 'onbehalf/host-1/3f9a';
const cp = { origin: ORIGIN, size: 12, root: createHash('sha256').update('tree').digest() };
const key = generateSigningKey();
const trusted = trustedKeysFromJwks({ keys: [key.publicJwk] });

describe('checkpoint verification faults', () => {
  it('a malformed note: code checkpoint.malformed, the message without the checkpoint: prefix', () => {
    const v = verifyCheckpoint('no blank line\n', trusted);
    expect(v.ok).toBe(false);
    expect(v.fault).toEqual({
      code: 'checkpoint.malformed',
      message: 'no blank line between the body and the signatures',
    });
  });

  it('an edited note: code checkpoint.signature_invalid, with its origin', () => {
    const v = verifyCheckpoint(signCheckpoint(cp, key).replace('\n12\n', '\n13\n'), trusted);
    expect(v.fault).toMatchObject({ code: 'checkpoint.signature_invalid', origin: ORIGIN });
    expect(v.fault?.message).toMatch(/does not verify \(checkpoint edited\)$/);
  });

  it('a note no trusted key signed: code checkpoint.untrusted', () => {
    const v = verifyCheckpoint(signCheckpoint(cp, generateSigningKey()), trusted);
    expect(v.untrusted).toBe(true);
    expect(v.fault).toMatchObject({ code: 'checkpoint.untrusted', origin: ORIGIN });
    expect(v.fault?.message).toMatch(/^not signed by a trusted key for /);
  });

  it('a sound note has no fault', () => {
    const v = verifyCheckpoint(signCheckpoint(cp, key), trusted);
    expect(v.ok).toBe(true);
    expect(v.fault).toBeUndefined();
  });

  it('CheckpointError keeps the detail apart from its prefixed message', () => {
    let thrown: unknown;
    try {
      parseCheckpoint('');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CheckpointError);
    expect((thrown as CheckpointError).detail).toBe('note is empty');
    expect((thrown as CheckpointError).message).toBe('checkpoint: note is empty');
  });
});
