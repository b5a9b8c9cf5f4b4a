import type { TrustedKey } from '../keys/keys.js';
import type { AuditStore } from '../stores/audit-store.js';
import { verifyAuditStore } from '../verify/verify-store.js';
import type { ReportInput, ReportScope } from './model.js';

/** Options of {@link collectReport}. */
export interface CollectReportOptions {
  /** Base URL of a Jaeger UI for per-row trace links. */
  jaegerUrl?: string;
  /** When the report is made; now by default. */
  now?: Date;
  /** Keys trusted to sign checkpoints; the keys recorded in the store otherwise. */
  trustedKeys?: readonly TrustedKey[];
  /** Signed checkpoint notes kept off-host (see `onbehalf checkpoints`). */
  externalCheckpoints?: readonly string[];
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
  const verification = await verifyAuditStore(store, {
    trustedKeys: options.trustedKeys,
    externalCheckpoints: options.externalCheckpoints,
  });
  // A database whose indexes or schema are not what verify checked would show other rows than it
  // verified: the page then says why and shows none.
  const rows = verification.database.some((p) => p.hidesRows)
    ? []
    : await store.query({
        trigger: scope.trigger,
        actor: scope.actor,
        onBehalfOf: scope.onBehalfOf,
        since: scope.since,
        until: scope.until,
        order: 'asc',
      });
  return {
    scope,
    rows,
    verification,
    anchors: options.externalCheckpoints?.length ?? 0,
    store: store.location,
    generatedAt: (options.now ?? new Date()).toISOString(),
    jaegerUrl: options.jaegerUrl,
  };
}
