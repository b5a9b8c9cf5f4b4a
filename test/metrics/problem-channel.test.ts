// onbehalf's problem channel, through the real pipeline: a SQLite store another connection has locked
// (so every write fails) behind a real AuditSpanProcessor, a real MeterProvider reading the
// onbehalf.problems metric, a real diag logger. Every occurrence is counted and reaches the
// processor's onError; diag and onProblem subscribers hear the first and then "N more" summaries.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DiagLogger, DiagLogLevel, diag, metrics } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withAttribution } from '../../src/attribution/attribution.js';
import { audited } from '../../src/attribution/audited.js';
import { onProblem, problemCounts } from '../../src/index.js';
import {
  describeProblem,
  flushProblemRepeats,
  type OnbehalfProblem,
  REPEAT_EVERY,
  reportProblem,
} from '../../src/metrics/problem-channel.js';
import { METRIC_PROBLEMS, observeOnbehalfMetrics } from '../../src/metrics/self-metrics.js';
import { openSqlite, type SqliteDatabase } from '../../src/stores/sqlite-driver.js';
import { inboxAgent } from '../fixtures/seed.js';
import { type AuditPipeline, setupAuditPipeline } from '../helpers/audit.js';
import { meterProviderWithReader } from '../helpers/metrics-sdk.js';
import { runProcess } from '../helpers/run-process.js';

const repo = join(import.meta.dirname, '../..');

const sdk = meterProviderWithReader();
beforeAll(() => {
  metrics.setGlobalMeterProvider(sdk.provider);
  observeOnbehalfMetrics();
});
afterAll(async () => {
  await sdk.provider.shutdown();
  metrics.disable();
});

let p: AuditPipeline | undefined;
let lock: SqliteDatabase | undefined;
const cleanup: (() => void)[] = [];
afterEach(async () => {
  for (const undo of cleanup.splice(0)) undo();
  if (lock?.open) {
    lock.exec('ROLLBACK');
    lock.close();
  }
  lock = undefined;
  diag.disable();
  await p?.teardown();
  p = undefined;
});

/** Every line diag received at warn or error. */
function diagLines(): string[] {
  const lines: string[] = [];
  const logger: DiagLogger = {
    error: (m) => lines.push(m),
    warn: (m) => lines.push(m),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(logger, DiagLogLevel.WARN);
  return lines;
}

/** Subscribes for the test's duration; returns what the subscriber heard. */
function heard(): OnbehalfProblem[] {
  const problems: OnbehalfProblem[] = [];
  cleanup.push(onProblem((problem) => problems.push(problem)));
  return problems;
}

/** A pipeline whose store file another connection has locked: every write fails with SQLITE_BUSY. */
function unwritablePipeline(maxQueueSize: number, onError?: (error: Error) => void): AuditPipeline {
  p = setupAuditPipeline({
    store: { busyTimeoutMs: 20 },
    audit: { commit: 'per-event', maxQueueSize, onError },
  });
  lock = openSqlite(p.path);
  lock.exec('BEGIN EXCLUSIVE');
  return p;
}

const act = (i: number) =>
  withAttribution(inboxAgent, () => audited('label_mail', { target: `msg-${i}` }, () => `done-${i}`));

function growth(before: Readonly<Record<string, number | undefined>>, after: typeof before) {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== before[k]) out[k] = (v ?? 0) - (before[k] ?? 0);
  return out;
}

