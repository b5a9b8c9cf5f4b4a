import type { TextMapPropagator } from '@opentelemetry/api';
import type { Actor } from '../attribution/attribution.js';
import {
  type ActivePolicy,
  activePolicy,
  type PolicyOptions,
  usePolicy,
} from '../attribution/policy/active.js';
import type { PolicyEngine } from '../attribution/policy/engine.js';
import { DEFAULT_STORE, ENV } from '../config/env.js';
import { policyOptionsFromEnv } from '../config/policy-env.js';
import type { SigningKey } from '../keys/keys.js';
import type {
  LogRecordExporter,
  Sampler,
  ShutdownLoggerProvider,
  SpanProcessor,
} from '../otel/sdk-interfaces.js';
import { traceSdk, w3cPropagator } from '../otel/sdk-loader.js';
import { AuditLogExporter, createAuditLoggerProvider } from '../otlp/audit-log-exporter.js';
import type { AuditLogFormat } from '../otlp/log-record.js';
import { AttributionSpanProcessor } from '../pipeline/attribution-span-processor.js';
import { AuditAwareSampler } from '../pipeline/audit-aware-sampler.js';
import { AuditSpanProcessor, type AuditSpanProcessorOptions } from '../pipeline/audit-span-processor.js';
import { shadowPolicy } from '../pipeline/policy-shadow.js';
import type { AttributionPropagator } from '../propagation/attribution-propagator.js';
import {
  attributionPropagatorFrom,
  type PropagationKeyOptions,
  resolveSigningKey,
} from '../propagation/from-options.js';
import { InboundBaggagePropagator } from '../propagation/inbound-baggage-propagator.js';
import type { AuditStore } from '../stores/audit-store.js';
import { createAuditStore } from '../stores/open.js';
import { otlpTargetFromEnv } from './otlp-env.js';
import { startupCheckSpans } from './startup-checks.js';

/** Options of {@link createOnbehalf}; every one defaults from the environment. */
export interface OnbehalfComponentOptions extends PropagationKeyOptions {
  /** `service.name` of this process; `OTEL_SERVICE_NAME` by default. */
  serviceName?: string;
  /** This process's own actor; `ONBEHALF_AGENT_ID` / `_NAME` / `_OWNER` by default. */
  defaultActor?: Actor;
  /** Also write the principal to `enduser.id` (deprecated in semantic conventions 1.45); `user.id` always is. */
  mirrorEnduserId?: boolean;
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
  /**
   * The policy `audited()` decides with and framework tool calls are shadow-evaluated against
   * (docs/policy.md): a Cedar file (and schema) with an approver, or an engine. `ONBEHALF_POLICY`,
   * `ONBEHALF_POLICY_SCHEMA` and `ONBEHALF_APPROVALS_DIR` by default; `false` for none. Made the
   * process's policy until `shutdown()`.
   */
  policy?: PolicyOptions | PolicyEngine | false;
  /** Environment to read defaults from; `process.env` by default. */
  env?: Record<string, string | undefined>;
}

/** What one process's audit run has counted so far: the exit summary's numbers. */
export interface OnbehalfCounts {
  /** Spans that reached onbehalf's attribution processor. */
  readonly spans: number;
  /** Audit events committed to the store. */
  readonly stored: number;
  /** Audit events lost (each one counted in a gap record, or reported when even that failed). */
  readonly lost: number;
  /** Where the audit events went; undefined without a store. */
  readonly store: string | undefined;
}

/**
 * onbehalf's parts, for an application that runs its own OpenTelemetry SDK (`new NodeSDK(...)`,
 * `@vercel/otel`'s `registerOTel`, a Langfuse setup): plug them in and onbehalf records through it.
 */
export interface OnbehalfComponents {
  /** Stamps attribution on every span at start. */
  readonly attributionProcessor: AttributionSpanProcessor;
  /** Writes audit-relevant spans to the store; undefined when `store: false`. */
  readonly auditProcessor: AuditSpanProcessor | undefined;
  /**
   * onbehalf's span processors in the order they MUST run (attribution, then audit). Put them before
   * the application's own processors and exporters, so those see the attribution too.
   */
  readonly spanProcessors: readonly SpanProcessor[];
  /** Carries attribution to and from other processes (signed with `signingKey`, checked against `trustedKeys`). */
  readonly attributionPropagator: AttributionPropagator;
  /** W3C trace context, W3C baggage and attribution, as one propagator. */
  readonly propagator: TextMapPropagator;
  /**
   * The sampler to install: `delegate` (default `ParentBased(AlwaysOn)`) decides what is exported, and
   * no audit-relevant span is sampled away from the store.
   */
  sampler(delegate?: Sampler): Sampler;
  /** The audit store; undefined when `store: false`. */
  readonly store: AuditStore | undefined;
  /** Carries audit events and checkpoints as OTLP logs; undefined when `auditLogs` is off. */
  readonly auditLoggerProvider: ShutdownLoggerProvider | undefined;
  /** `service.name` the components were made for. */
  readonly serviceName: string | undefined;
  /** What has been counted so far. */
  counts(): OnbehalfCounts;
  /**
   * Flushes the audit queue, closes the store, then sends the last audit log records. Call it after
   * (or instead of) the SDK's own shutdown; calling both is safe.
   */
  shutdown(): Promise<void>;
}

