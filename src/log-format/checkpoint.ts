import { sign as edSign, verify as edVerify } from 'node:crypto';
import { OnbehalfError } from '../errors/onbehalf-error.js';
import type { VerificationFault } from '../errors/verification-fault.js';
import { keySignsOrigin } from '../keys/key-binding.js';
import type { SigningKey, TrustedKey } from '../keys/keys.js';
import { sha256 } from './merkle.js';

/**
 * Checkpoints of an audit log as C2SP signed notes (https://c2sp.org/signed-note,
 * https://c2sp.org/tlog-checkpoint): the body `<origin>\n<size>\n<base64 root>\n`, a blank line, then
 * one line per signature: `— <key name> <base64(4-byte key id ‖ 64-byte Ed25519 signature)>\n`.
 */

/** What a checkpoint commits to: the log, its size, and the RFC 6962 root of its first `size` leaves. */
export interface Checkpoint {
  origin: string;
  size: number;
  /** 32-byte Merkle root. */
  root: Uint8Array;
}

/** One signature line of a note. */
export interface NoteSignature {
  keyName: string;
  /** The 4-byte key id (see {@link checkpointKeyId}). */
  keyId: Buffer;
  /** The signature bytes after the key id (64 for Ed25519). */
  signature: Buffer;
}

/** A parsed checkpoint note. Nothing about it is trusted until {@link verifyCheckpoint} says so. */
export interface ParsedCheckpoint extends Checkpoint {
  root: Buffer;
  /**
   * The size line as written. Sizes up to 2^63−1 parse, as in Go's sumdb/tlog; above 2^53−1 `size` is
   * the nearest number (no log here holds that many rows, so it still compares as "more than the log").
   */
  sizeText: string;
  /** Optional extension lines after the root line. */
  extensions: string[];
  /** The signed text (the note up to and including the root/extension lines' last newline). */
  body: string;
  signatures: NoteSignature[];
}

/** The outcome of {@link verifyCheckpoint}. */
export interface CheckpointVerification {
  ok: boolean;
  /** Why not, when `ok` is false; its message does not repeat the `checkpoint: ` prefix. */
  fault?: VerificationFault;
  /** The parsed note, unless it could not be parsed. */
  checkpoint?: ParsedCheckpoint;
  /** `kid` of the trusted key whose signature verified. */
  signedBy?: string;
  /** Set when the only fault is that no trusted key signed it (an unknown signer, not a broken signature). */
  untrusted?: boolean;
}

/** Thrown for a checkpoint that cannot be formatted or parsed; the message names what is malformed. */
export class CheckpointError extends OnbehalfError {
  override name = 'CheckpointError';
  constructor(
    /** What is malformed; the message is this after `checkpoint: `. */
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super('checkpoint.malformed', `checkpoint: ${detail}`, options);
  }
}

const EM_DASH_PREFIX = '\u2014 ';
const ED25519_TYPE = 0x01;
const MAX_SIGNATURES = 100;
// Std base64 of 32 bytes, padded: the only form tlog-checkpoint allows for a SHA-256 root.
const ROOT_B64 = /^[A-Za-z0-9+/]{43}=$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
/** The largest tree size a note may state: Go's sumdb/tlog reads sizes as int64. */
const MAX_TREE_SIZE = 2n ** 63n - 1n;
// Padded standard base64, as Go's base64.StdEncoding decodes it: trailing bits need not be zero.
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Go's unicode.IsSpace (the Unicode White_Space property), which rules key names: not JavaScript's \s,
// which adds U+FEFF and leaves out U+0085.
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether text is not allowed in a signed note: an ASCII control character other than newline (DEL is
 * allowed, as in Go's sumdb/note), or a lone surrogate (which has no UTF-8 form).
 */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return true;
  }
  return LONE_SURROGATE.test(text);
}

/** A key name as C2SP and Go's sumdb/note allow it: non-empty, no Unicode white space, no '+'. */
function isValidKeyName(name: string): boolean {
  return name !== '' && !GO_SPACE.test(name) && !name.includes('+') && !hasControl(name);
}

