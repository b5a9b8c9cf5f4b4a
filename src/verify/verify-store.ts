import { fault, formatFault, type VerificationFault } from '../errors/verification-fault.js';
import type { TrustedKey } from '../keys/keys.js';
import { ChainError } from '../log-format/chain.js';
import { parseCheckpoint } from '../log-format/checkpoint.js';
import type { StructureProblem } from '../stores/audit-store.js';
import { StoreError } from '../stores/audit-store.js';
import { type GapSummary, gapSummary } from './gap-summary.js';
import type { AuditLogReader } from './log-reader.js';
import { pinnedKeysFor, unboundSignerFault } from './pinned-origins.js';
import { logVerdict, type StoreLogResult, unvouchedLog, type Verdict } from './verdict.js';
import { type VerifyLogResult, verifyLogResult } from './verify-log.js';
import { structureProblemsOf, verifyStoredLog } from './verify-ranges.js';

export type { StoreLogResult, UnanchoredTail, Verdict } from './verdict.js';

/** Options of {@link verifyAuditStore}. */
export interface VerifyStoreOptions {
  /**
   * Keys trusted to sign checkpoints (e.g. the `jwks.json` written next to the store, kept
   * elsewhere). Without them the public keys recorded in the store itself are used, which proves
   * the store is consistent but not who signed it. With them, a log is vouched for only up to its
   * last checkpoint one of them signed.
   */
  trustedKeys?: readonly TrustedKey[];
  /** Signed checkpoint notes kept off-host (e.g. from the OTLP log stream): catch rollback and forks. */
  externalCheckpoints?: readonly string[];
  /** Called with the number of rows verified so far. */
  onProgress?: (count: number) => void;
  /**
   * Worker threads to verify each SQLite log on, each reading its own ranges of the file (0 or 1: on
   * the calling thread). By default one per core on machines with more than two cores, for logs of at least 50 000 rows
   * (on two cores they measured slower than the calling thread).
   * PostgreSQL logs are verified on the calling thread.
   */
  workers?: number;
}

/** The result of {@link verifyAuditStore} (docs/log-format.md, "Verification"). */
export interface VerifyStoreResult {
  /**
   * `intact`: every log links and every checkpoint verified (with pinned keys: every log is covered
   * by a checkpoint they signed); `tampered`: a row, a checkpoint or the database itself is wrong;
   * `unvouched`: nothing is wrong, but the keys or off-host checkpoints given do not vouch for it.
   */
  verdict: Verdict;
  /** True when the verdict is `intact`. */
  ok: boolean;
  /** Rows verified, over all logs. */
  count: number;
  /** The first log found broken (else the first one not vouched for): its origin, first bad seq and reason. */
  origin?: string;
  firstBadSeq?: number;
  reason?: string;
  /** One result per writer log (origin). */
  logs: StoreLogResult[];
  /** What is wrong with the database itself (SQLite: indexes, schema, types, rows outside any chain). */
  database: StructureProblem[];
  /** Where the checkpoint keys came from. */
  keySource: 'pinned' | 'store';
  /** Off-host checkpoints given. */
  anchors: number;
  /** The store's gap records: events it could not take, which an intact chain does not show. */
  gaps: GapSummary;
  /** How the database differs from the store's migration, or rows it cannot use; any makes `ok` false. */
  integrityProblems: readonly VerificationFault[];
}

/**
 * Verifies a whole store: the database's own soundness where the store can check it, every writer's
 * hash chain, row by row, and every signed checkpoint against the Merkle root of the rows it covers,
 * plus any checkpoints kept elsewhere. A hostile value (an origin no checkpoint could name) makes its
 * log tampered; it never makes verification throw.
 */
