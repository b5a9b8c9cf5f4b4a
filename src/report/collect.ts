import { verifyAuditStore } from '../audit/verify-store.js';
import type { AuditStore } from '../stores/audit-store.js';
import type { ReportInput, ReportScope } from './model.js';

/** Options of {@link collectReport}. */
export interface CollectReportOptions {
  /** Base URL of a Jaeger UI for per-row trace links. */
  jaegerUrl?: string;
  /** When the report is made; now by default. */
  now?: Date;
}

/**
 * Reads what a report shows from a store: the rows in scope, oldest first, and a full verification
 * of the store. Verification is never skipped: a report of a broken store must say so at the top.
 */
export async function collectReport(
  store: AuditStore,
  scope: ReportScope,
  options: CollectReportOptions = {},
): Promise<ReportInput> {
  const rows = await store.query({
    trigger: scope.trigger,
    actor: scope.actor,
    onBehalfOf: scope.onBehalfOf,
    since: scope.since,
    until: scope.until,
    order: 'asc',
  });
  const verification = await verifyAuditStore(store);
  return {
    scope,
    rows,
    verification,
    store: store.location,
    generatedAt: (options.now ?? new Date()).toISOString(),
    jaegerUrl: options.jaegerUrl,
  };
}
