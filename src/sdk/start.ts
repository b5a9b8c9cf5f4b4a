import { diag, type TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Actor } from '../context/attribution.js';
import { AttributionSpanProcessor } from '../processor/attribution-span-processor.js';
import type { AttributionPropagator } from '../propagation/attribution-propagator.js';
import { attributionPropagatorFrom, type PropagationKeyOptions } from '../propagation/from-options.js';

/** Options of {@link startOnbehalf}; every one defaults from the environment. */
export interface OnbehalfOptions extends PropagationKeyOptions {
  /** `service.name` of this process; `OTEL_SERVICE_NAME` by default. */
  serviceName?: string;
  /** This process's own actor; `ONBEHALF_AGENT_ID` / `_NAME` / `_OWNER` by default. */
  defaultActor?: Actor;
  /** Mirror the principal to `user.id` too. */
  mirrorUserId?: boolean;
  /**
   * Where the normal trace pipeline goes. Default: OTLP/HTTP (protobuf) when
   * `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, otherwise none.
   * `false` turns it off.
   */
  traceExporter?: SpanExporter | false;
  /** More span processors, run after onbehalf's own. */
  spanProcessors?: SpanProcessor[];
  /** The sampler of the normal pipeline; `ParentBased(AlwaysOn)` by default. */
  sampler?: Sampler;
  /** Replaces the default instrumentations (`http` and `undici`/`fetch`). */
  instrumentations?: Instrumentation[];
  /** More propagators, after W3C trace context and baggage. */
  propagators?: TextMapPropagator[];
  /** Environment to read defaults from; `process.env` by default. */
  env?: Record<string, string | undefined>;
}

/** What {@link startOnbehalf} started; `shutdown()` flushes telemetry and closes the store. */
export interface OnbehalfHandle {
  readonly sdk: NodeSDK;
  readonly attributionProcessor: AttributionSpanProcessor;
  /** Carries attribution to and from other processes (signed with `signingKey`, checked against `trustedKeys`). */
  readonly attributionPropagator: AttributionPropagator;
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry NodeSDK with attribution: the {@link AttributionSpanProcessor}, W3C trace
 * context + baggage propagation, `http`/`fetch` auto-instrumentation and the OTLP/HTTP trace exporter.
 *
 * @example
 * const onbehalf = startOnbehalf({ serviceName: 'inbox-agent' });
 * // … run the agent …
 * await onbehalf.shutdown();
 */
export function startOnbehalf(options: OnbehalfOptions = {}): OnbehalfHandle {
  const env = options.env ?? process.env;
  const attributionProcessor = new AttributionSpanProcessor({
    defaultActor: options.defaultActor,
    mirrorUserId: options.mirrorUserId,
    env,
  });
  // Before anything starts: a broken key file fails start-up rather than running unsigned.
  const attributionPropagator = attributionPropagatorFrom(options, env);
  const spanProcessors: SpanProcessor[] = [attributionProcessor];
  const exporter = options.traceExporter ?? defaultTraceExporter(env);
  if (exporter) spanProcessors.push(new BatchSpanProcessor(exporter));
  spanProcessors.push(...(options.spanProcessors ?? []));

  const sdk = new NodeSDK({
    serviceName: options.serviceName ?? env.OTEL_SERVICE_NAME ?? attributionProcessor.actor?.name,
    spanProcessors,
    sampler: options.sampler ?? new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    textMapPropagator: new CompositePropagator({
      propagators: [
        new W3CTraceContextPropagator(),
        new W3CBaggagePropagator(),
        attributionPropagator,
        ...(options.propagators ?? []),
      ],
    }),
    instrumentations: options.instrumentations ?? [new HttpInstrumentation(), new UndiciInstrumentation()],
  });
  sdk.start();

  let stopping: Promise<void> | undefined;
  return {
    sdk,
    attributionProcessor,
    attributionPropagator,
    shutdown() {
      stopping ??= sdk.shutdown().catch((err: unknown) => diag.error('onbehalf: shutdown failed', err));
      return stopping;
    },
  };
}

function defaultTraceExporter(env: Record<string, string | undefined>): SpanExporter | undefined {
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
    return new OTLPTraceExporter();
  return undefined;
}
