// Section 3: verification rate. Events/s of verifyAuditStore over a whole store, against raw SHA-256
// over the same bytes: each row's canonical bytes E, as the chain hashes them, already in memory.
// The ratio says how much of verification is the hashing it cannot avoid, and how much is reading
// rows back, canonicalizing them, chaining and checking checkpoints.
import { hash as oneShotHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { canonicalEventBytes } from '../dist/log-format/canonical.js';
import { EVENT_COLUMNS } from '../dist/pipeline/event.js';
import { recognizeToolCall, spanToAuditEvent } from '../dist/sdk/index.js';
import { SqliteAuditStore } from '../dist/stores/index.js';
import { verifyAuditStore } from '../dist/verify/index.js';
import { auditedSpans } from './fixtures.mjs';
import { atLeast, interleaved, row, scratch, settings } from './lib.mjs';

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

    const verify = async () => {
      const t0 = process.hrtime.bigint();
      const result = await verifyAuditStore(store);
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
    const [ours, theirs] = await interleaved(rounds, verify, hashAll);
    await store.close();
    const size = n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`;
    const base = row({
      section: 'verify',
      name: `raw SHA-256 of each row's canonical bytes (${Math.round(bytesPerRow)} B avg)`,
      value: theirs,
      unit: 'events/s',
      better: 'higher',
    });
    return [
      base,
      row({
        section: 'verify',
        name: `verifyAuditStore, ${size}-event SQLite store`,
        value: ours,
        unit: 'events/s',
        better: 'higher',
        baseline: base,
        goal: atLeast(0.7),
        note: n < 1e6 ? `${size} events in quick mode; --full uses 1M` : undefined,
      }),
    ];
  } finally {
    tmp.remove();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { table } = await import('./lib.mjs');
  console.log(table(await run({ mode: process.argv.includes('--full') ? 'full' : 'quick' })));
}
