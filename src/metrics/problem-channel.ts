// The one channel onbehalf reports its own operational problems through: a store that cannot be
// written, a span that cannot be mapped, a key set that cannot be loaded. Every module calls
// `reportProblem()`; the channel counts each occurrence (problemCounts(), the `onbehalf.problems`
// metric), sends it to OpenTelemetry's `diag` and to subscribers, and, for the problems that mean the
// audit trail may be missing something, prints a process warning when nobody listens. Repeats of one
// identical problem are told once, then as "N more" every REPEAT_EVERY occurrences or REPEAT_MS, so
// a broken store does not flood the log while every occurrence is still counted. Never throws.
import { diag } from '@opentelemetry/api';
import type { OnbehalfErrorCode } from '../errors/onbehalf-error.js';
import { oneLine } from '../text/safe-text.js';

/**
 * onbehalf's operational problems, from a closed list: branch on the code, not on the message. Where
 * a problem is also an error onbehalf throws, the code is that {@link OnbehalfErrorCode}.
 */
export type OnbehalfProblemCode =
  /** Audit events could not be written to the store (or it could not be closed); they are retried or counted lost. */
  | 'store.unwritable'
  /** The store's connection failed outside a write (an idle PostgreSQL client errored). */
  | 'store.unusable'
  /** A key cannot be used: trusted keys could not be loaded, or a key is not bound to this host's origins. */
  | 'key.unusable'
  /** Audit events were lost (queue full, span ended after shutdown, process ended first); a gap record counts them. */
  | 'audit.events_lost'
  /** An audited action ran where no audit pipeline records it; the next writer records a gap for it. */
  | 'audit.unrecorded'
  /** A span could not be recognized, mapped or queued as an audit event, or its relevance is unknown. */
  | 'audit.unmapped'
  /** A checkpoint could not be signed or written; it is retried. */
  | 'checkpoint.failed'
  /** Attribution could not be stamped on a span; the span goes on unstamped. */
  | 'attribution.unstamped'
  /** Attribution could not be injected into or extracted from a carrier, or an inbound token was refused. */
  | 'propagation.failed'
  /** The shadow policy could not evaluate an action; the event is recorded without its shadow decision. */
  | 'policy.shadow_failed'
  /** A store listener (the OTLP log bridge, for one) threw; the committed append or checkpoint stands. */
  | 'listener.failed'
  /** An audit or checkpoint log record could not be emitted over OTLP, or the store cannot report appends. */
  | 'otlp.emit_failed'
  /** Shutting onbehalf's SDK down failed. */
  | 'sdk.shutdown_failed';

/** The codes that are also {@link OnbehalfErrorCode}s, spelled as there: this fails to compile if one drifts. */
export const CODES_SHARED_WITH_ERRORS: readonly (OnbehalfProblemCode & OnbehalfErrorCode)[] = [
  'store.unwritable',
  'store.unusable',
  'key.unusable',
];

/**
 * How each code is told: `error` or `warn` to `diag`; `loud` ones (the audit trail may miss something)
 * also become a process warning on stderr when no subscriber took them.
 */
const SEVERITY: Record<OnbehalfProblemCode, { level: 'error' | 'warn'; loud: boolean }> = {
  'store.unwritable': { level: 'error', loud: true },
  'store.unusable': { level: 'warn', loud: false },
  'key.unusable': { level: 'warn', loud: false },
  'audit.events_lost': { level: 'error', loud: true },
  'audit.unrecorded': { level: 'warn', loud: true },
  'audit.unmapped': { level: 'warn', loud: true },
  'checkpoint.failed': { level: 'warn', loud: false },
  'attribution.unstamped': { level: 'warn', loud: false },
  'propagation.failed': { level: 'warn', loud: false },
  'policy.shadow_failed': { level: 'warn', loud: false },
  'listener.failed': { level: 'warn', loud: false },
  'otlp.emit_failed': { level: 'warn', loud: false },
  'sdk.shutdown_failed': { level: 'error', loud: false },
};

