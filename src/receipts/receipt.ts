import { fault, type VerificationFault, type VerificationFaultCode } from '../errors/verification-fault.js';
import type { TrustedKey } from '../keys/keys.js';
import { CANONICAL_KEYS, canonicalEventBytes, type EventRow } from '../log-format/canonical.js';
import { leafHash } from '../log-format/chain.js';
import { type ParsedCheckpoint, parseCheckpoint, verifyCheckpoint } from '../log-format/checkpoint.js';
import { verifyInclusion } from '../log-format/merkle-proofs.js';

/**
 * Receipts (docs/receipts.md): a C2SP tlog-proof (https://c2sp.org/tlog-proof) that one audit row is
 * in a signed log, carrying the row itself so it verifies with nothing but the log's public key.
 *
 * ```
 * c2sp.org/tlog-proof@v1
 * extra <base64 of the row's canonical bytes E>
 * index <seq − 1>
 * <base64 inclusion proof hash>…
 *
 * <the signed checkpoint note, verbatim>
 * ```
 */

/** The first line of every receipt. */
export const RECEIPT_HEADER = 'c2sp.org/tlog-proof@v1';
/** The file extension tlog-proof recommends. */
export const RECEIPT_EXTENSION = '.tlog-proof';
/** RFC 9162 proofs of trees below 2^63 leaves have at most 63 hashes. */
const MAX_PROOF_HASHES = 63;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** What a receipt states: the row's canonical bytes, its leaf index, the audit path and the checkpoint. */
export interface Receipt {
  /** The row's canonical bytes E (docs/log-format.md): every hashed column, and its origin. */
  canonical: Buffer;
  /** 0-based leaf index: the row's seq − 1. */
  index: number;
  /** RFC 6962 audit path, from the leaf's sibling up to the root's child. */
  proof: Buffer[];
  /** The checkpoint note, with its signature lines (and any witness cosignatures). */
  checkpoint: string;
}

/** Thrown for a receipt that is not well formed; the message names what is wrong. */
export class ReceiptError extends Error {
  override name = 'ReceiptError';
  constructor(
    message: string,
    /** True when the text is not a receipt at all (no tlog-proof header): unusable input, not a forgery. */
    readonly notAReceipt = false,
  ) {
    super(message);
  }
}

/** Writes a receipt. */
export function formatReceipt(r: Receipt): string {
  if (!Number.isSafeInteger(r.index) || r.index < 0) throw new ReceiptError(`receipt: bad index ${r.index}`);
  const proof = r.proof.map((h) => `${Buffer.from(h).toString('base64')}\n`).join('');
  return `${RECEIPT_HEADER}\nextra ${r.canonical.toString('base64')}\nindex ${r.index}\n${proof}\n${r.checkpoint}`;
}

/**
 * Base64 as the only form that encodes its bytes: padded, and trailing bits zero. Go's decoder (and
 * Node's) accept other forms of the same bytes, so a changed character could leave a receipt valid;
 * a receipt is refused instead, so that no change to it goes unnoticed.
 */
function strictBase64(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (text === '' || bytes.toString('base64') !== text)
    throw new ReceiptError(`receipt: ${what} is not canonical base64`);
  return bytes;
}

/** Parses a receipt; throws {@link ReceiptError}. Checks form only, nothing cryptographic. */
export function parseReceipt(text: string): Receipt {
  if (typeof text !== 'string' || !text.startsWith(`${RECEIPT_HEADER}\n`))
    throw new ReceiptError(`not a receipt: it does not start with ${RECEIPT_HEADER}`, true);
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw new ReceiptError('receipt: no blank line before the checkpoint');
  const lines = text.slice(0, blank).split('\n').slice(1);
  const extra = lines.shift() ?? '';
  if (!extra.startsWith('extra '))
    throw new ReceiptError("receipt: second line must be 'extra <base64 row>' (the row's canonical bytes)");
  const canonical = strictBase64(extra.slice('extra '.length), 'the extra line (the row)');
  const indexLine = lines.shift() ?? '';
  const indexText = indexLine.startsWith('index ') ? indexLine.slice('index '.length) : '';
  if (!DECIMAL.test(indexText) || !Number.isSafeInteger(Number(indexText)))
    throw new ReceiptError(`receipt: ${JSON.stringify(indexLine)} is not 'index <decimal>'`);
  if (lines.length > MAX_PROOF_HASHES)
    throw new ReceiptError(`receipt: ${lines.length} proof lines, more than ${MAX_PROOF_HASHES}`);
  const proof = lines.map((line, i) => {
    const hash = strictBase64(line, `proof line ${i + 1}`);
    if (hash.length !== 32) throw new ReceiptError(`receipt: proof line ${i + 1} is not a 32-byte hash`);
    return hash;
  });
  return { canonical, index: Number(indexText), proof, checkpoint: text.slice(blank + 2) };
}

