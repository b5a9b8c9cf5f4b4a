import type { Context } from '@opentelemetry/api';
import { addCommitAck, isCommitAwaited, turnPipelineStarted } from '../attribution/commit-acks.js';
import { isFoldedIntoGate } from '../attribution/folded-tool-calls.js';
import {
  noteUnrecordedAction,
  registerUnrecordedWriter,
  returnUnrecordedActions,
  takeUnrecordedActions,
} from '../attribution/unrecorded-actions.js';
import { recognizeToolCall, type ToolCall } from '../conventions/tool-call.js';
import { type OnbehalfProblemCode, onProblemFrom, reportProblem } from '../metrics/problem-channel.js';
import { observeAuditCounts } from '../metrics/self-metrics.js';
import type { ReadableSpan, Span, SpanProcessor } from '../otel/sdk-interfaces.js';
import type { RedactionOptions } from '../redaction/redact.js';
import { type AuditSink, canRecordUnwritten, isSyncWriter } from './audit-sink.js';
import type { AuditEvent } from './event.js';
import { exitLoss } from './exit-loss.js';
import { type Gap, gapRecord } from './gap-record.js';
import { onProcessExit } from './process-exit.js';
import { type SpanRecordType, spanRecordType, spanToAuditEvent } from './span-to-event.js';
import { TurnCommit } from './turn-commit.js';

/** Options of {@link AuditSpanProcessor}. */
export interface AuditSpanProcessorOptions {
  /** Where audit events go. The processor owns it: `shutdown()` closes it. */
  store: AuditSink;
  /**
   * When events are committed (README, "Commit modes"):
   * - `turn` (default where the store appends synchronously, i.e. SQLite): an `audited()` action's
   *   event is committed together with every other that ended in the same event-loop turn, and
   *   `audited()` resolves only after that commit; any other span's event is committed before its
   *   `end()` returns. Durable before the caller learns the result, one transaction per turn.
   * - `per-event`: each event is committed before its span's `end()` returns, one transaction each.
   * - `group` (default for PostgreSQL): events are queued and committed together every
   *   `groupCommitMs` or `maxBatchSize` events; nothing waits, so a crash can lose the last few ms.
   */
  commit?: AuditCommitMode;
  /** Group commit interval (default 10 ms). */
  groupCommitMs?: number;
  /** Most events per transaction (default 1000). */
  maxBatchSize?: number;
  /** Most events waiting for the store (default 10 000); beyond it events are counted and a gap is recorded. */
  maxQueueSize?: number;
  /** Also audit spans this returns true for, besides recognized tool calls and actions (docs/attribution.md, "What is audited"). */
  isAuditRelevant?: (span: ReadableSpan) => boolean;
  /** Redaction of tool arguments and attributes. */
  redaction?: RedactionOptions;
  /** Actions at this risk tier or above also get a `started` record when they begin (default 2). */
  startedRecordMinRiskTier?: number;
  /**
   * Shadow policy: called with each event no gate decided (policy `not_evaluated`), returns it with
   * what the policy would have decided (docs/policy.md, "Shadow mode"). Must not throw.
   */
  shadowPolicy?: (event: AuditEvent) => AuditEvent;
  /**
   * Called with each problem this processor reports: events that could not be stored or mapped
   * (default: a process warning on stderr, repeats summarized). Every problem also goes to onbehalf's
   * problem channel (`onProblem`, OpenTelemetry `diag`, the `onbehalf.problems` metric).
   */
  onError?: (error: Error, stats: Readonly<AuditProcessorStats>) => void;
}

/** See {@link AuditSpanProcessorOptions.commit}. */
export type AuditCommitMode = 'per-event' | 'turn' | 'group';

/** What happened to audit events; every event is either stored, waiting, or counted as lost. */
export interface AuditProcessorStats {
  /** Events committed to the store (action, started and gap records). */
  stored: number;
  /** Events waiting for the store. */
  pending: number;
  /** Events lost (queue full, store unwritable past the queue, or failure at shutdown). */
  lost: number;
  /** Gap records written for lost events. */
  gapRecords: number;
  /** Failed attempts to write to the store. */
  storeErrors: number;
  /** Events whose fields were cut to fit (recorded as `truncated` in their redactions). */
  truncated: number;
  /** Spans the processor could not map (the span itself is unaffected). */
  mappingErrors: number;
}

const RETRY_MS = 1000;

