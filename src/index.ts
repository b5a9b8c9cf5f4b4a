// The public API of onbehalf.

export { actorFromEnv, DEFAULT_STORE, ENV } from './config/env.js';
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
  type AttributionProcessorStats,
  AttributionSpanProcessor,
  type AttributionSpanProcessorOptions,
} from './processor/attribution-span-processor.js';
export { attributionToAttributes, type SpanAttributeOptions } from './processor/span-attributes.js';
export {
  DEFAULT_REDACTION_RULES,
  type Redacted,
  type RedactionOptions,
  type RedactionRule,
  redact,
} from './redaction/redact.js';
export { type OnbehalfHandle, type OnbehalfOptions, startOnbehalf } from './sdk/start.js';
