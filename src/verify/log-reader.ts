import type { VerificationFault } from '../errors/verification-fault.js';
import type { TrustedKey } from '../keys/keys.js';
import type {
  QueryableAuditStore,
  AuditLogReader as StoreLogReader,
  SyncAuditLogReader,
} from '../stores/capabilities.js';

/**
 * What verification reads from a store, named from the stores' own capabilities
 * (`stores/capabilities.ts`): a log reader, the synchronous reads as faster paths a store may offer,
 * the database's checks on itself, and the one read-only SQL statement the gap records are read
 * through. The stores in `stores/` satisfy it; so can any other reader of a log.
 */
export interface AuditLogReader
  extends StoreLogReader,
    Partial<Pick<SyncAuditLogReader, 'readLogSync' | 'readLogPrerendered'>>,
    Pick<QueryableAuditStore, 'sql' | 'structureProblems'> {
  /** The recorded keys that may sign `origin`'s checkpoints, where keys are bound to writers. */
  recordedKeysFor?(origin: string): Promise<TrustedKey[]>;
  /** How the database differs from the store's migration; one fault each. */
  integrityProblems?(): Promise<VerificationFault[]>;
}
