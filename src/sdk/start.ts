import { diag, type TextMapPropagator, trace } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import type { LogRecordExporter, LoggerProvider as SdkLoggerProvider } from '@opentelemetry/sdk-logs';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { AuditSpanProcessor, type AuditSpanProcessorOptions } from '../audit/audit-span-processor.js';
import { DEFAULT_STORE, ENV } from '../config/env.js';
import type { Actor } from '../context/attribution.js';
import type { SigningKey } from '../keys/keys.js';
import { AuditLogExporter, createAuditLoggerProvider } from '../otlp/audit-log-exporter.js';
import type { AuditLogFormat } from '../otlp/log-record.js';
import { AttributionSpanProcessor } from '../processor/attribution-span-processor.js';
import { AuditAwareSampler } from '../processor/audit-aware-sampler.js';
import type { AttributionPropagator } from '../propagation/attribution-propagator.js';
import {
  attributionPropagatorFrom,
  type PropagationKeyOptions,
  resolveSigningKey,
} from '../propagation/from-options.js';
import type { AuditStore } from '../stores/audit-store.js';
import { createAuditStore } from '../stores/open.js';
import { otlpTargetFromEnv } from './otlp-env.js';

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
  /** More propagators, after W3C trace context and baggage and before onbehalf's attribution. */
  propagators?: TextMapPropagator[];
  /**
   * The audit store: a store, a file path (SQLite), a `postgres://` URL, or `false` for none.
   * `ONBEHALF_STORE`, else `./onbehalf-audit.db`, by default.
   */
  store?: AuditStore | string | false;
  /** `normal` (default) or `strict` (SQLite `synchronous=FULL`); `ONBEHALF_DURABILITY` by default. */
  durability?: 'normal' | 'strict';
  /** Options of the {@link AuditSpanProcessor} (commit mode, queue size, audit predicate, redaction…). */
  audit?: Omit<AuditSpanProcessorOptions, 'store'>;
  /**
   * Audit events and signed checkpoints also as OTLP log records, for a Collector to forward to a SIEM:
   * `true` (OTLP/HTTP protobuf to the `OTEL_EXPORTER_OTLP_*` endpoint), an exporter, or
   * `{ exporter?, format? }` (`format: 'ocsf'` writes OCSF API Activity bodies). Default: on when
   * `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` is set (and `OTEL_LOGS_EXPORTER`
   * is not `none`); `false` turns it off.
   */
  auditLogs?: boolean | LogRecordExporter | { exporter?: LogRecordExporter; format?: AuditLogFormat };
  /** Environment to read defaults from; `process.env` by default. */
  env?: Record<string, string | undefined>;
}

/** What {@link startOnbehalf} started; `shutdown()` flushes telemetry and closes the store. */
export interface OnbehalfHandle {
  readonly sdk: NodeSDK;
  readonly attributionProcessor: AttributionSpanProcessor;
  /** Carries attribution to and from other processes (signed with `signingKey`, checked against `trustedKeys`). */
  readonly attributionPropagator: AttributionPropagator;
  /** Writes audit-relevant spans to the store; undefined when `store: false`. */
  readonly auditProcessor: AuditSpanProcessor | undefined;
  /** The audit store; undefined when `store: false`. */
  readonly store: AuditStore | undefined;
  /** Carries audit events and checkpoints as OTLP logs; undefined when `auditLogs` is off. */
  readonly auditLoggerProvider: SdkLoggerProvider | undefined;
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
  const signingKey = resolveSigningKey(options, env);
  const attributionPropagator = attributionPropagatorFrom(options, env, signingKey);
  const store = resolveStore(options, env, signingKey);
  const auditProcessor = store
    ? new AuditSpanProcessor({ commit: commitFrom(env), ...options.audit, store })
    : undefined;
  const serviceName = options.serviceName ?? env.OTEL_SERVICE_NAME ?? attributionProcessor.actor?.name;
  const auditLoggerProvider = store ? startAuditLogs(options, env, store, serviceName) : undefined;
  // Attribution is stamped first, so the audit processor's `started` records already carry it.
  const spanProcessors: SpanProcessor[] = [attributionProcessor];
  if (auditProcessor) spanProcessors.push(auditProcessor);
  const exporter = options.traceExporter ?? defaultTraceExporter(env);
  if (exporter) spanProcessors.push(new BatchSpanProcessor(exporter));
  spanProcessors.push(...(options.spanProcessors ?? []));

