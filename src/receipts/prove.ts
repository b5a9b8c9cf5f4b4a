import { canonicalEventBytes } from '../log-format/canonical.js';
import { leafHash } from '../log-format/chain.js';
import { parseCheckpoint } from '../log-format/checkpoint.js';
import { inclusionProof, merkleTreeHash } from '../log-format/merkle-proofs.js';
import type { StoredAuditEvent } from '../pipeline/event.js';
import type { AuditStore, StoredCheckpoint } from '../stores/audit-store.js';
import { formatReceipt } from './receipt.js';

/** Which row to prove: by event id, or by its place in a log. */
export type RowSelector = { eventId: string } | { origin: string; seq: number };

/** Thrown when no receipt can be made; `tampered` when the store disagrees with its own checkpoint. */
export class ProveError extends Error {
  override name = 'ProveError';
  constructor(
    message: string,
    readonly tampered = false,
  ) {
    super(message);
  }
}

/** A receipt made by {@link proveRow}, with what it names. */
export interface ProvedRow {
  /** The receipt text (docs/receipts.md). */
  receipt: string;
  row: StoredAuditEvent;
  /** The checkpoint it proves inclusion in. */
  checkpoint: StoredCheckpoint;
}

/** Where an event id is: SQL text quoted by doubling quotes, the one escape both SQLite and PostgreSQL take. */
async function locate(store: AuditStore, eventId: string): Promise<{ origin: string; seq: number }> {
  if (eventId.includes('\u0000')) throw new ProveError('--event: an event id has no NUL character');
  const quoted = `'${eventId.replaceAll("'", "''")}'`;
  const rows = await store.sql(`SELECT origin, seq FROM audit_events WHERE event_id = ${quoted}`);
  if (rows.length === 0) throw new ProveError(`no event ${JSON.stringify(eventId)} in ${store.location}`);
  if (rows.length > 1) throw new ProveError(`event id ${JSON.stringify(eventId)} is on ${rows.length} rows`);
  return { origin: String(rows[0]!.origin), seq: Number(rows[0]!.seq) };
}

/**
 * The checkpoint a receipt should cite: with `notes` (e.g. cosigned copies kept in a checkpoint
 * directory) the largest of them covering the row, else the store's latest covering it.
 */
function pickCheckpoint(
  stored: readonly StoredCheckpoint[],
  seq: number,
  notes: readonly string[],
): StoredCheckpoint | undefined {
  const candidates = [...stored];
  for (const note of notes) {
    const cp = parseCheckpoint(note);
    candidates.push({
      origin: cp.origin,
      size: cp.size,
      root: cp.root.toString('base64'),
      note,
      created_at: '',
    });
  }
  const covering = candidates.filter((c) => c.size >= seq).sort((a, b) => a.size - b.size);
  // Prefer the newest; among notes of one size, one that carries cosignatures.
  const largest = covering.at(-1)?.size;
  const same = covering.filter((c) => c.size === largest);
  return same.sort((a, b) => b.note.length - a.note.length)[0];
}

/**
 * Writes the receipt of one row: reads the row's log up to a signed checkpoint that covers it,
 * rebuilds that checkpoint's root from the rows (so a store that disagrees with its own checkpoint
 * yields no receipt), and returns the inclusion proof with the row's canonical bytes.
 * O(size of the checkpoint) hashing; the log is read once.
 */
export async function proveRow(
  store: AuditStore,
  which: RowSelector,
  options: { checkpointNotes?: readonly string[] } = {},
): Promise<ProvedRow> {
  const { origin, seq } = 'eventId' in which ? await locate(store, which.eventId) : which;
  if (!Number.isSafeInteger(seq) || seq < 1) throw new ProveError(`--seq: ${seq} is not a seq (1, 2, …)`);
  if (!(await store.origins()).includes(origin))
    throw new ProveError(`no log ${JSON.stringify(origin)} in ${store.location}`);
  const notes = (options.checkpointNotes ?? []).filter((n) => parseCheckpoint(n).origin === origin);
  const checkpoint = pickCheckpoint(await store.checkpoints(origin), seq, notes);
  if (!checkpoint)
    throw new ProveError(
      `${origin} seq ${seq}: no signed checkpoint covers it yet (the writer signs one every 1000 events, 60 s and on close)`,
    );
  const leaves: Buffer[] = [];
  let row: StoredAuditEvent | undefined;
  for await (const batch of store.readLog(origin)) {
    for (const r of batch) {
      if (leaves.length >= checkpoint.size) break;
      if (Number(r.seq) !== leaves.length + 1)
        throw new ProveError(`${origin}: seq ${leaves.length + 1} is missing or out of place`, true);
      if (Number(r.seq) === seq) row = r;
      leaves.push(leafHash(canonicalEventBytes(r)));
    }
    if (leaves.length >= checkpoint.size) break;
  }
  if (leaves.length < checkpoint.size)
    throw new ProveError(
      `${origin}: the checkpoint signs ${checkpoint.size} rows, the store holds ${leaves.length}`,
      true,
    );
  if (merkleTreeHash(leaves).toString('base64') !== parseCheckpoint(checkpoint.note).root.toString('base64'))
    throw new ProveError(
      `${origin}: the rows do not hash to the root the checkpoint at size ${checkpoint.size} signs; run onbehalf verify ${store.location}`,
      true,
    );
  if (!row) throw new ProveError(`no row ${origin} seq ${seq}`);
  const receipt = formatReceipt({
    canonical: canonicalEventBytes(row),
    index: seq - 1,
    proof: inclusionProof(leaves, seq - 1),
    checkpoint: checkpoint.note,
  });
  return { receipt, row, checkpoint };
}
