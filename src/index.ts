// The public API of onbehalf.

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
} from './attribution/attribution.js';
export { ActionDeniedError, type AuditDetails, audited } from './attribution/audited.js';
export { actorFromEnv, DEFAULT_STORE, ENV, taskDefaultsFromEnv } from './config/env.js';
export * from './conventions/index.js';
export { type AuditPredicate, recognizeToolCall, type ToolCall } from './conventions/tool-call.js';
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
export type { LogRow, PrerenderedRow, StoredRow } from './log-format/chain.js';
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
  type AttributionProcessorStats,
  AttributionSpanProcessor,
  type AttributionSpanProcessorOptions,
} from './pipeline/attribution-span-processor.js';
export { AuditAwareSampler } from './pipeline/audit-aware-sampler.js';
// The audit store: events, processor, sampler, stores, verification.
export {
  type AuditProcessorStats,
  AuditSpanProcessor,
  type AuditSpanProcessorOptions,
} from './pipeline/audit-span-processor.js';
export { type AuditEvent, AuditEventSchema, type StoredAuditEvent } from './pipeline/event.js';
export { attributionToAttributes, type SpanAttributeOptions } from './pipeline/span-attributes.js';
export { spanToAuditEvent } from './pipeline/span-to-event.js';
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
export type { GapSummary } from './verify/gap-summary.js';
export {
  type CheckpointNote,
  type LogRows,
  type VerifyLogInput,
  type VerifyLogResult,
  verifyLog,
} from './verify/verify-log.js';
export {
  type StoreLogResult,
  type UnanchoredTail,
  type Verdict,
  type VerifyStoreOptions,
  type VerifyStoreResult,
  verifyAuditStore,
} from './verify/verify-store.js';