  const sampler = options.sampler ?? new ParentBasedSampler({ root: new AlwaysOnSampler() });
  const sdk = new NodeSDK({
    serviceName,
    spanProcessors,
    sampler: auditProcessor ? new AuditAwareSampler(sampler) : sampler,
    // NodeSDK would otherwise start OTLP metric and log exporters nobody asked for.
    metricReaders: env.OTEL_METRICS_EXPORTER ? undefined : [],
    logRecordProcessors: env.OTEL_LOGS_EXPORTER ? undefined : [],
    textMapPropagator: new CompositePropagator({
      // Attribution last: its extract removes inbound attribution.* entries from whatever baggage the
      // others extracted, and its inject writes the baggage header they wrote with its entries first.
      propagators: [
        new W3CTraceContextPropagator(),
        new W3CBaggagePropagator(),
        ...(options.propagators ?? []),
        attributionPropagator,
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
    auditProcessor,
    store,
    auditLoggerProvider,
    shutdown() {
      // Flush first: a SimpleSpanProcessor still waiting for async resource attributes would
      // otherwise find its exporter already shut down and drop the last spans.
      stopping ??= flushTracerProvider()
        .then(() => sdk.shutdown())
        // After the store closed: its last checkpoint goes out too.
        .then(() => auditLoggerProvider?.shutdown())
        .catch((err: unknown) => diag.error('onbehalf: shutdown failed', err));
      return stopping;
    },
  };
}

function defaultTraceExporter(env: Record<string, string | undefined>): SpanExporter | undefined {
  if (env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const target = otlpTargetFromEnv(env, 'traces');
  return target ? new OTLPTraceExporter(target) : undefined;
}

async function flushTracerProvider(): Promise<void> {
  const proxy = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const provider = (proxy.getDelegate?.() ?? proxy) as { forceFlush?: () => Promise<void> };
  await provider.forceFlush?.();
}

function startAuditLogs(
  options: OnbehalfOptions,
  env: Record<string, string | undefined>,
  store: AuditStore,
  serviceName: string | undefined,
): SdkLoggerProvider | undefined {
  const given = options.auditLogs;
  const target = otlpTargetFromEnv(env, 'logs');
  if (given === false) return undefined;
  if (given === undefined && (target === undefined || env.OTEL_LOGS_EXPORTER === 'none')) return undefined;
  const settings =
    given === true || given === undefined ? {} : 'export' in given ? { exporter: given } : given;
  const provider = createAuditLoggerProvider({
    exporter: settings.exporter,
    url: target?.url,
    headers: target?.headers,
    serviceName,
  });
  new AuditLogExporter({ loggerProvider: provider, format: settings.format }).attach(store);
  return provider;
}

function resolveStore(
  options: OnbehalfOptions,
  env: Record<string, string | undefined>,
  signingKey: SigningKey | undefined,
): AuditStore | undefined {
  if (options.store === false) return undefined;
  if (options.store && typeof options.store !== 'string') return options.store;
  const location = options.store ?? (env[ENV.store]?.trim() || DEFAULT_STORE);
  const durability = options.durability ?? (env[ENV.durability] === 'strict' ? 'strict' : 'normal');
  return createAuditStore(location, { durability, signingKey });
}

function commitFrom(env: Record<string, string | undefined>): AuditSpanProcessorOptions['commit'] {
  return env[ENV.commit] === 'group' ? 'group' : undefined;
}
