// The workload behind the verify profile in BENCHMARKS.md: reading back a 100 000-event store alone,
// then verifying it, so the share of reading rows out of SQLite is visible.
//   npm run build && node --cpu-prof --cpu-prof-dir=prof bench/profile-verify.mjs
import { join } from 'node:path';
import { SqliteAuditStore } from '../dist/stores/index.js';
import { verifyAuditStore } from '../dist/verify/index.js';
import { scratch } from './lib.mjs';
import { buildStore } from './verify.bench.mjs';

const N = 100_000;
const tmp = scratch('profile-verify');
try {
  const path = join(tmp.dir, 'audit.db');
  await buildStore(path, N);
  const store = new SqliteAuditStore(path, { readonly: true });
  let t0 = performance.now();
  let rows = 0;
  for (const batch of store.readLogSync(store.origin)) rows += batch.length;
  console.log(`read ${rows} rows: ${Math.round(performance.now() - t0)} ms`);
  t0 = performance.now();
  // On this thread, so the profile shows the reading (worker threads would take it elsewhere).
  const result = await verifyAuditStore(store, { workers: 1 });
  console.log(
    `verify ${result.ok ? 'intact' : 'BROKEN'} ${result.count} rows: ${Math.round(performance.now() - t0)} ms`,
  );
  await store.close();
} finally {
  tmp.remove();
}
