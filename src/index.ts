// The public API of onbehalf.

export type { ApprovalAnswer, ApprovalRequest, Approver } from './approvals/approver.js';
export {
  answerApproval,
  type DirectoryApproverOptions,
  directoryApprover,
  pendingApprovals,
  type StoredApprovalRequest,
} from './approvals/directory-approver.js';
// The audit store: events, processor, sampler, stores, verification.
export {
  type AuditCommitMode,
  type AuditProcessorStats,
  AuditSpanProcessor,
  type AuditSpanProcessorOptions,
} from './audit/audit-span-processor.js';
export type { LogRow, PrerenderedRow, StoredRow } from './audit/chain.js';
export { type AuditEvent, AuditEventSchema, type StoredAuditEvent } from './audit/event.js';
export type { GapSummary } from './audit/gap-summary.js';
export { spanToAuditEvent } from './audit/span-to-event.js';
export {
  type CheckpointNote,
  type LogRows,
  type VerifyLogInput,
  type VerifyLogResult,
  verifyLog,
} from './audit/verify-log.js';
export {
  type StoreLogResult,
  type UnanchoredTail,
  type Verdict,
  type VerifyStoreOptions,
  type VerifyStoreResult,
  verifyAuditStore,
} from './audit/verify-store.js';
export { actorFromEnv, DEFAULT_STORE, ENV, taskDefaultsFromEnv } from './config/env.js';
export {
  type Actor,
  ActorSchema,
  type Attribution,
  AttributionError,
  AttributionSchema,
  contextWithAttribution,
  getAttribution,
  MAX_ATTRIBUTION_LIST,
  MAX_ATTRIBUTION_STRING,
  parseAttribution,
  withAttribution,
} from './context/attribution.js';
export { ActionDeniedError, type AuditDetails, audited } from './context/audited.js';
export * from './conventions/index.js';
export {
  auditedMcpTool,
  extractMcpContext,
  injectMcpMeta,
  type McpHandlerExtra,
  type McpMeta,
  type McpMetaSource,
  mcpMetaOf,
  withMcpContext,
} from './integrations/mcp.js';
export { type AgentsSpanLike, OpenAIAgentsToolSpans } from './integrations/openai-agents.js';
export {
  generateSigningKey,
  KeyError,
  loadSigningKey,
  loadTrustedKeys,
  loadTrustedKeysFile,
  type SigningKey,
  signingKeyFromJwk,
  type TrustedKey,
  trustedKeysFromJwks,
  writeKeyPair,
} from './keys/keys.js';
// onbehalf's own health as OpenTelemetry metrics (a no-op unless a MeterProvider is registered).
export {
  ATTR_TOKEN_REASON,
  ATTR_TOKEN_RESULT,
  METRIC_EVENTS_LOST,
  METRIC_EVENTS_STORED,
  METRIC_GAP_RECORDS,
  METRIC_STORE_ERRORS,
  METRIC_TOKENS,
  observeOnbehalfMetrics,
} from './metrics/self-metrics.js';
export {
  AUDIT_LOGGER_NAME,
  AuditLogExporter,
  type AuditLogExporterOptions,
  type AuditLoggerProviderOptions,
  createAuditLoggerProvider,
} from './otlp/audit-log-exporter.js';
export {
  AUDIT_CHECKPOINT_NAME,
  AUDIT_EVENT_NAME,
  type AuditLogFormat,
  auditEventAttributes,
  auditEventToLogRecord,
  auditLine,
  checkpointToLogRecord,
} from './otlp/log-record.js';
export { OCSF_API_ACTIVITY_CLASS, OCSF_VERSION, toOcsfApiActivity } from './otlp/ocsf.js';
export {
  type ActivePolicy,
  activePolicy,
  type PolicyOptions,
  policyOptionsFromEnv,
  usePolicy,
} from './policy/active.js';
export type { PolicyMode } from './policy/attributes.js';
export { type EnforceOptions, enforcePolicy } from './policy/enforce.js';
export { type PolicyDecision, PolicyEngine } from './policy/engine.js';
export { type LoadedPolicySet, PolicyLoadError, type PolicySource } from './policy/policy-set.js';
export type { PolicySubject } from './policy/request.js';
export {
  type AttributionProcessorStats,
  AttributionSpanProcessor,
  type AttributionSpanProcessorOptions,
} from './processor/attribution-span-processor.js';
export { AuditAwareSampler } from './processor/audit-aware-sampler.js';
export { attributionToAttributes, type SpanAttributeOptions } from './processor/span-attributes.js';
export { type AuditPredicate, recognizeToolCall, type ToolCall } from './processor/tool-call.js';
export {
  AttributionPropagator,
  type AttributionPropagatorOptions,
  type AttributionPropagatorStats,
} from './propagation/attribution-propagator.js';
export {
  ATTRIBUTION_TOKEN_TYPE,
  type AttributionClaims,
  attributionToClaims,
  type SignTokenOptions,
  signAttributionToken,
  type TokenRejection,
  type TokenVerification,
  type VerifyTokenOptions,
  verifyAttributionToken,
} from './propagation/attribution-token.js';
export { BAGGAGE_MAX_BYTES, BAGGAGE_MAX_ENTRIES } from './propagation/baggage-limits.js';
export { ATTRIBUTION_TOKEN_KEY } from './propagation/claims.js';
export { attributionPropagatorFrom, type PropagationKeyOptions } from './propagation/from-options.js';
export {
  AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  InboundTokenError,
  type InboundTokenReason,
} from './propagation/inbound-token.js';
export {
  TrustedKeySet,
  type TrustedKeySetOptions,
  type TrustedKeySetStats,
} from './propagation/trusted-key-set.js';
export {
  DEFAULT_REDACTION_RULES,
  type Redacted,
  type RedactionOptions,
  type RedactionRule,
  redact,
} from './redaction/redact.js';
export {
  createOnbehalf,
  type OnbehalfComponentOptions,
  type OnbehalfComponents,
  type OnbehalfCounts,
} from './sdk/components.js';
export { type OnbehalfHandle, type OnbehalfOptions, startOnbehalf } from './sdk/start.js';
export {
  type AuditQuery,
  type AuditStore,
  type AuditStoreOptions,
  type StoredCheckpoint,
  StoreError,
  type StructureProblem,
} from './stores/audit-store.js';
export {
  type AuditLogReader,
  type AuditLogWriter,
  isSyncReader,
  isSyncWriter,
  type QueryableAuditStore,
  type SyncAuditLogReader,
  type SyncAuditLogWriter,
} from './stores/capabilities.js';
export { createAuditStore, type OpenStoreOptions, openAuditStore } from './stores/open.js';
export {
  POSTGRES_AUDITOR_ROLE,
  POSTGRES_MIGRATION,
  POSTGRES_SCHEMA_VERSION,
  POSTGRES_WRITER_ROLE,
} from './stores/postgres-schema.js';
export {
  POSTGRES_KEY_DIR,
  PostgresAuditStore,
  type PostgresAuditStoreOptions,
} from './stores/postgres-store.js';
export { SqliteAuditStore, type SqliteAuditStoreOptions } from './stores/sqlite-store.js';
