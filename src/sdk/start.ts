import { type TextMapPropagator, trace } from '@opentelemetry/api';
import { frameworkInstrumentations } from '../integrations/frameworks.js';
import type { Instrumentation, Sampler, SpanExporter, SpanProcessor } from '../otel/sdk-interfaces.js';
import { nodeSdk, otlpTraceExporter, requireOwn, traceSdk, w3cPropagator } from '../otel/sdk-loader.js';
import { createOnbehalf, type OnbehalfComponentOptions, type OnbehalfComponents } from './components.js';
import { otlpTargetFromEnv } from './otlp-env.js';

export type { Instrumentation } from '../otel/sdk-interfaces.js';

import { flushProblemRepeats, reportProblem } from '../metrics/problem-channel.js';
import { observeOnbehalfMetrics } from '../metrics/self-metrics.js';
import { InboundBaggagePropagator } from '../propagation/inbound-baggage-propagator.js';
import { checkSpansReachOnbehalf } from './startup-checks.js';

/** Options of {@link startOnbehalf}; every one defaults from the environment. */
export interface OnbehalfOptions extends OnbehalfComponentOptions {
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
  /**
   * Replaces the default instrumentations: `http`, `undici`/`fetch`, and the agent frameworks onbehalf
   * knows (LangChain.js/LangGraph.js tools, the MCP SDK), each only when the app loads it.
   */
  instrumentations?: Instrumentation[];
  /** More propagators, after W3C trace context and baggage and before onbehalf's attribution. */
  propagators?: TextMapPropagator[];
}

/** The NodeSDK {@link startOnbehalf} started. */
export interface StartedSdk {
  /** Flushes and stops the SDK's pipelines; {@link OnbehalfHandle.shutdown} calls it. */
  shutdown(): Promise<void>;
}

/** What {@link startOnbehalf} started; `shutdown()` flushes telemetry and closes the store. */
export interface OnbehalfHandle extends OnbehalfComponents {
  /** The NodeSDK it started. */
  readonly sdk: StartedSdk;
  /**
   * Why spans cannot reach onbehalf, when start-up found a reason (a second `@opentelemetry/api` copy,
   * another tracer provider registered first, no context manager); also printed once as a warning.
   */
  readonly problem: string | undefined;
}

/**
 * Starts the OpenTelemetry NodeSDK with attribution: the {@link AttributionSpanProcessor}, W3C trace
 * context + baggage propagation, `http`/`fetch` auto-instrumentation and the OTLP/HTTP trace exporter.
 * It then checks that spans reach onbehalf, and says at once, in one line, why when they cannot.
 *
 * An application that runs its own SDK uses {@link createOnbehalf} instead.
 *
 * @example
 * const onbehalf = startOnbehalf({ serviceName: 'inbox-agent' });
 * // … run the agent …
 * await onbehalf.shutdown();
 */
export function startOnbehalf(options: OnbehalfOptions = {}): OnbehalfHandle {
  const env = options.env ?? process.env;
  const parts = createOnbehalf(options);
  const spanProcessors: SpanProcessor[] = [...parts.spanProcessors];
  const exporter = options.traceExporter ?? defaultTraceExporter(env);
  if (exporter) spanProcessors.push(new (traceSdk().BatchSpanProcessor)({ exporter: exporter as never }));
  spanProcessors.push(...(options.spanProcessors ?? []));

  const { NodeSDK } = nodeSdk();
  const sdk = new NodeSDK({
    serviceName: parts.serviceName,
    spanProcessors: spanProcessors as never,
    sampler: parts.sampler(options.sampler) as never,
    // NodeSDK would otherwise start OTLP metric and log exporters nobody asked for.
    metricReaders: env.OTEL_METRICS_EXPORTER ? undefined : [],
    logRecordProcessors: env.OTEL_LOGS_EXPORTER ? undefined : [],
    // Attribution last: its extract removes inbound attribution.* entries from whatever baggage the
    // others extracted, and its inject writes the baggage header they wrote with its entries first.
    textMapPropagator: w3cPropagator(
      [...(options.propagators ?? []), parts.attributionPropagator],
      new InboundBaggagePropagator(),
    ),
    instrumentations: (options.instrumentations ?? [
      ...defaultInstrumentations(),
      ...frameworkInstrumentations(),
    ]) as never,
  });
  sdk.start();
  // The SDK may have registered a MeterProvider (OTEL_METRICS_EXPORTER): onbehalf's own metrics go there.
  observeOnbehalfMetrics();
  const problem = parts.auditProcessor ? checkSpansReachOnbehalf(parts) : undefined;

  let stopping: Promise<void> | undefined;
  return {
    ...parts,
    sdk,
    problem,
    shutdown() {
      // Flush first: a SimpleSpanProcessor still waiting for async resource attributes would
      // otherwise find its exporter already shut down and drop the last spans.
      stopping ??= flushTracerProvider()
        .then(() => sdk.shutdown())
        .then(() => parts.shutdown())
        .catch((err: unknown) =>
          reportProblem({
            code: 'sdk.shutdown_failed',
            component: 'sdk',
            message: 'shutdown failed',
            cause: err,
          }),
        )
        .finally(flushProblemRepeats);
      return stopping;
    },
  };
}

function defaultInstrumentations(): Instrumentation[] {
  const { HttpInstrumentation } = requireOwn<{ HttpInstrumentation: new () => Instrumentation }>(
    '@opentelemetry/instrumentation-http',
  );
  const { UndiciInstrumentation } = requireOwn<{ UndiciInstrumentation: new () => Instrumentation }>(
    '@opentelemetry/instrumentation-undici',
  );
  return [new HttpInstrumentation(), new UndiciInstrumentation()];
}

function defaultTraceExporter(env: Record<string, string | undefined>): SpanExporter | undefined {
  if (env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const target = otlpTargetFromEnv(env, 'traces');
  return target ? new (otlpTraceExporter())(target) : undefined;
}

async function flushTracerProvider(): Promise<void> {
  const proxy = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const provider = (proxy.getDelegate?.() ?? proxy) as { forceFlush?: () => Promise<void> };
  await provider.forceFlush?.();
}