/** A problem as a module reports it. */
export interface ProblemReport {
  readonly code: OnbehalfProblemCode;
  /** What went wrong, the same text for the same problem: occurrences with equal text are one problem. */
  readonly message: string;
  /** The part of onbehalf that met it (`audit-span-processor`, `sqlite-store`, …). */
  readonly component: string;
  /** The underlying error. */
  readonly cause?: unknown;
  /**
   * What differs between occurrences (an action's name, an input's fault, the cause as the module
   * words it); told instead of the cause's message, never compared.
   */
  readonly detail?: string;
  /** The object that met it, for the subscribers of that object only ({@link onProblemFrom}). */
  readonly source?: object;
}

/** A problem as subscribers of {@link onProblem} receive it. */
export interface OnbehalfProblem {
  readonly code: OnbehalfProblemCode;
  readonly message: string;
  readonly component: string;
  readonly cause?: unknown;
  readonly detail?: string;
  /**
   * How many occurrences this stands for: 1 for the first of a problem; for a repeat summary, the
   * occurrences since the last time it was told.
   */
  readonly count: number;
  /** Occurrences of this problem since the process started, this one included. */
  readonly total: number;
}

/** A subscriber of {@link onProblem}. */
export type ProblemListener = (problem: OnbehalfProblem) => void;

/** A repeated problem is told again after this many further occurrences… */
export const REPEAT_EVERY = 100;
/** …or on its first occurrence this long after it was last told, and by a timer for the tail. */
export const REPEAT_MS = 60_000;
/** Distinct problems remembered for deduplication; the oldest is forgotten beyond it. */
const MAX_TRACKED = 256;

interface Tracked {
  readonly first: ProblemReport;
  total: number;
  /** Occurrences since it was last told. */
  untold: number;
  toldAt: number;
  /** A subscriber of its source took an occurrence: no process warning for it. */
  handled: boolean;
}

const counts = new Map<OnbehalfProblemCode, number>();
const tracked = new Map<string, Tracked>();
const listeners = new Set<ProblemListener>();
const scoped = new WeakMap<object, Set<(problem: OnbehalfProblem) => void>>();
let tailTimer: NodeJS.Timeout | undefined;
const sourceIds = new WeakMap<object, number>();
let lastSourceId = 0;

function sourceId(source: object): number {
  let id = sourceIds.get(source);
  if (id === undefined) {
    id = ++lastSourceId;
    sourceIds.set(source, id);
  }
  return id;
}

/**
 * Reports one occurrence of a problem: counted always, told to `diag` and subscribers once, then as
 * repeat summaries. Subscribers of its `source` receive every occurrence. Never throws.
 */
export function reportProblem(report: ProblemReport): void {
  try {
    counts.set(report.code, (counts.get(report.code) ?? 0) + 1);
    // The same text from two stores (or processors) is two problems: each is told.
    const from = report.source ? sourceId(report.source) : 0;
    const key = `${report.code}\u0000${report.component}\u0000${from}\u0000${report.message}`;
    let t = tracked.get(key);
    if (!t) {
      if (tracked.size >= MAX_TRACKED) forgetOldest();
      const { source: _, ...first } = report;
      t = { first, total: 0, untold: 0, toldAt: 0, handled: false };
      tracked.set(key, t);
    }
    t.total++;
    if (report.source !== undefined && deliverScoped(report, t.total)) t.handled = true;
    if (t.total === 1) {
      t.toldAt = Date.now();
      tell(summary(report, 1, 1), t.handled);
      return;
    }
    t.untold++;
    // A lone repeat long after the last line is told as itself, with its own detail and cause.
    if (t.untold >= REPEAT_EVERY || Date.now() - t.toldAt >= REPEAT_MS)
      tellRepeats(t, t.untold === 1 ? report : undefined);
    else scheduleTail();
  } catch {
    // The channel is the last resort: nothing further to tell, and the host must not see it.
  }
}

/**
 * Subscribes `listener` to every problem onbehalf reports (a repeated one as its first occurrence,
 * then as summaries with `count`). A listener that throws is skipped. Returns the unsubscribe function.
 */
