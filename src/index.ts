// onbehalf: the everyday names. Attribution on the context, the gate for privileged actions, the
// processors, sampler and propagator, the one-call setup, the errors and the problems it reports. The
// rest is behind subpath exports (README, "Entry points"): onbehalf/sdk, /stores, /verify, /otlp,
// /propagation, /keys, /mcp, /conventions, /register. Nothing here loads a database driver, an exporter or the NodeSDK until
// it is used.

export {
  type Actor,
  type Attribution,
  AttributionError,
  contextWithAttribution,
  getAttribution,
  parseAttribution,
  withAttribution,
} from './attribution/attribution.js';
export { ActionDeniedError, type AuditDetails, audited } from './attribution/audited.js';
export { OnbehalfError, type OnbehalfErrorCode } from './errors/onbehalf-error.js';
export { KeyError } from './keys/keys.js';
export {
  type OnbehalfProblem,
  type OnbehalfProblemCode,
  onProblem,
  type ProblemListener,
  problemCounts,
} from './metrics/problem-channel.js';
export {
  AttributionSpanProcessor,
  type AttributionSpanProcessorOptions,
} from './pipeline/attribution-span-processor.js';
export { AuditAwareSampler } from './pipeline/audit-aware-sampler.js';
export { AuditSpanProcessor, type AuditSpanProcessorOptions } from './pipeline/audit-span-processor.js';
export {
  AttributionPropagator,
  type AttributionPropagatorOptions,
} from './propagation/attribution-propagator.js';
export { InboundTokenError } from './propagation/inbound-token.js';
export { createOnbehalf, type OnbehalfComponentOptions, type OnbehalfComponents } from './sdk/components.js';
export { type OnbehalfHandle, type OnbehalfOptions, startOnbehalf } from './sdk/start.js';
export { StoreError } from './stores/audit-store.js';
