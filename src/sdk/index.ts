// onbehalf/sdk: the parts of the pipeline for wiring onbehalf into an OpenTelemetry setup by hand,
// and the values the one-call setup reads from the environment.

export {
  MAX_ATTRIBUTION_LIST,
  MAX_ATTRIBUTION_STRING,
} from '../attribution/attribution.js';
export { actorFromEnv, DEFAULT_STORE, taskDefaultsFromEnv } from '../config/env.js';
export { type AuditPredicate, recognizeToolCall, type ToolCall } from '../conventions/tool-call.js';
export { type AgentsSpanLike, OpenAIAgentsToolSpans } from '../integrations/openai-agents.js';
// onbehalf's own health as OpenTelemetry metrics (a no-op unless a MeterProvider is registered).
export { describeProblem } from '../metrics/problem-channel.js';
export {
  ATTR_PROBLEM_CODE,
  ATTR_TOKEN_REASON,
  ATTR_TOKEN_RESULT,
  METRIC_EVENTS_LOST,
  METRIC_EVENTS_STORED,
  METRIC_GAP_RECORDS,
  METRIC_PROBLEMS,
  METRIC_STORE_ERRORS,
  METRIC_TOKENS,
  observeOnbehalfMetrics,
} from '../metrics/self-metrics.js';
export type { AttributionProcessorStats } from '../pipeline/attribution-span-processor.js';
export {
  type AuditSink,
  canRecordUnwritten,
  isSyncWriter,
  type SyncAuditSink,
  type UnwrittenEventsRecorder,
} from '../pipeline/audit-sink.js';
export type { AuditCommitMode, AuditProcessorStats } from '../pipeline/audit-span-processor.js';
export type { AuditEvent, StoredAuditEvent } from '../pipeline/event.js';
export { attributionToAttributes, type SpanAttributeOptions } from '../pipeline/span-attributes.js';
export { spanToAuditEvent } from '../pipeline/span-to-event.js';
export {
  DEFAULT_REDACTION_RULES,
  type Redacted,
  type RedactionOptions,
  type RedactionRule,
  redact,
} from '../redaction/redact.js';
export type { OnbehalfCounts } from './components.js';