export function onProblem(listener: ProblemListener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/**
 * Subscribes `listener` to every occurrence, unsummarized, of the problems `source` reports; one it
 * receives is not printed as a process warning. Held weakly: it goes with `source`.
 */
export function onProblemFrom(source: object, listener: (problem: OnbehalfProblem) => void): () => void {
  let set = scoped.get(source);
  if (!set) {
    set = new Set();
    scoped.set(source, set);
  }
  set.add(listener);
  return () => {
    set.delete(listener);
  };
}

/** Every problem reported since the process started, by code (each occurrence, repeats included). */
export function problemCounts(): Readonly<Partial<Record<OnbehalfProblemCode, number>>> {
  return Object.freeze(Object.fromEntries(counts));
}

/** Tells the repeats not yet told now, instead of at the next occurrence or the timer (at shutdown). */
export function flushProblemRepeats(): void {
  if (tailTimer) {
    clearTimeout(tailTimer);
    tailTimer = undefined;
  }
  for (const t of tracked.values()) if (t.untold > 0) tellRepeats(t);
}

function summary(report: ProblemReport, count: number, total: number): OnbehalfProblem {
  const { code, message, component, cause, detail } = report;
  return { code, message, component, cause, detail, count, total };
}

/** One line for the occurrences not yet told: the first's text, without its cause or detail, or `only` itself. */
function tellRepeats(t: Tracked, only?: ProblemReport): void {
  const problem = only
    ? summary(only, 1, t.total)
    : { ...summary(t.first, t.untold, t.total), cause: undefined, detail: undefined };
  t.untold = 0;
  t.toldAt = Date.now();
  tell(problem, t.handled);
}

function deliverScoped(report: ProblemReport, total: number): boolean {
  const set = report.source ? scoped.get(report.source) : undefined;
  if (!set?.size) return false;
  const problem = summary(report, 1, total);
  for (const listener of set) {
    try {
      listener(problem);
    } catch {
      // A faulty callback must not reach the host, nor keep the others from hearing.
    }
  }
  return true;
}

function tell(problem: OnbehalfProblem, handled: boolean): void {
  const { level, loud } = SEVERITY[problem.code];
  try {
    // diag gets the cause itself (a logger may print its stack); the one-line forms quote its message.
    if (problem.cause === undefined) diag[level](describeProblem(problem));
    else diag[level](describeProblem({ ...problem, cause: undefined }), problem.cause);
  } catch {
    // A throwing diag logger is the app's; the problem is still counted and told to subscribers.
  }
  for (const listener of listeners) {
    try {
      listener(problem);
    } catch {
      // A subscriber that throws is skipped; the others still hear.
    }
  }
  if (loud && !handled && listeners.size === 0) {
    try {
      process.emitWarning(describeProblem(problem), 'OnbehalfAuditWarning');
    } catch {
      // stderr gone: the count and diag remain.
    }
  }
}

/**
 * The one line a problem is printed as (`onbehalf: message: detail` or `…: cause`, or for a repeat summary
 * `onbehalf: message (N more, T in all)`), safe for a terminal: its text can hold what an attacker sent.
 */
export function describeProblem(problem: OnbehalfProblem): string {
  let line = `onbehalf: ${problem.message}`;
  if (problem.detail) line += `: ${problem.detail}`;
  else if (problem.cause !== undefined) line += `: ${causeText(problem.cause)}`;
  if (problem.total > 1) line += ` (${problem.count} more, ${problem.total} in all)`;
  return oneLine(line);
}

function causeText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

function forgetOldest(): void {
  const oldest = tracked.keys().next();
  if (oldest.done) return;
  const t = tracked.get(oldest.value);
  if (t && t.untold > 0) tellRepeats(t);
  tracked.delete(oldest.value);
}

function scheduleTail(): void {
  if (tailTimer) return;
  tailTimer = setTimeout(() => {
    tailTimer = undefined;
    flushProblemRepeats();
  }, REPEAT_MS);
  // Never keeps the process alive for a summary line.
  tailTimer.unref();
}
