// onbehalf/verify: checking a log or a whole store, with its verdict: intact, tampered or unvouched.

export {
  formatFault,
  VERIFICATION_FAULT_CODES,
  type VerificationFault,
  type VerificationFaultCode,
} from '../errors/verification-fault.js';
export type { LogRow, PrerenderedRow, StoredRow } from '../log-format/chain.js';
export type { GapSummary } from './gap-summary.js';
export type { AuditLogReader } from './log-reader.js';
export type { StoreLogResult, UnanchoredTail, Verdict } from './verdict.js';
export {
  type CheckpointNote,
  type LogRows,
  type VerifyLogInput,
  type VerifyLogResult,
  verifyLog,
} from './verify-log.js';
export { type VerifyStoreOptions, type VerifyStoreResult, verifyAuditStore } from './verify-store.js';