/**
 * Writes audit-relevant spans to an audit store: tool calls and other actions that touch the
 * world, decided at `onEnd` when every attribute exists. It is its own processor (never a
 * `BatchSpanProcessor`, which skips unsampled spans and drops silently past its queue): it sees
 * unsampled spans recorded by {@link AuditAwareSampler}, and a full queue or an unwritable store is
 * counted, reported, and leaves a gap record as soon as the store takes writes again.
 *
 * It never throws into the host application.
 */
export class AuditSpanProcessor implements SpanProcessor {
  readonly stats: AuditProcessorStats = {
    stored: 0,
    pending: 0,
    lost: 0,
    gapRecords: 0,
    storeErrors: 0,
    truncated: 0,
    mappingErrors: 0,
  };
  private readonly store: AuditSink;
  private readonly commit: AuditCommitMode;
  /** The commit of the events deferred to the end of this turn (`turn` mode). */
  private readonly turn = new TurnCommit(() =>
    isSyncWriter(this.store) && !this.failing ? this.flushSync() : this.flush(),
  );
  private readonly groupCommitMs: number;
  private readonly maxBatchSize: number;
  private readonly maxQueueSize: number;
  private readonly minStartedTier: number;
  private queue: AuditEvent[] = [];
  private gap: Gap | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** The last write failed: new events wait for the retry instead of hitting the store one by one. */
  private failing = false;
  private isShutdown = false;
  /** Events of a batch sent to an asynchronous store and not yet acknowledged (gap record included). */
  private inFlight = 0;
  private readonly unhook: (() => void)[];

  constructor(private readonly options: AuditSpanProcessorOptions) {
    this.store = options.store;
    this.commit = options.commit ?? (isSyncWriter(options.store) ? 'turn' : 'group');
    this.groupCommitMs = options.groupCommitMs ?? 10;
    this.maxBatchSize = options.maxBatchSize ?? 1000;
    this.maxQueueSize = options.maxQueueSize ?? 10_000;
    this.minStartedTier = options.startedRecordMinRiskTier ?? 2;
    // Actions no pipeline recorded (before this one started, or beside it) become this writer's gap.
    this.unhook = [
      registerUnrecordedWriter(() => this.absorbUnrecorded()),
      onProcessExit((final) => this.flushOnExit(final)),
    ];
    if (this.commit === 'turn') this.unhook.push(turnPipelineStarted());
    this.absorbUnrecorded();
    observeAuditCounts(this.stats);
    const onError = options.onError;
    if (onError)
      onProblemFrom(this, (p) =>
        onError(p.cause instanceof Error ? p.cause : new Error(p.message), this.stats),
      );
  }

  onStart(span: Span, _parentContext: Context): void {
    let call: ToolCall | undefined;
    try {
      const tier = span.attributes['attribution.risk_tier'];
      if (typeof tier !== 'number' || tier < this.minStartedTier) return;
      // A result known at start (a denial) means the action never begins.
      if (span.attributes['attribution.result'] !== undefined) return;
      // An approval record is not the action beginning.
      if (span.attributes['onbehalf.audit.record_type'] !== undefined) return;
      call = recognizeToolCall(span);
    } catch (err) {
      this.stats.mappingErrors++;
      this.report('audit.unmapped', err, 'could not recognize the start of an audited action');
    }
    if (call) this.record(span, call, 'started', false);
  }

  onEnd(span: ReadableSpan): void {
    let call: ToolCall | undefined;
    try {
      call = recognizeToolCall(span);
      // A gate inside this framework tool span already wrote the call's one row.
      if (call && isFoldedIntoGate(span, call)) return;
      if (!call && this.options.isAuditRelevant?.(span)) call = { convention: 'onbehalf', name: span.name };
    } catch (err) {
      // Relevance unknown (a throwing isAuditRelevant): said out loud, since it may hide actions.
      this.stats.mappingErrors++;
      this.report(
        'audit.unmapped',
        new Error(`onbehalf: could not decide whether span ${span.name} is audit-relevant: ${err}`),
      );
    }
    if (call)
      this.record(
        span,
        call,
        spanRecordType(span.attributes),
        this.commit === 'turn' && isCommitAwaited(span),
      );
  }

  /** Maps and queues a recognized action; one that cannot be mapped is lost visibly, as a gap. */
  private record(span: ReadableSpan, call: ToolCall, type: SpanRecordType, awaited: boolean): void {
    let event: AuditEvent;
    try {
      event = this.toEvent(span, call, type);
    } catch (err) {
      this.stats.mappingErrors++;
      this.report('audit.unmapped', err, `could not map audited action ${call.name}`);
      this.loseEvents(1, 'could not be mapped', new Date().toISOString());
      return;
    }
    try {
      const ack = this.submit(event, awaited);
      if (ack) addCommitAck(span, ack);
    } catch (err) {
      // Never into the host; submit counts its own losses, this is the last resort.
      this.stats.mappingErrors++;
      this.report('audit.unmapped', err, 'could not queue an audit event');
    }
  }

