// Section 3: verification rate. Events/s of verifyAuditStore over a whole store, against raw SHA-256
// over the same bytes: each row's canonical bytes E, as the chain hashes them, already in memory.
// The ratio says how much of verification is the hashing it cannot avoid, and how much is reading
// rows back, canonicalizing them, chaining and checking checkpoints.
import { hash as oneShotHash, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { canonicalEventBytes } from '../dist/log-format/canonical.js';
import { EVENT_COLUMNS } from '../dist/pipeline/event.js';
import { recognizeToolCall, spanToAuditEvent } from '../dist/sdk/index.js';
import { SqliteAuditStore } from '../dist/stores/index.js';
import { verifyAuditStore } from '../dist/verify/index.js';
import { auditedSpans } from './fixtures.mjs';
import { atLeast, interleaved, median, row, scratch, settings } from './lib.mjs';

/** Rows of canonical bytes kept in memory for the baseline; the hashing rate does not depend on the count. */
const SAMPLE = 50_000;

/** A store of `n` events, written the fast way (appendSync in big batches): only verification is timed. */
export function buildStore(path, n) {
  const spans = auditedSpans(64);
  const bases = spans.map((s) => spanToAuditEvent(s, recognizeToolCall(s), 'action'));
  const store = new SqliteAuditStore(path, { checkpointIntervalMs: 0 });
  const t0 = Date.parse('2025-11-25T09:00:00.000Z');
  const BATCH = 5000;
  for (let done = 0; done < n; done += BATCH) {
    const batch = [];
    for (let i = done; i < Math.min(n, done + BATCH); i++) {
      const base = bases[i & 63];
      // A fresh object per row, built key by key in column order so every row has the same shape.
      const e = {};
      for (const c of EVENT_COLUMNS) e[c] = base[c];
      e.event_id = `evt-${randomUUID()}`;
      e.timestamp = new Date(t0 + i * 7).toISOString();
      e.duration_ms = (i % 5000) / 10;
      batch.push(e);
    }
    store.appendSync(batch);
  }
  return store.close();
}

export async function run({ mode = 'quick' } = {}) {
  const s = settings(mode);
  const n = s.verifyEvents;
  const tmp = scratch('verify');
  try {
    const path = join(tmp.dir, 'audit.db');
    await buildStore(path, n);
    const store = new SqliteAuditStore(path, { readonly: true });

    // Canonical bytes of the first SAMPLE rows, as the verifier will hash them.
    const sample = [];
    for (const batch of store.readLogSync(store.origin)) {
      for (const r of batch) {
        sample.push(canonicalEventBytes(r));
        if (sample.length === SAMPLE) break;
      }
      if (sample.length === SAMPLE) break;
    }
    const bytesPerRow = sample.reduce((a, b) => a + b.length, 0) / sample.length;

    const verifyOn = (workers) => async () => {
      const t0 = process.hrtime.bigint();
      const result = await verifyAuditStore(store, { workers });
      const sec = Number(process.hrtime.bigint() - t0) / 1e9;
      if (!result.ok || result.count !== n)
        throw new Error(`verify: ${JSON.stringify(result.reason ?? result.count)}`);
      return n / sec;
    };
    const hashAll = () => {
      // As many digests as the store has rows, cycling over the sample.
      const t0 = process.hrtime.bigint();
      let x = 0;
      for (let i = 0; i < n; i++) x ^= oneShotHash('sha256', sample[i % sample.length], 'buffer')[0];
      const sec = Number(process.hrtime.bigint() - t0) / 1e9;
      if (x === 256) throw new Error('unreachable');
      return n / sec;
    };
    const rounds = mode === 'full' ? 3 : Math.min(2, s.rounds);
    const [ours, theirs] = await interleaved(rounds, verifyOn(1), hashAll);
    // Verification in ranges, each worker on its own connection, against SHA-256 on as many threads.
    const cores = availableParallelism();
    const threads = [...new Set([2, cores])];
    const parallel = [];
    for (const t of threads) {
      const [verified, hashed] = await interleaved(rounds, verifyOn(t), () => hashOnThreads(sample, n, t));
      parallel.push({ threads: t, verified, hashed });
    }
    const startMs = await workerStartMs(path, store.origin, mode === 'tiny' ? 1 : 5);
    await store.close();
    const size = n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`;
    const base = row({
      section: 'verify',
      name: `raw SHA-256 of each row's canonical bytes (${Math.round(bytesPerRow)} B avg)`,
      value: theirs,
      unit: 'events/s',
      better: 'higher',
    });
    const note = n < 1e6 ? `${size} events in quick mode; --full uses 1M` : undefined;
    const rows = [
      base,
      row({
        section: 'verify',
        name: `verifyAuditStore, ${size}-event SQLite store, 1 thread`,
        value: ours,
        unit: 'events/s',
        better: 'higher',
        baseline: base,
        goal: atLeast(0.7),
        note,
      }),
    ];
    for (const { threads: t, verified, hashed } of parallel) {
      const baseN = row({
        section: 'verify',
        name: `raw SHA-256 of the same bytes on ${t} threads`,
        value: hashed,
        unit: 'events/s',
        better: 'higher',
      });
      rows.push(
        baseN,
        row({
          section: 'verify',
          name: `verifyAuditStore, ${size}-event SQLite store, ${t} worker threads, vs raw SHA-256 on 1 thread`,
          value: verified,
          unit: 'events/s',
          better: 'higher',
          baseline: base,
          goal: t === 2 ? atLeast(0.3) : undefined,
          note: `${cores} core(s) available; vs 1-thread verify: ${(verified / ours).toFixed(2)}×`,
        }),
        row({
          section: 'verify',
          name: `verifyAuditStore, ${t} worker threads, vs raw SHA-256 on ${t} threads`,
          value: verified,
          unit: 'events/s',
          better: 'higher',
          baseline: baseN,
        }),
      );
    }
    rows.push(
      row({
        section: 'verify',
        name: 'verify worker thread start (spawn, load the verifier, open SQLite)',
        value: startMs,
        unit: 'ms',
        better: 'lower',
      }),
    );
    return rows;
  } finally {
    tmp.remove();
  }
}

