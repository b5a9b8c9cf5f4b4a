// What the replacement guard costs a raw insert, per schema version (docs/log-format.md, "The
// replacement guard"): CPU time per insert, one row per commit and 1,000 per commit, and WAL pages
// written per commit, on the same realistic row, 20,000 rows in the table first. Rounds interleave
// the variants; medians are printed.
//   npm run build && node bench/replace-guard.mjs [ROUNDS]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TABLE_COLUMNS } from '../dist/stores/query-sql.js';
import { openSqlite } from '../dist/stores/sqlite-driver.js';
import { sqliteSchema } from '../dist/stores/sqlite-schema.js';
import { lookupOrderEvent } from './fixtures.mjs';

const VARIANTS = [
  { name: 'version 2, INSERT (RAISE(ABORT) guard: statement journal)', version: '2', verb: 'INSERT' },
  { name: 'version 3, INSERT (RAISE(FAIL) guard, ABORT key constraints)', version: '3', verb: 'INSERT' },
  { name: 'version 3, INSERT OR FAIL (as the writer inserts)', version: '3', verb: 'INSERT OR FAIL' },
];
const PRELOAD = 20_000;
const SINGLE = 2_000;
const BATCHES = 10;
const BATCH = 1_000;
const rounds = Number(process.argv[2] ?? 5);
const event = await lookupOrderEvent();
const HASH = 'a'.repeat(64);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

function measure(variant) {
  const dir = mkdtempSync(join(tmpdir(), 'onbehalf-guard-'));
  const path = join(dir, 'audit.db');
  try {
    const db = openSqlite(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('temp_store = MEMORY');
    db.pragma('wal_autocheckpoint = 0');
    db.exec(sqliteSchema(variant.version));
    const insert = db.prepare(
      `${variant.verb} INTO audit_events (${TABLE_COLUMNS.join(', ')}) VALUES (${TABLE_COLUMNS.map(() => '?').join(', ')})`,
    );
    const template = TABLE_COLUMNS.map((c) =>
      c === 'origin' ? 'raw' : c === 'prev_hash' || c === 'hash' ? HASH : (event[c] ?? null),
    );
    const SEQ = TABLE_COLUMNS.indexOf('seq');
    const ID = TABLE_COLUMNS.indexOf('event_id');
    let seq = 0;
    const one = () => {
      const values = template.slice();
      seq++;
      values[SEQ] = seq;
      values[ID] = `evt-${seq.toString(16).padStart(12, '0')}`;
      insert.run(...values);
    };
    const many = db.transaction((n) => {
      for (let i = 0; i < n; i++) one();
    });
    for (let i = 0; i < PRELOAD / BATCH; i++) many(BATCH);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = db.pragma('page_size', { simple: true });
    let t = cpu();
    for (let i = 0; i < SINGLE; i++) one();
    const single = (cpu() - t) / SINGLE;
    // Each WAL frame is a page plus its 24-byte header.
    const pages = statSync(`${path}-wal`).size / (pageSize + 24) / SINGLE;
    t = cpu();
    for (let i = 0; i < BATCHES; i++) many(BATCH);
    const batched = (cpu() - t) / (BATCHES * BATCH);
    db.close();
    return { single, batched, pages };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = VARIANTS.map(() => []);
for (let r = 0; r < rounds; r++) {
  for (const [i, v] of VARIANTS.entries()) results[i].push(measure(v));
}
console.log(`CPU µs per insert and WAL pages per commit, median of ${rounds} rounds, ${PRELOAD} rows first`);
console.log('| schema | one per commit | 1,000 per commit | WAL pages per commit |\n|---|---|---|---|');
VARIANTS.forEach((v, i) => {
  const m = (k) => median(results[i].map((x) => x[k]));
  console.log(
    `| ${v.name} | ${m('single').toFixed(1)} µs | ${m('batched').toFixed(1)} µs | ${m('pages').toFixed(1)} |`,
  );
});