  async forceFlush(): Promise<void> {
    await this.drain();
  }

  async shutdown(): Promise<void> {
    if (this.isShutdown) return;
    this.isShutdown = true;
    for (const unhook of this.unhook) unhook();
    this.absorbUnrecorded();
    await this.drain();
    if (this.timer) clearTimeout(this.timer);
    if (this.queue.length || this.gap) {
      const lost = this.queue.length;
      this.stats.lost += lost;
      const first = this.queue[0]?.timestamp ?? this.gap?.from ?? new Date().toISOString();
      const last = this.queue[lost - 1]?.timestamp ?? this.gap?.to ?? first;
      // Not written here: the next writer of any store records them as a gap.
      returnUnrecordedActions({
        count: lost + (this.gap?.count ?? 0),
        reasons: new Set([...(lost ? ['not written before shutdown'] : []), ...(this.gap?.reasons ?? [])]),
        from: this.gap && this.gap.from < first ? this.gap.from : first,
        to: this.gap && this.gap.to > last ? this.gap.to : last,
      });
      this.queue = [];
      this.gap = undefined;
      this.stats.pending = 0;
      this.report(
        'audit.events_lost',
        new Error(`onbehalf: ${lost} audit events could not be written before shutdown`),
      );
    }
    try {
      await this.store.close();
    } catch (err) {
      this.report('store.unwritable', err, 'could not close the audit store');
    }
  }

  private toEvent(span: ReadableSpan, call: ToolCall, type: SpanRecordType): AuditEvent {
    let event = spanToAuditEvent(span, call, type, { redaction: this.options.redaction });
    const shadow = this.options.shadowPolicy;
    // Tool calls only: an agent's invocation is not an action a policy allows or denies.
    if (
      shadow &&
      type === 'action' &&
      (event.policy_decision ?? 'not_evaluated') === 'not_evaluated' &&
      span.attributes['gen_ai.operation.name'] !== 'invoke_agent'
    )
      event = shadow(event);
    if (event.redactions?.includes('"truncated"')) this.stats.truncated++;
    return event;
  }

  /**
   * Queues `event` and commits it as the mode says; returns the commit to wait for when it is deferred
   * to the end of the turn (`awaited`: an `audited()` gate waits for it).
   */
  private submit(event: AuditEvent, awaited: boolean): Promise<void> | undefined {
    if (this.isShutdown) {
      // This store is closed: the next writer records the gap.
      this.stats.lost++;
      noteUnrecordedAction(event.action, 'span ended after shutdown', event.timestamp);
      this.report(
        'audit.events_lost',
        new Error('onbehalf: audit event lost (span ended after shutdown); the next writer records a gap'),
      );
      return undefined;
    }
    if (this.queue.length >= this.maxQueueSize) {
      this.loseEvents(1, 'queue full', event.timestamp);
      return undefined;
    }
    this.queue.push(event);
    this.stats.pending = this.queue.length;
    const sync = isSyncWriter(this.store) && !this.failing;
    if (this.queue.length >= this.maxBatchSize) {
      // A synchronous store commits a full batch right here: a caller ending spans in a tight loop
      // never yields to the event loop, and would otherwise fill the queue past its bound.
      if (sync) this.flushSync();
      else void this.flush();
      return undefined;
    }
    if (this.commit === 'turn' && (awaited || !sync) && !this.failing) return this.turn.defer();
    if (this.commit !== 'group' && sync) this.flushSync();
    else this.schedule(this.groupCommitMs);
    return undefined;
  }

  private loseEvents(count: number, reason: string, at: string): void {
    this.stats.lost += count;
    this.addGap(count, [reason], at, at);
    this.report(
      'audit.events_lost',
      new Error(`onbehalf: audit event lost (${reason}); a gap record will be written`),
    );
  }

  private addGap(count: number, reasons: Iterable<string>, from: string, to: string): void {
    this.gap ??= { count: 0, reasons: new Set(), from, to };
    this.gap.count += count;
    for (const r of reasons) this.gap.reasons.add(r);
    if (from < this.gap.from) this.gap.from = from;
    if (to > this.gap.to) this.gap.to = to;
  }

  /** Takes actions that ran unrecorded into this writer's next gap record. */
  private absorbUnrecorded(): void {
    const u = takeUnrecordedActions();
    if (!u) return;
    this.addGap(u.count, u.reasons, u.from, u.to);
    if (isSyncWriter(this.store) && !this.failing && this.commit !== 'group') this.flushSync();
    else this.schedule(this.groupCommitMs);
  }

