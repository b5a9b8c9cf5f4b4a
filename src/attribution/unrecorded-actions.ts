/**
 * Actions that ran where no audit pipeline could record them: `audited()` with no SDK, before
 * `startOnbehalf`, after `shutdown()`, under `suppressTracing`, or with a sampler that records nothing.
 * The action still runs (telemetry never breaks the host), and it is counted here; the next audit
 * processor that starts, or the one running now, writes them as a gap record (docs/trust-model.md).
 * The state lives on `globalThis` so that two copies of onbehalf in one process share it.
 */
import type { Context } from '@opentelemetry/api';
import { reportProblem } from '../metrics/problem-channel.js';
import { coreSdk } from '../otel/sdk-loader.js';

/** Actions noted and not yet written as a gap. */
export interface UnrecordedActions {
  count: number;
  reasons: Set<string>;
  /** ISO times of the first and last. */
  from: string;
  to: string;
}

interface State {
  pending: UnrecordedActions | undefined;
  /** Every action noted since the process started, written or not. */
  total: number;
  /** Unused since the problem channel tells each reason once; kept for a second copy's sake. */
  warned: Set<string>;
  /** The running audit processor's wake-up, which takes them into its next batch. */
  writer: (() => void) | undefined;
}

const KEY = Symbol.for('onbehalf.unrecorded-actions');

function state(): State {
  const g = globalThis as { [KEY]?: State };
  g[KEY] ??= { pending: undefined, total: 0, warned: new Set(), writer: undefined };
  return g[KEY];
}

/** Counts an action that no audit pipeline recorded, and reports it (the channel tells each reason once). */
export function noteUnrecordedAction(action: string, reason: string, at = new Date().toISOString()): void {
  const s = state();
  s.total++;
  s.pending ??= { count: 0, reasons: new Set(), from: at, to: at };
  s.pending.count++;
  s.pending.reasons.add(reason);
  if (at < s.pending.from) s.pending.from = at;
  if (at > s.pending.to) s.pending.to = at;
  reportProblem({
    code: 'audit.unrecorded',
    component: 'audited',
    message: `audited action was not recorded (${reason}); the next audit writer records a gap for it`,
    detail: `action ${JSON.stringify(action)}`,
  });
  try {
    s.writer?.();
  } catch {
    // The writer's failure is its own to report; the count stays pending.
  }
}

/** Why a span of an audited action is not recording, as its gap record says it. */
export function unrecordedReason(ctx: Context): string {
  return coreSdk().isTracingSuppressed(ctx)
    ? 'tracing suppressed'
    : 'no recording tracer (no SDK, not started, shut down, or not sampled)';
}

/** Takes the actions noted so far, for a gap record; the caller now owns writing them. */
export function takeUnrecordedActions(): UnrecordedActions | undefined {
  const s = state();
  const pending = s.pending;
  s.pending = undefined;
  return pending;
}

/** Puts actions back (their gap record could not be kept), for the next writer. */
export function returnUnrecordedActions(actions: UnrecordedActions): void {
  const s = state();
  if (!s.pending) s.pending = actions;
  else {
    s.pending.count += actions.count;
    for (const r of actions.reasons) s.pending.reasons.add(r);
    if (actions.from < s.pending.from) s.pending.from = actions.from;
    if (actions.to > s.pending.to) s.pending.to = actions.to;
  }
}

/** How many actions are waiting for a gap record, and how many were noted in all. */
export function unrecordedActionStats(): { pending: number; total: number } {
  const s = state();
  return { pending: s.pending?.count ?? 0, total: s.total };
}

/** Makes `wake` the writer told of new unrecorded actions; returns a function that unregisters it. */
export function registerUnrecordedWriter(wake: () => void): () => void {
  const s = state();
  s.writer = wake;
  return () => {
    if (s.writer === wake) s.writer = undefined;
  };
}
