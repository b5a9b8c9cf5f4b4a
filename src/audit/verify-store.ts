import type { TrustedKey } from '../keys/keys.js';
import type { AuditStore } from '../stores/audit-store.js';
import { parseCheckpoint } from './checkpoint.js';
import { type GapSummary, gapSummary } from './gap-summary.js';
import { type VerifyLogResult, verifyLog } from './verify-log.js';

/** Options of {@link verifyAuditStore}. */
export interface VerifyStoreOptions {
  /**
   * Keys trusted to sign checkpoints (e.g. the `jwks.json` written next to the store, kept
   * elsewhere). Without them the public keys recorded in the store itself are used, which proves
   * the store is consistent but not who signed it.
   */
  trustedKeys?: readonly TrustedKey[];
  /** Signed checkpoint notes kept off-host (e.g. from the OTLP log stream): catch rollback and forks. */
  externalCheckpoints?: readonly string[];
  /** Called with the number of rows verified so far. */
  onProgress?: (count: number) => void;
}

/** The result of {@link verifyAuditStore} (docs/log-format.md, "Verification"). */
export interface VerifyStoreResult {
  /** True when every log's chain and every checkpoint verified, and the database has no integrity problem. */
  ok: boolean;
  /** Rows verified, over all logs. */
  count: number;
  /** The first log found broken: its origin, first bad seq and reason. */
  origin?: string;
  firstBadSeq?: number;
  reason?: string;
  /** One result per writer log (origin). */
  logs: VerifyLogResult[];
  /** Where the checkpoint keys came from. */
  keySource: 'pinned' | 'store';
  /** The store's gap records: events it could not take, which an intact chain does not show. */
  gaps: GapSummary;
  /** How the database differs from the store's migration, or rows it cannot use; any makes `ok` false. */
  integrityProblems: string[];
}

/**
 * Verifies a whole store: every writer's hash chain, row by row, and every signed checkpoint against
 * the Merkle root of the rows it covers, plus any checkpoints kept elsewhere.
 */
export async function verifyAuditStore(
  store: AuditStore,
  options: VerifyStoreOptions = {},
): Promise<VerifyStoreResult> {
  const keySource = options.trustedKeys ? 'pinned' : 'store';
  const recorded = options.trustedKeys ?? (await store.recordedKeys());
  // A store that binds keys to writers trusts, for each log, only the keys of the writer that owns it.
  const keysFor = async (origin: string) =>
    options.trustedKeys ?? (store.recordedKeysFor ? await store.recordedKeysFor(origin) : recorded);
  const checkpoints = await store.checkpoints();
  const external = (options.externalCheckpoints ?? []).map((note) => ({ note, origin: originOf(note) }));
  const origins = new Set([...(await store.origins()), ...checkpoints.map((c) => c.origin)]);
  const logs: VerifyLogResult[] = [];
  let done = 0;
  for (const origin of [...origins].sort()) {
    const log = await verifyLog({
      origin,
      rows: readRows(store, origin),
      checkpoints: checkpoints.filter((c) => c.origin === origin),
      externalCheckpoints: external.filter((c) => c.origin === origin),
      trustedKeys: await keysFor(origin),
      onProgress: options.onProgress ? (n) => options.onProgress?.(done + n) : undefined,
    });
    done += log.count;
    logs.push(log);
  }
  for (const cp of external) {
    if (!origins.has(cp.origin)) {
      logs.push({
        ok: false,
        origin: cp.origin,
        count: 0,
        firstBadSeq: 1,
        reason: `a checkpoint names log ${cp.origin}, which is not in this store (store replaced or rolled back)`,
        problems: [],
        checkpointsVerified: 0,
        root: '',
      });
    }
  }
  const bad = logs.find((l) => !l.ok);
  const integrityProblems = (await store.integrityProblems?.()) ?? [];
  return {
    ok: !bad && integrityProblems.length === 0,
    count: done,
    origin: bad?.origin,
    firstBadSeq: bad?.firstBadSeq,
    reason: bad?.reason ?? integrityProblems[0],
    logs,
    keySource,
    gaps: await gapSummary(store),
    integrityProblems,
  };
}

function readRows(store: AuditStore, origin: string) {
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
