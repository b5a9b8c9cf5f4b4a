// The workload behind the verify profile in BENCHMARKS.md: reading back a 100 000-event store alone,
// then verifying it, so the share of reading rows out of SQLite is visible. WORKERS (default 1: this
// thread) verifies on that many worker threads instead; --cpu-prof then writes one profile a thread.
//   npm run build && node --cpu-prof --cpu-prof-dir=prof bench/profile-verify.mjs [WORKERS]
import { join } from 'node:path';
import { SqliteAuditStore } from '../dist/stores/index.js';
import { verifyAuditStore } from '../dist/verify/index.js';
import { scratch } from './lib.mjs';
import { buildStore } from './verify.bench.mjs';

const N = 100_000;
const workers = Number(process.argv[2] ?? 1);
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
  const cpu0 = process.cpuUsage();
  // By default on this thread, so the profile shows the reading (worker threads take it elsewhere).
  const result = await verifyAuditStore(store, { workers });
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `verify (workers: ${workers}) ${result.ok ? 'intact' : 'BROKEN'} ${result.count} rows: ${Math.round(performance.now() - t0)} ms, ${Math.round((cpu.user + cpu.system) / 1000)} ms CPU (all threads)`,
  );
  await store.close();
} finally {
  tmp.remove();
}
