import { createPublicKey, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import type { SigningKey } from '../keys/keys.js';
import { sha256 } from '../log-format/merkle.js';

/**
 * C2SP tlog-cosignature `cosignature/v1` (Ed25519): a witness's statement that, at `timestamp`, the
 * checkpoint is the largest consistent one it has seen of the log. The signature line is
 * `— <name> base64(key id ‖ u64 big-endian timestamp ‖ 64-byte signature)` over
 * `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint body; the key id is
 * SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4].
 */

const COSIGNATURE_TYPE = 0x04;
const EM_DASH = '\u2014 ';

/** A witness's public identity: its name and Ed25519 key. */
export interface WitnessIdentity {
  name: string;
  publicKey: KeyObject;
}

function rawKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  const raw = typeof jwk.x === 'string' ? Buffer.from(jwk.x, 'base64url') : Buffer.alloc(0);
  if (jwk.crv !== 'Ed25519' || raw.length !== 32) throw new RangeError('a witness key is an Ed25519 key');
  return raw;
}

/** The 4-byte key id of a cosigner. */
export function cosignerKeyId(name: string, publicKey: KeyObject): Buffer {
  return sha256(
    Buffer.concat([Buffer.from(`${name}\n`, 'utf8'), Buffer.from([COSIGNATURE_TYPE]), rawKey(publicKey)]),
  ).subarray(0, 4);
}

/** The signed-note verifier key (vkey) of a cosigner: `name+hex key id+base64(0x04 ‖ public key)`. */
export function cosignerVkey(name: string, publicKey: KeyObject): string {
  const blob = Buffer.concat([Buffer.from([COSIGNATURE_TYPE]), rawKey(publicKey)]).toString('base64');
  return `${name}+${cosignerKeyId(name, publicKey).toString('hex')}+${blob}`;
}

/** Parses a cosigner vkey; throws RangeError naming what is wrong. */
export function parseCosignerVkey(vkey: string): WitnessIdentity {
  const parts = vkey.split('+');
  // The base64 part may itself contain '+': the name and key id are the first two fields.
  const [name, hex, ...rest] = parts;
  const blob = Buffer.from(rest.join('+'), 'base64');
  if (!name || !hex || !/^[0-9a-f]{8}$/.test(hex) || blob.length !== 33 || blob[0] !== COSIGNATURE_TYPE)
    throw new RangeError(
      `vkey ${JSON.stringify(vkey)} is not an Ed25519 cosignature/v1 key (name+keyid+base64(0x04 ‖ key))`,
    );
  const publicKey = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: blob.subarray(1).toString('base64url') },
    format: 'jwk',
  });
  if (!cosignerKeyId(name, publicKey).equals(Buffer.from(hex, 'hex')))
    throw new RangeError(`vkey ${JSON.stringify(vkey)}: its key id does not match its name and key`);
  return { name, publicKey };
}

function message(body: string, timestamp: number): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${timestamp}\n${body}`, 'utf8');
}

/** A cosignature line (with its newline) on a checkpoint body. */
export function cosign(body: string, name: string, key: SigningKey, timestamp: number): string {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(timestamp));
  const signature = edSign(null, message(body, timestamp), key.privateKey);
  const blob = Buffer.concat([cosignerKeyId(name, key.publicKey), ts, signature]).toString('base64');
  return `${EM_DASH}${name} ${blob}\n`;
}

/**
 * The timestamp of the witness's valid cosignature among a note's signature lines, or undefined when
 * none of them is one. Lines by other keys are ignored; a line with this witness's name and key id
 * that does not verify counts as none.
 */
export function cosignedAt(
  body: string,
  signatureLines: readonly string[],
  witness: WitnessIdentity,
): number | undefined {
  const id = cosignerKeyId(witness.name, witness.publicKey);
  for (const line of signatureLines) {
    if (!line.startsWith(`${EM_DASH}${witness.name} `)) continue;
    const blob = Buffer.from(line.slice(EM_DASH.length + witness.name.length + 1), 'base64');
    if (blob.length !== 4 + 8 + 64 || !blob.subarray(0, 4).equals(id)) continue;
    const timestamp = blob.readBigUInt64BE(4);
    if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) continue;
    if (edVerify(null, message(body, Number(timestamp)), witness.publicKey, blob.subarray(12)))
      return Number(timestamp);
  }
  return undefined;
}