function checkOrigin(origin: string): void {
  if (typeof origin !== 'string' || origin === '') throw new CheckpointError('origin is empty');
  if (origin.includes('\n') || hasControl(origin)) {
    throw new CheckpointError(`origin ${JSON.stringify(origin)} contains a newline or control character`);
  }
}

function checkKeyName(name: string): void {
  if (typeof name !== 'string' || !isValidKeyName(name)) {
    throw new CheckpointError(`key name ${JSON.stringify(name)} must be non-empty, without spaces or '+'`);
  }
}

/** The checkpoint body: `<origin>\n<size>\n<base64 root>\n`. Throws {@link CheckpointError} on a bad field. */
export function formatCheckpoint(cp: Checkpoint): string {
  checkOrigin(cp.origin);
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) {
    throw new CheckpointError(`size ${cp.size} is not a non-negative integer`);
  }
  if (!(cp.root instanceof Uint8Array) || cp.root.length !== 32) {
    throw new CheckpointError('root is not 32 bytes');
  }
  return `${cp.origin}\n${cp.size}\n${Buffer.from(cp.root).toString('base64')}\n`;
}

/** The raw 32-byte Ed25519 public key of a key (the JWK's `x`). */
function rawPublicKey(key: SigningKey | TrustedKey): Buffer {
  const jwk = 'publicJwk' in key ? key.publicJwk : key.jwk;
  const raw = typeof jwk.x === 'string' ? Buffer.from(jwk.x, 'base64url') : Buffer.alloc(0);
  if (raw.length !== 32) throw new CheckpointError(`key ${key.kid}: not an Ed25519 public key`);
  return raw;
}

/** C2SP key id: the first 4 bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte Ed25519 public key). */
export function checkpointKeyId(keyName: string, key: SigningKey | TrustedKey): Buffer {
  const input = Buffer.concat([
    Buffer.from(`${keyName}\n`, 'utf8'),
    Buffer.from([ED25519_TYPE]),
    rawPublicKey(key),
  ]);
  return sha256(input).subarray(0, 4);
}

/**
 * Signs a checkpoint and returns the whole note text. The key name defaults to the origin, so an
 * auditor holding the public key knows which name to expect.
 */
export function signCheckpoint(cp: Checkpoint, key: SigningKey, keyName: string = cp.origin): string {
  const body = formatCheckpoint(cp);
  checkKeyName(keyName);
  const signature = edSign(null, Buffer.from(body, 'utf8'), key.privateKey);
  const blob = Buffer.concat([checkpointKeyId(keyName, key), signature]).toString('base64');
  return `${body}\n${EM_DASH_PREFIX}${keyName} ${blob}\n`;
}