/** SHA-256 of `n` rows' bytes (cycling over `sample`) split over `t` threads; timed from when all are started. */
async function hashOnThreads(sample, n, t) {
  const lengths = sample.map((b) => b.length);
  const shared = new SharedArrayBuffer(lengths.reduce((a, b) => a + b, 0));
  const bytes = new Uint8Array(shared);
  let at = 0;
  for (const b of sample) {
    bytes.set(b, at);
    at += b.length;
  }
  const code = `
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const { shared, lengths, count } = workerData;
const bytes = new Uint8Array(shared);
const offsets = [];
let at = 0;
for (const l of lengths) { offsets.push(at); at += l; }
parentPort.postMessage('ready');
parentPort.once('message', () => {
  let x = 0;
  for (let i = 0; i < count; i++) {
    const k = i % lengths.length;
    x ^= hash('sha256', bytes.subarray(offsets[k], offsets[k] + lengths[k]), 'buffer')[0];
  }
  parentPort.postMessage(x);
});`;
  const workers = [];
  for (let i = 0; i < t; i++) {
    const count = Math.floor(n / t) + (i < n % t ? 1 : 0);
    workers.push(new Worker(code, { eval: true, workerData: { shared, lengths, count } }));
  }
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
  const t0 = process.hrtime.bigint();
  const done = Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
  for (const w of workers) w.postMessage('go');
  await done;
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  await Promise.all(workers.map((w) => w.terminate()));
  return n / sec;
}

/** Median ms from spawning the verifier's worker entry to its SQLite connection being open. */
async function workerStartMs(path, origin, times) {
  const entry = fileURLToPath(new URL('../dist/verify/verify-worker.js', import.meta.url));
  const ms = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    const w = new Worker(entry, {
      workerData: { path, origin, batchSize: 5000, marks: [], progressEvery: 10_000 },
    });
    await new Promise((resolve, reject) => {
      w.once('message', (m) => (m.type === 'ready' ? resolve() : reject(new Error(m.message))));
      w.once('error', reject);
    });
    ms.push(performance.now() - t0);
    await w.terminate();
  }
  return median(ms);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { table } = await import('./lib.mjs');
  console.log(table(await run({ mode: process.argv.includes('--full') ? 'full' : 'quick' })));
}
