// Where onbehalf finds the OpenTelemetry SDK. onbehalf supports two SDK lines: OpenTelemetry JS 2.x
// (`@opentelemetry/sdk-node` 0.2xx, `sdk-logs` 0.2xx) and 3.x (`sdk-node` 0.30x, `sdk-logs` 3.x).
// Its one SDK dependency is `@opentelemetry/sdk-node`, and every other SDK package is taken from
// where that sdk-node resolves its own dependencies. So onbehalf runs on the SDK
// the application already has (npm reuses the application's sdk-node when it satisfies onbehalf's
// range) and never installs a second copy of core, resources or the trace SDK beside it.
//
// Modules load on first use (synchronously, through their CommonJS builds), so importing onbehalf's
// processors loads no SDK, exporter or instrumentation.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { TextMapPropagator } from '@opentelemetry/api';
import type { SpanExporter } from './sdk-interfaces.js';

const requireHere = createRequire(import.meta.url);
let requireFromSdkNode: NodeJS.Require | undefined;

/** `require` as `@opentelemetry/sdk-node` itself resolves its dependencies. */
function sdkNodeRequire(): NodeJS.Require {
  requireFromSdkNode ??= createRequire(requireHere.resolve('@opentelemetry/sdk-node'));
  return requireFromSdkNode;
}

function fromSdkNode<T>(id: string): T {
  return sdkNodeRequire()(id) as T;
}

function once<T>(load: () => T): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
}

/**
 * `@opentelemetry/sdk-trace`: the trace SDK of both lines (2.x builds `sdk-trace-base` on it; 3.x has
 * only it), with options-object constructors.
 */
export const traceSdk = once(() =>
  fromSdkNode<typeof import('@opentelemetry/sdk-trace')>('@opentelemetry/sdk-trace'),
);

/**
 * `@opentelemetry/instrumentation`: the copy sdk-node's own instrumentations use, whose loader hook
 * register installs (a second copy would patch nothing in ESM apps).
 */
export const instrumentationSdk = once(() =>
  fromSdkNode<typeof import('@opentelemetry/instrumentation')>('@opentelemetry/instrumentation'),
);

/** `@opentelemetry/sdk-node` itself. */
export const nodeSdk = once(() =>
  fromSdkNode<typeof import('@opentelemetry/sdk-node')>('@opentelemetry/sdk-node'),
);

/** `@opentelemetry/core`: propagators, tracing suppression, W3C parsers. */
export const coreSdk = once(() => fromSdkNode<typeof import('@opentelemetry/core')>('@opentelemetry/core'));

/** `@opentelemetry/resources`. */
export const resourcesSdk = once(() =>
  fromSdkNode<typeof import('@opentelemetry/resources')>('@opentelemetry/resources'),
);

/** `@opentelemetry/sdk-logs`. */
export const logsSdk = once(() =>
  fromSdkNode<typeof import('@opentelemetry/sdk-logs')>('@opentelemetry/sdk-logs'),
);

/** The OTLP/HTTP (protobuf) trace exporter. */
export const otlpTraceExporter = once(
  () =>
    fromSdkNode<{
      OTLPTraceExporter: new (config: { url?: string; headers?: Record<string, string> }) => SpanExporter;
    }>('@opentelemetry/exporter-trace-otlp-proto').OTLPTraceExporter,
);

/** The OTLP/HTTP (protobuf) log exporter. */
export const otlpLogExporter = once(
  () =>
    fromSdkNode<typeof import('@opentelemetry/exporter-logs-otlp-proto')>(
      '@opentelemetry/exporter-logs-otlp-proto',
    ).OTLPLogExporter,
);

/**
 * `require` as the OTLP log exporter resolves its own dependencies (`otlp-exporter-base`,
 * `otlp-transformer`): the copies its `OTLPLogExporter` is built from.
 */
export const otlpLogExporterRequire = once(() =>
  createRequire(sdkNodeRequire().resolve('@opentelemetry/exporter-logs-otlp-proto')),
);

/**
 * W3C trace context + baggage, then `extra`, as one propagator. `baggage` replaces core's baggage
 * propagator (one that reads the header as core does, through a cache).
 */
export function w3cPropagator(extra: TextMapPropagator[], baggage?: TextMapPropagator): TextMapPropagator {
  const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } = coreSdk();
  return new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), baggage ?? new W3CBaggagePropagator(), ...extra],
  });
}

/** Loads one of onbehalf's own dependencies (the default instrumentations) on first use. */
export function requireOwn<T>(id: string): T {
  return requireHere(id) as T;
}

/** The `@opentelemetry/instrumentation` ESM loader hook of the same copy sdk-node's instrumentations use. */
export function instrumentationHookUrl(): string {
  return pathToFileURL(sdkNodeRequire().resolve('@opentelemetry/instrumentation/hook.mjs')).href;
}
