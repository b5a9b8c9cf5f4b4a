import { fault, type VerificationFault } from '../errors/verification-fault.js';
import type { TrustedKey } from '../keys/keys.js';
import { verifyCheckpoint } from '../log-format/checkpoint.js';
import type { AuditStore } from '../stores/audit-store.js';
import type { UnanchoredTail, Verdict } from '../verify/verdict.js';
import { AnchorError, anchoredState, extendState, newestAnchor } from './anchor-dir.js';

/**
 * Incremental verification (docs/receipts.md, "Incremental verify"): only the rows after the newest
 * checkpoint anchored in a checkpoint directory are read. Its chain state there (Merkle frontier)
 * must hash to that checkpoint's signed root; the rows after it must link on from the row at the
 * anchored size and extend that frontier to the root of every later checkpoint the store signed,
 * which proves each later checkpoint consistent with the anchor. The rows before the anchor were
 * verified when it was anchored and are not read again.
 */

/** One log's incremental verification. */
export interface IncrementalLogResult {
  origin: string;
  verdict: Verdict;
  /** Size of the anchored checkpoint the verification started from (0: none). */
  anchoredSize: number;
  /** Rows in the log now (as far as verified). */
  size: number;
  /** Rows read and verified: those after the anchor. */
  newRows: number;
  /** The store's checkpoints after the anchor whose signature and root verified. */
  checkpointsVerified: number;
  /** Largest size a verified checkpoint vouches for. */
  vouchedSize: number;
  firstBadSeq?: number;
  /** Why the verdict is not `intact`. */
  fault?: VerificationFault;
  unanchored?: UnanchoredTail;
}

/** The result of {@link verifyIncrementally}. */
export interface IncrementalResult {
  verdict: Verdict;
  ok: boolean;
  logs: IncrementalLogResult[];
  keySource: 'pinned' | 'store';
}

/** Verifies every log of a store from its newest checkpoint in `anchorDir`. */
export async function verifyIncrementally(
  store: AuditStore,
  options: { anchorDir: string; trustedKeys?: readonly TrustedKey[] },
): Promise<IncrementalResult> {
  const logs: IncrementalLogResult[] = [];
  for (const origin of (await store.origins()).sort()) {
    const keys =
      options.trustedKeys ??
      (store.recordedKeysFor ? await store.recordedKeysFor(origin) : await store.recordedKeys());
    logs.push(await verifyLogFromAnchor(store, origin, options.anchorDir, keys));
  }
  const verdict: Verdict = logs.some((l) => l.verdict === 'tampered')
    ? 'tampered'
    : logs.some((l) => l.verdict === 'unvouched')
      ? 'unvouched'
      : 'intact';
  return { verdict, ok: verdict === 'intact', logs, keySource: options.trustedKeys ? 'pinned' : 'store' };
}

async function verifyLogFromAnchor(
  store: AuditStore,
  origin: string,
  dir: string,
  keys: readonly TrustedKey[],
): Promise<IncrementalLogResult> {
  const result: IncrementalLogResult = {
    origin,
    verdict: 'intact',
    anchoredSize: 0,
    size: 0,
    newRows: 0,
    checkpointsVerified: 0,
    vouchedSize: 0,
  };
  const anchor = newestAnchor(dir, origin);
  if (!anchor)
    return {
      ...result,
      verdict: 'unvouched',
      fault: fault(
        'consistency.no_anchor',
        `no checkpoint of this log in ${dir}: verify it in full once, then anchor it with onbehalf checkpoints --out ${dir}`,
        { origin },
      ),
    };
  const signed = verifyCheckpoint(anchor.note, keys);
  if (!signed.ok)
    return {
      ...result,
      verdict: signed.untrusted ? 'unvouched' : 'tampered',
      fault: located(signed.fault, `anchored checkpoint ${anchor.file}`, origin),
    };
  const m = anchor.checkpoint.size;
  result.anchoredSize = m;
  result.vouchedSize = m;
  const later = (await store.checkpoints(origin)).filter((c) => c.size > m).sort((a, b) => a.size - b.size);
  const roots = new Map<number, Buffer>();
  for (const c of later) {
    const v = verifyCheckpoint(c.note, keys);
    if (!v.ok || !v.checkpoint)
      return {
        ...result,
        verdict: 'tampered',
        fault: located(v.fault, `checkpoint at size ${c.size}`, origin),
      };
    roots.set(v.checkpoint.size, v.checkpoint.root);
  }
  try {
    const state = await anchoredState(store, anchor);
    await extendState(store, state, Number.POSITIVE_INFINITY, {
      collect: false,
      onSize: (s) => {
        const root = roots.get(s.size);
        if (!root) return;
        if (!s.root().equals(root))
          throw new AnchorError(
            'consistency.inconsistent',
            `checkpoint at size ${s.size}: its root is not that of the anchored log extended by rows ${m + 1}..${s.size} (rows rewritten, or the checkpoint is not consistent with the anchor)`,
            m + 1,
          );
        result.checkpointsVerified++;
        result.vouchedSize = s.size;
      },
    });
    result.size = state.size;
    result.newRows = state.size - m;
  } catch (err) {
    if (!(err instanceof AnchorError)) throw err;
    return {
      ...result,
      verdict: 'tampered',
      firstBadSeq: err.seq,
      fault: fault(err.fault.code, err.message, { origin, seq: err.seq }),
    };
  }
  const missing = later.find((c) => c.size > result.size);
  if (missing)
    return {
      ...result,
      verdict: 'tampered',
      firstBadSeq: result.size + 1,
      fault: fault(
        'consistency.rows_missing',
        `checkpoint at size ${missing.size}: the log holds only ${result.size} rows (rows deleted)`,
        { origin, seq: result.size + 1 },
      ),
    };
  if (result.size > result.vouchedSize)
    result.unanchored = {
      count: result.size - result.vouchedSize,
      fromSeq: result.vouchedSize + 1,
      toSeq: result.size,
    };
  return result;
}

/** A checkpoint's fault, its message prefixed with which checkpoint it is and its log named. */
function located(f: VerificationFault | undefined, label: string, origin: string): VerificationFault {
  return fault(f?.code ?? 'checkpoint.malformed', `${label}: ${f?.message ?? ''}`, { origin });
}
