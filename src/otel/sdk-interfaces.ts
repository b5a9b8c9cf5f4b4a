// The parts of the OpenTelemetry trace SDK's interfaces onbehalf implements or reads, written out here
// so that onbehalf plugs into OpenTelemetry JS 2.x (`@opentelemetry/sdk-trace-base`) and 3.x
// (`@opentelemetry/sdk-trace`) alike: both SDKs hand their spans to these shapes, and accept
// processors and samplers of these shapes, without onbehalf importing either package.
import type {
  Span as ApiSpan,
  Attributes,
  Context,
  HrTime,
  Link,
  SpanContext,
  SpanKind,
  SpanStatus,
  TraceState,
} from '@opentelemetry/api';

/** A finished (or, in `onStart`, a running) span as the SDK exposes it to processors. */
export interface ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  spanContext(): SpanContext;
  readonly parentSpanContext?: SpanContext;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly duration: HrTime;
  readonly ended: boolean;
  readonly resource: { readonly attributes: Attributes };
  readonly instrumentationScope: { readonly name: string; readonly version?: string };
}

/** The span handed to {@link SpanProcessor.onStart}: writable, and readable as it stands. */
export interface Span extends ApiSpan, ReadableSpan {}

/** The SDK's span processor contract: hooks that MUST NOT throw. */
export interface SpanProcessor {
  forceFlush(): Promise<void>;
  onStart(span: Span, parentContext: Context): void;
  onEnd(span: ReadableSpan): void;
  shutdown(): Promise<void>;
}

/** The SDK's sampling decisions; the numbers are the SDK's own enum values. */
export const SamplingDecision = { NOT_RECORD: 0, RECORD: 1, RECORD_AND_SAMPLED: 2 } as const;
/** One of {@link SamplingDecision}. */
export type SamplingDecision = (typeof SamplingDecision)[keyof typeof SamplingDecision];

/** What a {@link Sampler} decides for one span. */
export interface SamplingResult {
  decision: SamplingDecision;
  attributes?: Readonly<Attributes>;
  traceState?: TraceState;
}

/** The SDK's sampler contract. */
export interface Sampler {
  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult;
  toString(): string;
}

/** The SDK's span exporter contract (a trace exporter onbehalf batches for the normal pipeline). */
export interface SpanExporter {
  export(spans: ReadableSpan[], resultCallback: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/** A log attribute or body value, as the OpenTelemetry logs API defines it. */
export type AnyValue = string | number | boolean | Uint8Array | AnyValue[] | AnyValueMap | null | undefined;
/** A map of {@link AnyValue}s. */
export interface AnyValueMap {
  [key: string]: AnyValue;
}

/** The logs API's severity numbers onbehalf uses. */
export const SeverityNumber = { INFO: 9, WARN: 13, ERROR: 17 } as const;
/** One of {@link SeverityNumber}. */
export type SeverityNumber = (typeof SeverityNumber)[keyof typeof SeverityNumber];

/** A log record as the logs API's `Logger.emit` takes it. */
export interface LogRecord {
  eventName?: string;
  timestamp?: HrTime | number | Date;
  observedTimestamp?: HrTime | number | Date;
  severityNumber?: SeverityNumber;
  severityText?: string;
  body?: AnyValue;
  attributes?: AnyValueMap;
  context?: Context;
}

/** The logs API's logger: `@opentelemetry/api-logs` (OpenTelemetry JS 2.x) or `@opentelemetry/api` 1.10. */
export interface Logger {
  emit(record: LogRecord): void;
}

/** The logs API's logger provider. */
export interface LoggerProvider {
  getLogger(name: string, version?: string): Logger;
}

/** A logger provider onbehalf made, which it flushes and shuts down. */
export interface ShutdownLoggerProvider extends LoggerProvider {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The SDK's log record exporter contract. */
export interface LogRecordExporter {
  export(records: unknown[], resultCallback: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/** An OpenTelemetry instrumentation, as the SDK's `instrumentations` option takes it. */
export interface Instrumentation {
  readonly instrumentationName: string;
  enable(): void;
  disable(): void;
}
