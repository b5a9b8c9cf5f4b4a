// onbehalf's own health as OpenTelemetry metrics: events stored and lost, gap records, store errors,
// and inbound attribution tokens by verification result. Each is an asynchronous (observable) counter
// read from the `stats` objects the processors and propagators already keep, so there is one count of
// each thing and the metrics never disagree with `stats` or the exit summary.
//
// Through @opentelemetry/api's global MeterProvider: a no-op until the app (or the SDK started with
// OTEL_METRICS_EXPORTER) registers one. The API has no proxy meter, so a provider registered after
// onbehalf started is picked up when `observeOnbehalfMetrics()` is called again (startOnbehalf calls it
// once its SDK has started).
//
// The names and attributes are defined in conventions/registry.yaml (conventions/attributes.md,
// "Metrics"); the short names below are the ones onbehalf/sdk has always exported.
import { type Meter, type MeterProvider, metrics, type ObservableResult } from '@opentelemetry/api';
import {
  ATTR_ONBEHALF_ATTRIBUTION_TOKEN_REASON,
  ATTR_ONBEHALF_ATTRIBUTION_TOKEN_RESULT,
  ATTR_ONBEHALF_PROBLEM_CODE,
  METRIC_ONBEHALF_ATTRIBUTION_TOKENS,
  METRIC_ONBEHALF_AUDIT_EVENTS_LOST,
  METRIC_ONBEHALF_AUDIT_EVENTS_STORED,
  METRIC_ONBEHALF_AUDIT_GAP_RECORDS,
  METRIC_ONBEHALF_AUDIT_STORE_ERRORS,
  METRIC_ONBEHALF_PROBLEMS,
  ONBEHALF_ATTRIBUTION_TOKEN_RESULT_VALUE_REJECTED,
  ONBEHALF_ATTRIBUTION_TOKEN_RESULT_VALUE_VERIFIED,
} from '../conventions/generated.js';
import { problemCounts } from './problem-channel.js';

/** Metric names (unit `{event}`, `{record}`, `{error}`, `{token}`, `{problem}`; all monotonic sums). */
export const METRIC_EVENTS_STORED = METRIC_ONBEHALF_AUDIT_EVENTS_STORED;
export const METRIC_EVENTS_LOST = METRIC_ONBEHALF_AUDIT_EVENTS_LOST;
export const METRIC_GAP_RECORDS = METRIC_ONBEHALF_AUDIT_GAP_RECORDS;
export const METRIC_STORE_ERRORS = METRIC_ONBEHALF_AUDIT_STORE_ERRORS;
export const METRIC_TOKENS = METRIC_ONBEHALF_ATTRIBUTION_TOKENS;
/** Every problem reported through onbehalf's problem channel, by {@link ATTR_PROBLEM_CODE}. */
export const METRIC_PROBLEMS = METRIC_ONBEHALF_PROBLEMS;
/** Attribute of {@link METRIC_TOKENS}: `verified` or `rejected`. */
export const ATTR_TOKEN_RESULT = ATTR_ONBEHALF_ATTRIBUTION_TOKEN_RESULT;
/** Attribute of {@link METRIC_TOKENS} for rejected tokens: the refusal reason (`expired`, `replay`, …). */
export const ATTR_TOKEN_REASON = ATTR_ONBEHALF_ATTRIBUTION_TOKEN_REASON;
/** Attribute of {@link METRIC_PROBLEMS}: the problem's code (`store.unwritable`, …). */
export const ATTR_PROBLEM_CODE = ATTR_ONBEHALF_PROBLEM_CODE;

/** The counts of an audit processor that become metrics. */
export interface AuditCounts {
  readonly stored: number;
  readonly lost: number;
  readonly gapRecords: number;
  readonly storeErrors: number;
}

/** The counts of an attribution propagator that become metrics. */
export interface TokenCounts {
  readonly verified: number;
  readonly rejected: Readonly<Record<string, number>>;
}

// Kept after a processor shuts down: a counter never goes back.
const audits = new Set<AuditCounts>();
const tokens = new Set<TokenCounts>();
let boundTo: MeterProvider | undefined;

/** Reports `stats` of an audit processor in onbehalf's metrics, from now on. */
export function observeAuditCounts(stats: AuditCounts): void {
  audits.add(stats);
  observeOnbehalfMetrics();
}

/** Reports `stats` of an attribution propagator in onbehalf's metrics, from now on. */
export function observeTokenCounts(stats: TokenCounts): void {
  tokens.add(stats);
  observeOnbehalfMetrics();
}

/**
 * Registers onbehalf's metrics with `provider` (the global MeterProvider by default), once per
 * provider. Call it after registering a MeterProvider that came after onbehalf started. Never throws.
 */
export function observeOnbehalfMetrics(provider: MeterProvider = metrics.getMeterProvider()): void {
  if (provider === boundTo) return;
  try {
    register(provider.getMeter('onbehalf'));
    boundTo = provider;
  } catch {
    // A faulty provider must not reach the host; the stats objects still count.
  }
}

function register(meter: Meter): void {
  const sum = (pick: (c: AuditCounts) => number) => (r: ObservableResult) => {
    let total = 0;
    for (const c of audits) total += pick(c);
    r.observe(total);
  };
  meter
    .createObservableCounter(METRIC_EVENTS_STORED, {
      unit: '{event}',
      description: 'Audit events committed to the store (gap records included).',
    })
    .addCallback(sum((c) => c.stored));
  meter
    .createObservableCounter(METRIC_EVENTS_LOST, {
      unit: '{event}',
      description: 'Audit events lost: queue full, store unwritable, or the process ended first.',
    })
    .addCallback(sum((c) => c.lost));
  meter
    .createObservableCounter(METRIC_GAP_RECORDS, {
      unit: '{record}',
      description: 'Gap records written for lost events.',
    })
    .addCallback(sum((c) => c.gapRecords));
  meter
    .createObservableCounter(METRIC_STORE_ERRORS, {
      unit: '{error}',
      description: 'Failed attempts to write to the audit store.',
    })
    .addCallback(sum((c) => c.storeErrors));
  meter
    .createObservableCounter(METRIC_TOKENS, {
      unit: '{token}',
      description: 'Inbound attribution tokens, by verification result.',
    })
    .addCallback((r) => {
      let verified = 0;
      const rejected = new Map<string, number>();
      for (const t of tokens) {
        verified += t.verified;
        for (const [reason, n] of Object.entries(t.rejected))
          rejected.set(reason, (rejected.get(reason) ?? 0) + n);
      }
      r.observe(verified, { [ATTR_TOKEN_RESULT]: ONBEHALF_ATTRIBUTION_TOKEN_RESULT_VALUE_VERIFIED });
      for (const [reason, n] of rejected)
        r.observe(n, {
          [ATTR_TOKEN_RESULT]: ONBEHALF_ATTRIBUTION_TOKEN_RESULT_VALUE_REJECTED,
          [ATTR_TOKEN_REASON]: reason,
        });
    });
  meter
    .createObservableCounter(METRIC_PROBLEMS, {
      unit: '{problem}',
      description: 'Operational problems onbehalf reported, every occurrence counted, repeats included.',
    })
    .addCallback((r) => {
      for (const [code, n] of Object.entries(problemCounts()))
        r.observe(n ?? 0, { [ATTR_PROBLEM_CODE]: code });
    });
}
