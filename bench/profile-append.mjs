// The workload behind the append profile in BENCHMARKS.md: 60 000 audit-relevant spans through
// AuditSpanProcessor (group commit) into a fresh SQLite store, with no benchmark harness around it.
//   npm run build && node --cpu-prof --cpu-prof-dir=prof bench/profile-append.mjs
import { join } from 'node:path';
import { AuditSpanProcessor } from '../dist/index.js';
import { SqliteAuditStore } from '../dist/stores/index.js';
import { auditedSpans } from './fixtures.mjs';
import { scratch } from './lib.mjs';

const N = 60_000;
const tmp = scratch('profile-append');
try {
  const spans = auditedSpans(64);
  const store = new SqliteAuditStore(join(tmp.dir, 'audit.db'), { checkpointIntervalMs: 0 });
  const processor = new AuditSpanProcessor({ store, commit: 'group', maxBatchSize: 1000, maxQueueSize: N });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) processor.onEnd(spans[i & 63]);
  await processor.forceFlush();
  const seconds = (performance.now() - t0) / 1000;
  console.log(`${Math.round(N / seconds)} events/s`, processor.stats);
  await processor.shutdown();
} finally {
  tmp.remove();
}
