// Section: the two SQLite drivers. The same store, pipeline and rows on `node:sqlite` (Node >= 22.13,
// no native build) against better-sqlite3 (a native addon): events/s appended through the
// AuditSpanProcessor (per-event and group commit) and events/s verified. Each row's baseline is
// better-sqlite3 in the same run, so the ratio is node:sqlite's speed relative to it. Skipped, with a
// note, where Node has no node:sqlite or better-sqlite3 is not installed.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AuditSpanProcessor } from '../dist/index.js';
import { SqliteAuditStore } from '../dist/stores/index.js';
import { openSqlite } from '../dist/stores/sqlite-driver.js';
import { verifyAuditStore } from '../dist/verify/index.js';
import { auditedSpans } from './fixtures.mjs';
import { interleaved, rate, row, scratch, settings } from './lib.mjs';
import { buildStore } from './verify.bench.mjs';

const DRIVERS = ['node:sqlite', 'better-sqlite3'];
const MODES = [
  { name: 'per-event', commit: 'per-event', batch: 100 },
  { name: 'group commit', commit: 'group', batch: 1000 },
];

function available(driver) {
  try {
    openSqlite(':memory:', { driver }).close();
    return true;
  } catch {
    return false;
  }
}

/** The better-sqlite3 row, then the node:sqlite row measured against it; `%s` in `name` is the driver. */
function driverRows(name, node, better) {
  const base = row({
    section: 'driver',
    name: name.replace('%s', 'better-sqlite3'),
    value: better,
    unit: 'events/s',
    better: 'higher',
  });
  const ours = row({
    section: 'driver',
    name: name.replace('%s', 'node:sqlite'),
    value: node,
    unit: 'events/s',
    better: 'higher',
    baseline: base,
  });
  return [base, ours];
}

export async function run({ mode = 'quick' } = {}) {
  const missing = DRIVERS.filter((d) => !available(d));
  if (missing.length) {
    return [
      row({
        section: 'driver',
        name: `SQLite drivers (skipped: ${missing.join(', ')} not available on Node ${process.versions.node})`,
        value: Number.NaN,
        unit: '',
        better: 'higher',
      }),
    ];
  }
  const s = settings(mode);
  const spans = auditedSpans(64);
  const rows = [];
  for (const m of MODES) {
    const tmp = scratch('driver');
    try {
      const pipelines = DRIVERS.map((driver) => {
        const store = new SqliteAuditStore(join(tmp.dir, `${driver.replace(':', '-')}.db`), { driver });
        const processor = new AuditSpanProcessor({ store, commit: m.commit });
        let k = 0;
        const batch = async () => {
          for (let i = 0; i < m.batch; i++) processor.onEnd(spans[k++ & 63]);
          if (m.commit === 'group') await processor.forceFlush();
        };
        return { processor, batch };
      });
      const [node, better] = await interleaved(
        s.rounds,
        () => rate(pipelines[0].batch, m.batch, s.appendMs),
        () => rate(pipelines[1].batch, m.batch, s.appendMs),
      );
      for (const p of pipelines) {
        await p.processor.shutdown();
        if (p.processor.stats.lost || p.processor.stats.storeErrors)
          throw new Error(`driver bench ${m.name}: events lost (${JSON.stringify(p.processor.stats)})`);
      }
      rows.push(...driverRows(`append, %s, ${m.name}`, node, better));
    } finally {
      tmp.remove();
    }
  }
  const tmp = scratch('driver-verify');
  try {
    const n = mode === 'full' ? 200_000 : mode === 'tiny' ? 500 : 20_000;
    const path = join(tmp.dir, 'verify.db');
    await buildStore(path, n);
    const verifyWith = (driver) => async () => {
      const store = new SqliteAuditStore(path, { readonly: true, driver });
      const t0 = process.hrtime.bigint();
      // On this thread: worker threads open the file with the default driver, not this one.
      const result = await verifyAuditStore(store, { workers: 1 });
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      await store.close();
      if (!result.ok) throw new Error(`driver bench: verify with ${driver} failed`);
      return n / seconds;
    };
    const [node, better] = await interleaved(
      s.rounds,
      verifyWith('node:sqlite'),
      verifyWith('better-sqlite3'),
    );
    rows.push(...driverRows(`verify, %s, ${n} events`, node, better));
  } finally {
    tmp.remove();
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { table } = await import('./lib.mjs');
  console.log(table(await run({ mode: process.argv.includes('--full') ? 'full' : 'quick' })));
}
