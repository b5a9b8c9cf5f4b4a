import type { AuditLogReader } from './log-reader.js';

/** Gap records in a store: how many, how many events they stand for, and why those were lost. */
export interface GapSummary {
  records: number;
  lost: number;
  reasons: string[];
}

/**
 * The store's gap records, summed: the events it could not take (a full queue, an unwritable store),
 * which an intact chain does not show.
 */
export async function gapSummary(store: Pick<AuditLogReader, 'sql'>): Promise<GapSummary> {
  const rows = await store.sql("SELECT attributes FROM audit_events WHERE record_type = 'gap'");
  const reasons = new Set<string>();
  let lost = 0;
  for (const row of rows) {
    try {
      const gap = JSON.parse(String(row.attributes)) as { lost?: unknown; reasons?: unknown };
      if (typeof gap.lost === 'number') lost += gap.lost;
      if (Array.isArray(gap.reasons)) for (const r of gap.reasons) reasons.add(String(r));
    } catch {
      // A gap record is counted even when its details cannot be read.
    }
  }
  return { records: rows.length, lost, reasons: [...reasons].sort() };
}