/** Parses a checkpoint note; throws {@link CheckpointError} naming what is malformed. Does not verify. */
export function parseCheckpoint(noteText: string): ParsedCheckpoint {
  if (typeof noteText !== 'string' || noteText === '') throw new CheckpointError('note is empty');
  if (hasControl(noteText)) throw new CheckpointError('note contains control characters');
  if (!noteText.endsWith('\n')) throw new CheckpointError('note does not end with a newline');
  // The signed body has no blank line, so the last blank line starts the signature block.
  const split = noteText.lastIndexOf('\n\n');
  if (split < 0) throw new CheckpointError('no blank line between the body and the signatures');
  const body = noteText.slice(0, split + 1);
  const sigBlock = noteText.slice(split + 2);

  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) {
    throw new CheckpointError('body needs an origin, a size and a root line');
  }
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') throw new CheckpointError('origin line is empty');
  if (!DECIMAL.test(sizeLine) || BigInt(sizeLine) > MAX_TREE_SIZE) {
    throw new CheckpointError(`size line ${JSON.stringify(sizeLine)} is not a decimal size`);
  }
  if (!ROOT_B64.test(rootLine)) {
    throw new CheckpointError(`root line ${JSON.stringify(rootLine)} is not a base64 32-byte hash`);
  }
  if (extensions.some((e) => e === '')) throw new CheckpointError('empty extension line');

  if (sigBlock === '') throw new CheckpointError('no signature lines');
  const signatures: NoteSignature[] = [];
  for (const line of sigBlock.slice(0, -1).split('\n')) {
    if (!line.startsWith(EM_DASH_PREFIX)) {
      throw new CheckpointError(`signature line ${JSON.stringify(line)} does not start with '— '`);
    }
    const rest = line.slice(EM_DASH_PREFIX.length);
    const space = rest.indexOf(' ');
    const keyName = space < 0 ? '' : rest.slice(0, space);
    const b64 = space < 0 ? '' : rest.slice(space + 1);
    if (!isValidKeyName(keyName) || b64 === '' || !STD_BASE64.test(b64)) {
      throw new CheckpointError(`signature line ${JSON.stringify(line)} is not '— <name> <base64>'`);
    }
    const blob = Buffer.from(b64, 'base64');
    if (blob.length < 5) {
      throw new CheckpointError(`signature of key ${keyName} is not valid base64 of a key id and signature`);
    }
    signatures.push({ keyName, keyId: blob.subarray(0, 4), signature: blob.subarray(4) });
  }
  if (signatures.length > MAX_SIGNATURES) throw new CheckpointError('too many signatures');
  return {
    origin,
    size: Number(sizeLine),
    sizeText: sizeLine,
    root: Buffer.from(rootLine, 'base64'),
    extensions,
    body,
    signatures,
  };
}

/**
 * Verifies a checkpoint note against trusted keys under `keyName` (the checkpoint's origin by default).
 * It is valid when at least one trusted key signed it and no signature by a trusted key fails;
 * signatures by other keys are ignored, as C2SP requires.
 */
export function verifyCheckpoint(
  noteText: string,
  trustedKeys: readonly TrustedKey[],
  keyName?: string,
): CheckpointVerification {
  let checkpoint: ParsedCheckpoint;
  try {
    checkpoint = parseCheckpoint(noteText);
  } catch (err) {
    const message = err instanceof CheckpointError ? err.detail : (err as Error).message;
    return { ok: false, fault: { code: 'checkpoint.malformed', message } };
  }
  const name = keyName ?? checkpoint.origin;
  const known: { id: Buffer; key: TrustedKey }[] = [];
  for (const key of trustedKeys) {
    // A key bound to other origins does not vouch for this one's checkpoints.
    if (!keySignsOrigin(key, checkpoint.origin)) continue;
    try {
      known.push({ id: checkpointKeyId(name, key), key });
    } catch {
      // A trusted key that is not Ed25519 cannot have signed a checkpoint; skip it.
    }
  }
  const body = Buffer.from(checkpoint.body, 'utf8');
  let signedBy: string | undefined;
  for (const sig of checkpoint.signatures) {
    if (sig.keyName !== name) continue;
    for (const { id, key } of known) {
      if (!id.equals(sig.keyId)) continue;
      const valid = sig.signature.length === 64 && edVerify(null, body, key.publicKey, sig.signature);
      if (!valid) {
        const fault: VerificationFault = {
          code: 'checkpoint.signature_invalid',
          origin: checkpoint.origin,
          message: `signature by trusted key ${key.kid} (${name}) does not verify (checkpoint edited)`,
        };
        return { ok: false, fault, checkpoint };
      }
      signedBy ??= key.kid;
    }
  }
  if (signedBy === undefined) {
    const by = checkpoint.signatures
      .map((s) => `${s.keyName} (key id ${s.keyId.toString('hex')})`)
      .join(', ');
    const fault: VerificationFault = {
      code: 'checkpoint.untrusted',
      origin: checkpoint.origin,
      message: `not signed by a trusted key for ${name}: signed by ${by}`,
    };
    return { ok: false, fault, checkpoint, untrusted: true };
  }
  return { ok: true, checkpoint, signedBy };
}
