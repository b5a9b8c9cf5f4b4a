// The OpenTelemetry trace SDK the tests build pipelines from: `@opentelemetry/sdk-trace`, which both
// supported lines ship (OpenTelemetry JS 2.x builds `sdk-trace-base` on it; 3.x has only it). Tests
// import from here, never from an SDK package directly, so the same tests run on both lines.
import * as sdk from '@opentelemetry/sdk-trace';

export type {
  ReadableSpan,
  Sampler,
  Span,
  SpanExporter,
  SpanProcessor,
} from '@opentelemetry/sdk-trace';

export const {
  AlwaysOffSampler,
  AlwaysOnSampler,
  InMemorySpanExporter,
  SamplingDecision,
  TraceIdRatioBasedSampler,
} = sdk;
export type InMemorySpanExporter = sdk.InMemorySpanExporter;

/** The SDK's tracer provider (`BasicTracerProvider` in `sdk-trace-base`). */
export const BasicTracerProvider = sdk.TracerProvider;
export type BasicTracerProvider = sdk.TracerProvider;

/** `SimpleSpanProcessor(exporter)`, the constructor form the tests use, on both lines. */
export class SimpleSpanProcessor extends sdk.SimpleSpanProcessor {
  constructor(exporter: sdk.SpanExporter) {
    super({ exporter });
  }
}
