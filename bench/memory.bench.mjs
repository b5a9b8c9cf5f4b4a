// Section 5: memory while writing many audit events in group-commit mode. Run in a child process
// (this file, with --child), so the RSS is the writer's own and not the runner's. RSS is sampled
// every SAMPLE_EVERY events; a bounded queue keeps it flat however many events go by.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { row, scratch, settings } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const MiB = 2 ** 20;

async function writer(dir, events) {
  const { TracerProvider: BasicTracerProvider } = await import('@opentelemetry/sdk-trace');
  const { AttributionSpanProcessor, AuditSpanProcessor } = await import('../dist/index.js');
  const { SqliteAuditStore } = await import('../dist/stores/index.js');
  const { attributedContext, auditedAttributes } = await import('./fixtures.mjs');
  const store = new SqliteAuditStore(join(dir, 'memory.db'));
  const audit = new AuditSpanProcessor({ store, commit: 'group', onError: () => {} });
  const provider = new BasicTracerProvider({
    spanProcessors: [new AttributionSpanProcessor({ env: {} }), audit],
  });
  const tracer = provider.getTracer('onbehalf-bench');
  const ctx = attributedContext();
  const every = Math.max(1, Math.floor(events / 100));
  const samples = [];
  globalThis.gc?.();
  const heapStart = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const start = process.memoryUsage.rss();
  for (let i = 0; i < events; i++) {
    tracer.startSpan('execute_tool send_mail', { attributes: auditedAttributes(i) }, ctx).end();
    if ((i + 1) % every === 0) {
      samples.push(process.memoryUsage.rss());
      // An application yields to its event loop now and then; the group commit runs there.
      await new Promise(setImmediate);
    }
  }
  await audit.forceFlush();
  const seconds = (performance.now() - t0) / 1000;
  const end = process.memoryUsage.rss();
  const stats = { ...audit.stats };
  // What is still reachable after a full GC: growth here, unlike RSS, would be a leak.
  globalThis.gc?.();
  const heapEnd = process.memoryUsage().heapUsed;
  await provider.shutdown();
  return {
    start,
    peak: Math.max(start, end, ...samples),
    end,
    // The second half against the first: growth that continues is a leak, a step at start is not.
    half: Math.max(...samples.slice(0, samples.length >> 1)),
    secondHalf: Math.max(...samples.slice(samples.length >> 1)),
    heapStart,
    heapEnd,
    stats,
    rate: events / seconds,
  };
}

export async function run({ mode = 'quick' } = {}) {
  const events = settings(mode).memoryEvents;
  const tmp = scratch('memory');
  try {
    const p = fork(SELF, ['--child', tmp.dir, String(events)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: ['--expose-gc'],
    });
    const [r] = await Promise.race([
      once(p, 'message'),
      once(p, 'exit').then(([code]) => {
        throw new Error(`memory bench: child exited with ${code}`);
      }),
    ]);
    await once(p, 'exit');
    if (r.stats.lost || r.stats.stored < events)
      throw new Error(`memory bench: events lost (${JSON.stringify(r.stats)})`);
    const n = events >= 1e6 ? `${events / 1e6}M` : `${events / 1e3}k`;
    const base = `${n} spans → AuditSpanProcessor (group) → SQLite`;
    const mb = (v) => v / MiB;
    return [
      row({
        section: 'memory',
        name: `${base}: RSS at start`,
        value: mb(r.start),
        unit: 'MiB',
        better: 'lower',
      }),
      row({ section: 'memory', name: `${base}: peak RSS`, value: mb(r.peak), unit: 'MiB', better: 'lower' }),
      row({ section: 'memory', name: `${base}: RSS at end`, value: mb(r.end), unit: 'MiB', better: 'lower' }),
      row({
        section: 'memory',
        name: `${base}: peak of 2nd half vs 1st half (flat ≈ 1)`,
        value: mb(r.secondHalf),
        unit: 'MiB',
        better: 'lower',
        baseline: { name: 'peak RSS of the 1st half', value: mb(r.half) },
        goal: Object.assign((ratio) => ratio !== null && ratio <= 1.1, { text: '≤ 1.1× (flat)' }),
      }),
      row({
        section: 'memory',
        name: `${base}: JS heap after full GC, end`,
        value: mb(r.heapEnd),
        unit: 'MiB',
        better: 'lower',
        baseline: { name: 'JS heap after full GC, start', value: mb(r.heapStart) },
      }),
      row({
        section: 'memory',
        name: `${base}: throughput, spans included`,
        value: r.rate,
        unit: 'events/s',
        better: 'higher',
      }),
    ];
  } finally {
    tmp.remove();
  }
}

if (process.argv[2] === '--child') {
  const r = await writer(process.argv[3], Number(process.argv[4]));
  process.send(r, () => process.exit(0));
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { table } = await import('./lib.mjs');
  console.log(table(await run({ mode: process.argv.includes('--full') ? 'full' : 'quick' })));
}