/**
 * onbehalf's processors, sampler and propagator, for an OpenTelemetry SDK you start yourself.
 *
 * @example
 * const onbehalf = createOnbehalf({ serviceName: 'inbox-agent' });
 * const sdk = new NodeSDK({
 *   spanProcessors: [...onbehalf.spanProcessors, new BatchSpanProcessor(new OTLPTraceExporter())],
 *   sampler: onbehalf.sampler(),
 *   textMapPropagator: onbehalf.propagator,
 * });
 * sdk.start();
 * // … on exit: await sdk.shutdown(); await onbehalf.shutdown();
 */
export function createOnbehalf(options: OnbehalfComponentOptions = {}): OnbehalfComponents {
  const env = options.env ?? process.env;
  const attributionProcessor = new AttributionSpanProcessor({
    defaultActor: options.defaultActor,
    mirrorEnduserId: options.mirrorEnduserId,
    env,
  });
  // Before anything starts: a broken key file fails start-up rather than running unsigned.
  const signingKey = resolveSigningKey(options, env);
  const attributionPropagator = attributionPropagatorFrom(
    options,
    env,
    signingKey,
    attributionProcessor.defaultAttribution,
  );
  // A policy file that does not parse fails start-up, naming the file and line.
  const policy = resolvePolicy(options, env);
  const store = resolveStore(options, env, signingKey);
  const shadow = policy?.shadow ? shadowPolicy(policy.engine) : undefined;
  const auditProcessor = store
    ? new AuditSpanProcessor({ commit: commitFrom(env), shadowPolicy: shadow, ...options.audit, store })
    : undefined;
  const serviceName = options.serviceName ?? env.OTEL_SERVICE_NAME ?? attributionProcessor.actor?.name;
  const auditLoggerProvider = store ? startAuditLogs(options, env, store, serviceName) : undefined;
  // Attribution is stamped first, so the audit processor's `started` records already carry it.
  const spanProcessors: SpanProcessor[] = auditProcessor
    ? [attributionProcessor, auditProcessor]
    : [attributionProcessor];

  let stopping: Promise<void> | undefined;
  return {
    attributionProcessor,
    auditProcessor,
    spanProcessors,
    attributionPropagator,
    propagator: w3cPropagator([attributionPropagator], new InboundBaggagePropagator()),
    sampler(delegate?: Sampler): Sampler {
      const sampler = delegate ?? defaultSampler();
      return auditProcessor ? new AuditAwareSampler(sampler) : sampler;
    },
    store,
    auditLoggerProvider,
    serviceName,
    counts: () => ({
      // The start-up check's own span is not the app's: a broken setup must still say "0 spans seen".
      spans: attributionProcessor.stats.seen - startupCheckSpans(attributionProcessor),
      stored: auditProcessor?.stats.stored ?? 0,
      lost: auditProcessor?.stats.lost ?? 0,
      store: store?.location,
    }),
    shutdown() {
      stopping ??= (async () => {
        await auditProcessor?.shutdown();
        if (policy && activePolicy() === policy) usePolicy(false);
        // After the store closed: its last checkpoint goes out too.
        await auditLoggerProvider?.shutdown();
      })();
      return stopping;
    },
  };
}

/** `ParentBased(AlwaysOn)`, the SDK's own default, from the SDK the application runs. */
export function defaultSampler(): Sampler {
  const { ParentBasedSampler, AlwaysOnSampler } = traceSdk();
  return new ParentBasedSampler({ root: new AlwaysOnSampler() });
}

function startAuditLogs(
  options: OnbehalfComponentOptions,
  env: Record<string, string | undefined>,
  store: AuditStore,
  serviceName: string | undefined,
): ShutdownLoggerProvider | undefined {
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
  options: OnbehalfComponentOptions,
  env: Record<string, string | undefined>,
  signingKey: SigningKey | undefined,
): AuditStore | undefined {
  if (options.store === false) return undefined;
  if (options.store && typeof options.store !== 'string') return options.store;
  const location = options.store ?? (env[ENV.store]?.trim() || DEFAULT_STORE);
  const durability = options.durability ?? (env[ENV.durability] === 'strict' ? 'strict' : 'normal');
  return createAuditStore(location, { durability, signingKey });
}

function resolvePolicy(
  options: OnbehalfComponentOptions,
  env: Record<string, string | undefined>,
): ActivePolicy | undefined {
  if (options.policy === false) return undefined;
  const given = options.policy ?? policyOptionsFromEnv(env);
  return given ? usePolicy(given) : undefined;
}

function commitFrom(env: Record<string, string | undefined>): AuditSpanProcessorOptions['commit'] {
  const mode = env[ENV.commit];
  return mode === 'group' || mode === 'turn' || mode === 'per-event' ? mode : undefined;
}
