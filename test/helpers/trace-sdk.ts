// The OpenTelemetry trace SDK the tests build pipelines from. Tests import it from here, never from
// `@opentelemetry/sdk-trace-base` directly, so the same tests run on OpenTelemetry JS 2.x and 3.x.
export {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  type Sampler,
  SamplingDecision,
  SimpleSpanProcessor,
  type Span,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
