import { fault, formatFault, type VerificationFault } from '../errors/verification-fault.js';
import type { VerifyLogResult } from './verify-log.js';

/**
 * What a verification can honestly say of a log. A chain that links proves only that whoever wrote
 * the rows also wrote the hashes: anyone with the file can rewrite a log and recompute its chain. A
 * checkpoint signed by a key the verifier pinned vouches for the rows it covers; an off-host copy of
 * one also catches the log cut back together with its own checkpoints.
 */
export type Verdict = 'intact' | 'tampered' | 'unvouched';

/** Rows after the last checkpoint a trusted key signed: they link, but nothing trusted vouches for them yet. */
export interface UnanchoredTail {
  count: number;
  fromSeq: number;
  toSeq: number;
}

/** One log's verification with its verdict. */
export interface StoreLogResult extends VerifyLogResult {
  verdict: Verdict;
  /** Present when rows follow the last verified checkpoint. */
  unanchored?: UnanchoredTail;
}

/** How the log was verified: with pinned keys or the store's own, and how many off-host checkpoints. */
export interface VerdictContext {
  pinned: boolean;
  anchors: number;
}

/**
 * The verdict of a log, from its faults' codes (docs/verification-faults.md): `tampered` for any
 * fault but `checkpoint.untrusted` under pinned keys (a row fault, a root mismatch, a checkpoint
 * that is broken or not this log's, the database); `unvouched` when only the signer is unknown (the wrong keys, or notes re-signed
 * after a rewrite: the verifier cannot tell which), when pinned keys vouch for none of its rows, or
 * when off-host checkpoints were given and none covers it; `intact` otherwise.
 */
export function logVerdict(log: VerifyLogResult, context: VerdictContext): StoreLogResult {
  const unanchored =
    log.count > log.anchoredSize
      ? { count: log.count - log.anchoredSize, fromSeq: log.anchoredSize + 1, toSeq: log.count }
      : undefined;
  const base = unanchored ? { ...log, unanchored } : { ...log };
  // With pinned keys an unknown signer leaves the log unvouched; with the store's own keys it is tampering.
  const tampering = log.problems.some((p) => !(context.pinned && p.code === 'checkpoint.untrusted'));
  if (tampering) return { ...base, ok: false, verdict: 'tampered' };
  const unvouched = unvouchedFault(log, context);
  if (unvouched) return unvouchedLog(base, unvouched.why, unvouched.replaces);
  return { ...base, ok: true, verdict: 'intact' };
}

/**
 * The log marked unvouched for `why`, which becomes its reason and its first problem, in place of
 * the problem it explains further (`replaces`) when there is one.
 */
export function unvouchedLog(
  log: VerifyLogResult & { unanchored?: UnanchoredTail },
  why: VerificationFault,
  replaces?: VerificationFault,
): StoreLogResult {
  const rest = log.problems.filter((p) => p !== replaces);
  return { ...log, ok: false, verdict: 'unvouched', problems: [why, ...rest], reason: formatFault(why) };
}

function unvouchedFault(
  log: VerifyLogResult,
  context: VerdictContext,
): { why: VerificationFault; replaces?: VerificationFault } | undefined {
  const where = { origin: log.origin };
  const untrusted = log.problems.find((p) => p.code === 'checkpoint.untrusted');
  if (context.pinned && untrusted) {
    const message = `${untrusted.message}: either the wrong --trusted-keys were given, or the checkpoints were re-signed by another key (history rewritten)`;
    return { why: fault('checkpoint.untrusted', message, where), replaces: untrusted };
  }
  if (log.count === 0) return undefined;
  if (context.pinned && log.anchoredSize === 0) {
    const message = `no checkpoint signed by a pinned key covers any of its ${log.count} rows (a log made up, or rewritten with its checkpoints deleted, looks the same)`;
    return { why: fault('checkpoint.unvouched', message, where) };
  }
  if (context.anchors > 0 && log.externallyAnchoredSize === 0) {
    const message = 'none of the off-host checkpoints given is for this log';
    return { why: fault('checkpoint.unanchored', message, where) };
  }
  return undefined;
}
