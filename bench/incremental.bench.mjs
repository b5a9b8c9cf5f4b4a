// Incremental verify: `verify --checkpoint DIR --incremental` reads only the rows after the newest
// anchored checkpoint, so its cost follows the rows added, not the store's size. Measured on one
// large store against a full verifyAuditStore of the same store, and with 1,000, 2,000 and 4,000 new
// rows after the anchor, so the ratios show the proportionality. Run:
//   npm run build && node bench/incremental.bench.mjs [--events N] (default 1,000,000)
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkpoints } from '../dist/cli/commands/checkpoints.js';
import { verifyIncrementally } from '../dist/consistency/incremental-verify.js';
import { EVENT_COLUMNS } from '../dist/pipeline/event.js';
import { recognizeToolCall, spanToAuditEvent } from '../dist/sdk/index.js';
import { SqliteAuditStore } from '../dist/stores/index.js';
import { verifyAuditStore } from '../dist/verify/index.js';
import { auditedSpans } from './fixtures.mjs';
import { median, row, scratch, table } from './lib.mjs';
import { buildStore } from './verify.bench.mjs';

/** Appends `n` more events (the store signs a checkpoint on close). */
async function grow(path, n, from) {
  const bases = auditedSpans(64).map((s) => spanToAuditEvent(s, recognizeToolCall(s), 'action'));
  const store = new SqliteAuditStore(path, { checkpointIntervalMs: 0 });
  const batch = [];
  for (let i = from; i < from + n; i++) {
    const e = {};
    for (const c of EVENT_COLUMNS) e[c] = bases[i & 63][c];
    e.event_id = `evt-grow-${i}`;
    batch.push(e);
  }
  store.appendSync(batch);
  await store.close();
}

/** Anchors the store's latest checkpoint in a fresh directory (a full verify first, not timed). */
async function anchor(path, dir) {
  const store = new SqliteAuditStore(path, { readonly: true });
  const quiet = () => {};
  const code = await checkpoints(store, { outDir: dir }, quiet, quiet);
  await store.close();
  if (code !== 0) throw new Error(`checkpoints --out ${dir}: exit ${code}`);
}

async function seconds(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function run({ events = 1_000_000, rounds = 3 } = {}) {
  const tmp = scratch('incremental');
  try {
    const path = join(tmp.dir, 'audit.db');
    await buildStore(path, events);
    // Anchors at N, N+2000 and N+3000; the store ends at N+4000: 4000, 2000 and 1000 new rows.
    const dirs = { 4000: join(tmp.dir, 'a4000'), 2000: join(tmp.dir, 'a2000'), 1000: join(tmp.dir, 'a1000') };
    await anchor(path, dirs[4000]);
    await grow(path, 2000, events);
    await anchor(path, dirs[2000]);
    await grow(path, 1000, events + 2000);
    await anchor(path, dirs[1000]);
    await grow(path, 1000, events + 3000);
    const total = events + 4000;

    const store = new SqliteAuditStore(path, { readonly: true });
    const full = [];
    const inc = { 1000: [], 2000: [], 4000: [] };
    for (let r = 0; r < rounds; r++) {
      full.push(
        await seconds(async () => {
          const v = await verifyAuditStore(store);
          if (!v.ok || v.count !== total) throw new Error(`full verify: ${v.reason ?? v.count}`);
        }),
      );
      for (const k of [1000, 2000, 4000]) {
        inc[k].push(
          await seconds(async () => {
            const v = await verifyIncrementally(store, { anchorDir: dirs[k] });
            if (!v.ok || v.logs[0].newRows !== k)
              throw new Error(`incremental ${k}: ${JSON.stringify(v.logs[0])}`);
          }),
        );
      }
    }
    await store.close();
    const size = events >= 1e6 ? `${events / 1e6}M` : `${events / 1e3}k`;
    const base = row({
      section: 'incremental',
      name: `full verifyAuditStore, ${size}+4000-event SQLite store`,
      value: median(full) * 1000,
      unit: 'ms',
      better: 'lower',
    });
    const one = row({
      section: 'incremental',
      name: 'verifyIncrementally, 1,000 rows after the anchor',
      value: median(inc[1000]) * 1000,
      unit: 'ms',
      better: 'lower',
      baseline: base,
    });
    return [
      base,
      one,
      ...[2000, 4000].map((k) =>
        row({
          section: 'incremental',
          name: `verifyIncrementally, ${k.toLocaleString('en-US')} rows after the anchor`,
          value: median(inc[k]) * 1000,
          unit: 'ms',
          better: 'lower',
          baseline: one,
          note: `vs 1,000 rows: ${k / 1000}× the rows`,
        }),
      ),
    ];
  } finally {
    tmp.remove();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--events');
  const events = at > 0 ? Number(process.argv[at + 1]) : 1_000_000;
  console.log(table(await run({ events })));
}