describe('an unwritable store through the problem channel', () => {
  it('counts every loss, reaches onError every time, and tells diag and subscribers once per REPEAT_EVERY with the count', async () => {
    const lines = diagLines();
    const problems = heard();
    const countsBefore = problemCounts();
    const metricBefore = await sdk.read();

    const pl = unwritablePipeline(5);
    const results: string[] = [];
    for (let i = 1; i <= 260; i++) results.push(await act(i));
    // The host never noticed.
    expect(results).toHaveLength(260);
    expect(results.at(-1)).toBe('done-260');
    flushProblemRepeats();

    const { lost, storeErrors } = pl.auditProcessor.stats;
    expect(lost).toBeGreaterThan(2 * REPEAT_EVERY);
    expect(storeErrors).toBeGreaterThanOrEqual(1);

    // Counted, every occurrence: in the snapshot and in the metric.
    const grew = growth(countsBefore, problemCounts());
    expect(grew['audit.events_lost']).toBe(lost);
    expect(grew['store.unwritable']).toBe(storeErrors);
    const metricAfter = await sdk.read();
    const metric = (code: string) =>
      (metricAfter.get(`${METRIC_PROBLEMS}{onbehalf.problem.code=${code}}`) ?? 0) -
      (metricBefore.get(`${METRIC_PROBLEMS}{onbehalf.problem.code=${code}}`) ?? 0);
    expect(metric('audit.events_lost')).toBe(lost);
    expect(metric('store.unwritable')).toBe(storeErrors);

    // The existing onError caller hears every occurrence, with the processor's stats.
    expect(pl.errors.filter((e) => /audit event lost \(queue full\)/.test(e.error.message))).toHaveLength(
      lost,
    );
    expect(pl.errors.find((e) => /SQLITE_BUSY/.test(e.error.message))).toBeDefined();

    // Subscribers hear the first, then one summary per REPEAT_EVERY, then the tail: every one accounted for.
    const losses = problems.filter((x) => x.code === 'audit.events_lost');
    expect(losses[0]).toMatchObject({ count: 1, total: 1, component: 'audit-span-processor' });
    expect(losses.slice(1, -1).map((x) => x.count)).toEqual(
      Array(losses.length - 2).fill(REPEAT_EVERY) as number[],
    );
    expect(losses.length).toBe(1 + Math.ceil((lost - 1) / REPEAT_EVERY));
    expect(losses.reduce((n, x) => n + x.count, 0)).toBe(lost);
    expect(losses.at(-1)!.total).toBe(lost);

    // diag got the same: the first line with the cause's detail, then "N more" lines, nothing else of it.
    const lossLines = lines.filter((l) => l.includes('audit event lost (queue full)'));
    expect(lossLines).toHaveLength(losses.length);
    expect(lossLines[0]).toMatch(
      /^onbehalf: audit event lost \(queue full\); a gap record will be written: \(audit stats:/,
    );
    expect(lossLines[1]).toMatch(new RegExp(`\\(${REPEAT_EVERY} more, ${REPEAT_EVERY + 1} in all\\)$`));
    expect(lines.some((l) => /could not write audit events to the store: .*SQLITE_BUSY/.test(l))).toBe(true);
  });

  it('a subscriber, a diag logger and an onError callback that throw do not reach the host, and the others still hear', async () => {
    const throwing = () => {
      throw new Error('listener bug');
    };
    cleanup.push(onProblem(throwing));
    const problems = heard();
    const quiet = () => undefined;
    diag.setLogger(
      { error: throwing, warn: throwing, info: quiet, debug: quiet, verbose: quiet },
      DiagLogLevel.WARN,
    );
    const before = problemCounts()['audit.events_lost'] ?? 0;

    const pl = unwritablePipeline(1, throwing);
    const results: string[] = [];
    for (let i = 1; i <= 5; i++) results.push(await act(i));
    expect(results).toEqual(['done-1', 'done-2', 'done-3', 'done-4', 'done-5']);
    // onError threw each time, after the helper recorded the call: it was still called every time.
    expect(pl.errors.filter((e) => /queue full/.test(e.error.message))).toHaveLength(
      pl.auditProcessor.stats.lost,
    );
    expect((problemCounts()['audit.events_lost'] ?? 0) - before).toBe(pl.auditProcessor.stats.lost);
    expect(problems.some((x) => x.code === 'audit.events_lost')).toBe(true);
  });
});

describe('the channel itself', () => {
  it('an unsubscribed listener hears nothing more; problemCounts is a frozen snapshot', () => {
    const got: OnbehalfProblem[] = [];
    const off = onProblem((x) => got.push(x));
    reportProblem({ code: 'listener.failed', component: 'test', message: 'first distinct problem' });
    off();
    reportProblem({ code: 'listener.failed', component: 'test', message: 'second distinct problem' });
    expect(got.map((x) => x.message)).toEqual(['first distinct problem']);

    const snapshot = problemCounts();
    expect(Object.isFrozen(snapshot)).toBe(true);
    reportProblem({ code: 'listener.failed', component: 'test', message: 'third distinct problem' });
    expect(problemCounts()['listener.failed']).toBe((snapshot['listener.failed'] ?? 0) + 1);
  });

  it('the same text from two sources is two problems, each told once', () => {
    const problems = heard();
    const [a, b] = [{}, {}];
    for (let i = 0; i < 3; i++) {
      reportProblem({ code: 'checkpoint.failed', component: 'test', message: 'same text', source: a });
      reportProblem({ code: 'checkpoint.failed', component: 'test', message: 'same text', source: b });
    }
    expect(problems.filter((x) => x.message === 'same text')).toHaveLength(2);
    flushProblemRepeats();
    const told = problems.filter((x) => x.message === 'same text');
    expect(told.map((x) => x.count)).toEqual([1, 1, 2, 2]);
  });

  it('text an attacker sent is printed with its control characters escaped', () => {
    const lines = diagLines();
    reportProblem({
      code: 'propagation.failed',
      component: 'test',
      message: 'inbound attribution token refused (test)',
      detail: 'bad \u001b[2J\u202eclaim',
    });
    const line = lines.find((l) => l.includes('(test)'))!;
    expect(line).toBe('onbehalf: inbound attribution token refused (test): bad \\u001b[2J\\u202eclaim');
    expect(
      describeProblem({ code: 'store.unusable', component: 'x', message: 'm\n', count: 1, total: 1 }),
    ).toBe('onbehalf: m\\u000a');
  });

  it('with nobody listening, a problem that means missing audit records is a process warning, told once', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    cleanup.push(() => process.off('warning', onWarning));
    // audited() with no audit pipeline: the action runs, and the channel reports it unrecorded.
    for (let i = 1; i <= 3; i++) expect(await act(i)).toBe(`done-${i}`);
    await new Promise((resolve) => setImmediate(resolve));
    const ours = warnings.filter((w) => w.name === 'OnbehalfAuditWarning');
    expect(ours).toHaveLength(1);
    expect(ours[0]!.message).toMatch(/^onbehalf: audited action was not recorded \(no recording tracer/);
    expect(ours[0]!.message).toContain('action "label_mail"');

    // A subscriber takes them instead: no further warning.
    const problems = heard();
    reportProblem({ code: 'audit.unrecorded', component: 'test', message: 'with a subscriber' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.name === 'OnbehalfAuditWarning')).toHaveLength(1);
    expect(problems.map((x) => x.message)).toContain('with a subscriber');
  });
});

describe('the README example', () => {
  it('runs as written: the subscriber hears the unrecorded action once, the counts have all three', async () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Problems onbehalf reports'));
    const code = /```js\n([\s\S]*?)```/.exec(section)![1]!;
    expect(code).toContain('onProblem(');
    // Evaluated from the repository, so `onbehalf` resolves to this package (its built dist/).
    const r = await runProcess(process.execPath, ['--input-type=module', '-e', code], { cwd: repo });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'audit.unrecorded (audited, x1): audited action was not recorded (no recording tracer (no SDK, not started, shut down, or not sampled)); the next audit writer records a gap for it',
      "{ 'audit.unrecorded': 3 }",
    ]);
  });
});