/** The outcome of {@link verifyReceipt}. */
export interface ReceiptVerification {
  ok: boolean;
  /** Why not, when `ok` is false. */
  fault?: VerificationFault;
  /** Set when the file is not a receipt at all (unusable input rather than a failed proof). */
  notAReceipt?: boolean;
  /** The row the receipt proves (its hashed columns, with `seq`), once its bytes parsed. */
  row?: EventRow & { seq: number };
  /** The checkpoint, once parsed. */
  checkpoint?: ParsedCheckpoint;
  /** `kid` of the trusted key that signed the checkpoint. */
  signedBy?: string;
}

/** The row in canonical bytes E, refused unless E is exactly its canonical form. */
function rowOf(canonical: Buffer): EventRow {
  let row: unknown;
  try {
    row = JSON.parse(canonical.toString('utf8'));
  } catch {
    throw new ReceiptError('receipt: the row is not JSON');
  }
  if (typeof row !== 'object' || row === null || Array.isArray(row))
    throw new ReceiptError('receipt: the row is not a JSON object');
  const keys = Object.keys(row);
  if (keys.length !== CANONICAL_KEYS.length || keys.some((k, i) => k !== CANONICAL_KEYS[i]))
    throw new ReceiptError("receipt: the row's columns are not the log format's hashed columns");
  let again: Buffer;
  try {
    again = canonicalEventBytes(row as EventRow);
  } catch (err) {
    throw new ReceiptError(`receipt: the row is not a log row (${(err as Error).message})`);
  }
  // One row, one byte string: bytes that parse to the same row in another form are not its bytes.
  if (!again.equals(canonical)) throw new ReceiptError('receipt: the row is not in canonical form');
  return row as EventRow;
}

/** Every signature line's base64 must be canonical too (see {@link strictBase64}). */
function checkSignatureEncoding(note: string): void {
  const block = note.slice(note.lastIndexOf('\n\n') + 2);
  for (const line of block.split('\n').slice(0, -1)) {
    const b64 = line.slice(line.lastIndexOf(' ') + 1);
    strictBase64(b64, `checkpoint signature line ${JSON.stringify(line)}`);
  }
}

/**
 * Verifies a receipt with no store: the row's bytes are a canonical log row of the checkpoint's
 * origin, its leaf hash SHA-256(0x00 ‖ E) is leaf `index` of the tree the checkpoint signs (by the
 * inclusion proof), and a trusted key bound to that origin signed the checkpoint.
 */
export function verifyReceipt(
  input: string | Uint8Array,
  trustedKeys: readonly TrustedKey[],
): ReceiptVerification {
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    return { ok: false, fault: fault('receipt.malformed', 'receipt: not valid UTF-8'), notAReceipt: true };
  }
  let receipt: Receipt;
  let row: EventRow;
  let checkpoint: ParsedCheckpoint;
  try {
    receipt = parseReceipt(text);
    row = rowOf(receipt.canonical);
    checkpoint = parseCheckpoint(receipt.checkpoint);
    checkSignatureEncoding(receipt.checkpoint);
  } catch (err) {
    const notAReceipt = err instanceof ReceiptError && err.notAReceipt;
    const code = notAReceipt ? 'receipt.malformed' : 'receipt.contents_invalid';
    return { ok: false, fault: fault(code, (err as Error).message), notAReceipt };
  }
  const stated = { ...row, seq: receipt.index + 1 };
  const where = { origin: checkpoint.origin, seq: stated.seq };
  const fail = (code: VerificationFaultCode, message: string): ReceiptVerification => ({
    ok: false,
    fault: fault(code, message, where),
    row: stated,
    checkpoint,
  });
  if (row.origin !== checkpoint.origin)
    return fail(
      'receipt.origin_mismatch',
      `the row is of log ${JSON.stringify(row.origin)}, the checkpoint of ${JSON.stringify(checkpoint.origin)}`,
    );
  if (checkpoint.extensions.length > 0)
    return fail('receipt.extensions', 'the checkpoint has extension lines, which no onbehalf log signs');
  if (receipt.index >= checkpoint.size)
    return fail(
      'receipt.index_out_of_range',
      `index ${receipt.index} is outside the checkpoint's ${checkpoint.sizeText} leaves`,
    );
  const leaf = leafHash(receipt.canonical);
  if (!verifyInclusion(leaf, receipt.index, checkpoint.size, receipt.proof, checkpoint.root))
    return fail(
      'receipt.proof_invalid',
      `the inclusion proof does not lead from the row (leaf ${receipt.index}) to the checkpoint's root: row, index, proof or root changed`,
    );
  const signed = verifyCheckpoint(receipt.checkpoint, trustedKeys);
  if (!signed.ok) return fail('receipt.checkpoint_invalid', `checkpoint: ${signed.fault?.message}`);
  return { ok: true, row: stated, checkpoint, signedBy: signed.signedBy };
}