export async function verifyAuditStore(
  store: AuditLogReader,
  options: VerifyStoreOptions = {},
): Promise<VerifyStoreResult> {
  const keySource = options.trustedKeys ? 'pinned' : 'store';
  // Beside the logs' ranges when those run on worker threads; awaited before any verdict is made.
  const structure = structureProblemsOf(store, options);
  structure.catch(() => undefined);
  const recorded = options.trustedKeys ?? (await store.recordedKeys());
  // A store that binds keys to writers trusts, for each log, only the keys of the writer that owns it.
  // Pinned keys vouch for a log only when bound to its origin (docs/trust-model.md).
  const keysFor = async (origin: string) =>
    options.trustedKeys
      ? pinnedKeysFor(options.trustedKeys, origin)
      : store.recordedKeysFor
        ? await store.recordedKeysFor(origin)
        : recorded;
  const checkpoints = await store.checkpoints();
  const external = (options.externalCheckpoints ?? []).map((note) => ({ note, origin: originOf(note) }));
  const origins = new Set([...(await store.origins()), ...checkpoints.map((c) => c.origin)]);
  const context = { pinned: keySource === 'pinned', anchors: external.length };
  const logs: StoreLogResult[] = [];
  const verified: VerifyLogResult[] = [];
  let done = 0;
  for (const origin of [...origins].sort()) {
    let log: VerifyLogResult;
    try {
      log = await verifyStoredLog(store, options, {
        origin,
        rows: readRows(store, origin),
        checkpoints: checkpoints.filter((c) => c.origin === origin),
        externalCheckpoints: external.filter((c) => c.origin === origin),
        trustedKeys: await keysFor(origin),
        onProgress: options.onProgress ? (n) => options.onProgress?.(done + n) : undefined,
      });
    } catch (err) {
      if (!(err instanceof ChainError)) throw err;
      const message = `seq 1: log origin ${JSON.stringify(origin)} cannot be a writer's (${err.message}): rows written by hand`;
      log = missingLog(origin, fault('row.origin_invalid', message, { origin, seq: 1 }));
    }
    done += log.count;
    verified.push(log);
  }
  const database = [...(await structure)];
  for (const log of verified) {
    const origin = log.origin;
    let judged = logVerdict(withStructure(log, database), context);
    if (judged.verdict === 'unvouched' && options.trustedKeys) {
      const notes = [...checkpoints, ...external].filter((c) => c.origin === origin).map((c) => c.note);
      const unbound = unboundSignerFault(origin, notes, options.trustedKeys);
      if (unbound) judged = unvouchedLog(judged, unbound, judged.problems[0]);
    }
    logs.push(judged);
  }
  for (const cp of external) {
    if (!origins.has(cp.origin)) {
      const message = `a checkpoint names log ${cp.origin}, which is not in this store (store replaced or rolled back)`;
      const log = missingLog(cp.origin, fault('checkpoint.rollback', message, { origin: cp.origin, seq: 1 }));
      logs.push(logVerdict(log, context));
    }
  }
  const bad = logs.find((l) => l.verdict === 'tampered');
  const loose = database.find((p) => p.origin === undefined || !origins.has(p.origin));
  // The database's own objects (PostgreSQL: triggers, policies, functions) differing from the migration's.
  const integrityProblems = (await store.integrityProblems?.()) ?? [];
  const unvouched = logs.find((l) => l.verdict === 'unvouched');
  const verdict: Verdict =
    bad || loose || integrityProblems.length > 0 ? 'tampered' : unvouched ? 'unvouched' : 'intact';
  const first = bad ?? (loose || integrityProblems.length > 0 ? undefined : unvouched);
  return {
    verdict,
    ok: verdict === 'intact',
    count: done,
    origin: first?.origin,
    firstBadSeq: bad ? bad.firstBadSeq : undefined,
    reason: first ? first.reason : formatted(loose ?? integrityProblems[0]),
    logs,
    database,
    keySource,
    anchors: external.length,
    gaps: await gapsOf(store),
    integrityProblems,
  };
}

function formatted(f: VerificationFault | undefined): string | undefined {
  return f ? formatFault(f) : undefined;
}

/** A log with no rows to check, broken from seq 1 by `why`. */
function missingLog(origin: string, why: VerificationFault): VerifyLogResult {
  return verifyLogResult({
    origin,
    count: 0,
    checkpointFaults: [],
    rowFault: why,
    checkpointsVerified: 0,
    anchoredSize: 0,
    externallyAnchoredSize: 0,
    root: '',
  });
}

/** A log with the database problems located in its rows: the lowest seq at fault wins. */
function withStructure(log: VerifyLogResult, database: readonly StructureProblem[]): VerifyLogResult {
  const mine = database.filter((p) => p.origin === log.origin);
  if (mine.length === 0) return log;
  const lowest = mine.reduce((a, b) => ((b.seq ?? Infinity) < (a.seq ?? Infinity) ? b : a));
  const wins = log.firstBadSeq === undefined || (lowest.seq ?? Infinity) < log.firstBadSeq;
  const rest = mine.filter((p) => p !== lowest);
  const problems = wins ? [lowest, ...rest, ...log.problems] : [...log.problems, lowest, ...rest];
  return {
    ...log,
    ok: false,
    firstBadSeq: wins ? lowest.seq : log.firstBadSeq,
    reason: formatFault(wins ? lowest : problems[0]!),
    problems: problems.map(asFault),
  };
}

/** A structure problem as the plain fault a log's problems hold (without the store's extra fields). */
function asFault(p: VerificationFault): VerificationFault {
  return fault(p.code, p.message, p);
}

/** The gap summary, or none when the store refuses to be read (its problems are reported already). */
async function gapsOf(store: AuditLogReader): Promise<GapSummary> {
  try {
    return await gapSummary(store);
  } catch (err) {
    if (err instanceof StoreError && err.kind === 'tampered') return { records: 0, lost: 0, reasons: [] };
    throw err;
  }
}

function readRows(store: AuditLogReader, origin: string) {
  if (store.readLogPrerendered) return store.readLogPrerendered(origin);
  return store.readLogSync ? store.readLogSync(origin) : store.readLog(origin);
}

function originOf(note: string): string {
  try {
    return parseCheckpoint(note).origin;
  } catch (err) {
    return `(unreadable checkpoint: ${(err as Error).message})`;
  }
}
