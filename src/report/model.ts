import type { StoredAuditEvent } from '../pipeline/event.js';
import type { VerifyStoreResult } from '../verify/verify-store.js';

/** Which rows a report covers; every given filter must hold. */
export interface ReportScope {
  /** `trigger_id`, or `type:id` (e.g. `email:msg-8821`). */
  trigger?: string;
  /** `actor_id` (or `actor_name`). */
  actor?: string;
  onBehalfOf?: string;
  /** ISO 8601, inclusive. */
  since?: string;
  /** ISO 8601, exclusive. */
  until?: string;
}

/** Everything a report shows; {@link renderReport} turns it into one self-contained HTML page. */
export interface ReportInput {
  scope: ReportScope;
  /** The rows in scope, oldest first. */
  rows: readonly StoredAuditEvent[];
  /** Verification of the whole store, not just of the rows in scope. */
  verification: VerifyStoreResult;
  /** How many checkpoints kept off-host the verification was given. */
  anchors: number;
  /** Where the store is, as the reviewer named it (a path, or a URL without its password). */
  store: string;
  /** When the report was made (ISO 8601). */
  generatedAt: string;
  /** Base URL of a Jaeger UI; each row then links to `<jaegerUrl>/trace/<trace_id>`. */
  jaegerUrl?: string;
}