  /**
   * On exit, an uncaught exception or a signal: what is queued is written now, synchronously, and
   * the last checkpoint signed, where the store can (SQLite); the store stays open, since a handled
   * signal does not end the process.
   */
  private flushOnExit(final: boolean): void {
    if (this.isShutdown) return;
    if (!isSyncWriter(this.store)) {
      if (final) this.spoolOnExit();
      return;
    }
    this.absorbUnrecorded();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flushSync();
    void this.store
      .checkpoint()
      .catch((err: unknown) =>
        this.report('checkpoint.failed', err, 'could not sign the checkpoint at exit'),
      );
  }

  /**
   * The process is ending and the store appends asynchronously (PostgreSQL): nothing more can be sent,
   * so the queued events and any pending gap are counted lost and left, synchronously, as a note the
   * next writer of the store writes as a gap record (see unwritten-spool.ts).
   */
  private spoolOnExit(): void {
    this.absorbUnrecorded();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const unwritten = exitLoss(this.queue, this.gap, this.inFlight);
    if (!unwritten || !canRecordUnwritten(this.store)) return;
    try {
      this.store.recordUnwrittenSync(unwritten);
    } catch (err) {
      this.report(
        'audit.events_lost',
        new Error(
          `onbehalf: ${unwritten.count} audit events lost at exit, and no note of them could be left: ${err}`,
        ),
      );
      return;
    }
    this.stats.lost += this.queue.length;
    this.queue = [];
    this.gap = undefined;
    this.stats.pending = 0;
    this.report(
      'audit.events_lost',
      new Error(
        `onbehalf: ${unwritten.count} audit events could not be written before the process ended; the next writer records a gap`,
      ),
    );
  }

  /** The next batch: a gap record first when events were lost, then queued events. */
  private nextBatch(): AuditEvent[] {
    const batch = this.queue.slice(0, this.maxBatchSize);
    if (this.gap) batch.unshift(gapRecord(this.gap));
    return batch;
  }

  private committed(batch: AuditEvent[]): void {
    const gapWritten = this.gap !== undefined;
    const fromQueue = gapWritten ? batch.length - 1 : batch.length;
    this.queue.splice(0, fromQueue);
    if (gapWritten) {
      this.stats.gapRecords++;
      this.gap = undefined;
    }
    this.stats.stored += batch.length;
    this.stats.pending = this.queue.length;
    this.failing = false;
  }

  private failed(err: unknown): void {
    this.failing = true;
    this.stats.storeErrors++;
    this.report('store.unwritable', err, 'could not write audit events to the store');
    this.schedule(RETRY_MS);
  }

  private flushSync(): void {
    const store = this.store;
    if (!isSyncWriter(store)) return;
    while (this.queue.length || this.gap) {
      const batch = this.nextBatch();
      try {
        store.appendSync(batch);
      } catch (err) {
        this.failed(err);
        return;
      }
      this.committed(batch);
    }
  }

  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    // Cleared in a callback, not in the loop's own `finally`: with a synchronous store the loop
    // finishes before `flush` returns, and clearing there would run before the assignment below,
    // leaving a settled promise that turned every later flush into a no-op.
    const run = this.flushLoop().finally(() => {
      if (this.flushing === run) this.flushing = undefined;
    });
    this.flushing = run;
    return run;
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length || this.gap) {
      const batch = this.nextBatch();
      try {
        const store = this.store;
        if (isSyncWriter(store)) store.appendSync(batch);
        else {
          this.inFlight = batch.length;
          await store.append(batch);
        }
      } catch (err) {
        this.failed(err);
        return;
      } finally {
        this.inFlight = 0;
      }
      this.committed(batch);
    }
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
    this.timer.unref();
  }

  /** Writes everything it can now, waiting for a flush already running. */
  private async drain(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.flushing) await this.flushing;
    await this.flush();
  }

  /**
   * Reports a problem to onbehalf's problem channel, which calls `onError` (every occurrence) or else
   * warns on stderr (repeats summarized). `err` is what `onError` receives; without `message` its own
   * message is the problem's text. Never throws.
   */
  private report(code: OnbehalfProblemCode, err: unknown, message?: string): void {
    const error = err instanceof Error ? err : new Error(String(err));
    reportProblem({
      code,
      component: 'audit-span-processor',
      message: message ?? error.message.replace(/^onbehalf: /, ''),
      detail: `${message ? `${error.message} ` : ''}(audit stats: ${JSON.stringify(this.stats)})`,
      cause: error,
      source: this,
    });
  }
}
