// Section 2: audit append rate. Events/s through AuditSpanProcessor into SQLite, against raw
// inserts of the same rows into the same table (same driver, schema, indexes, triggers and pragmas),
// in the same durability mode, each row built as cheaply as JavaScript allows (raw-writer.mjs). The onbehalf side also pays for mapping the span,
// redaction, the hash chain, the Merkle frontier and a signed checkpoint every 1000 events: that is
// the cost being measured.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AuditSpanProcessor } from '../dist/index.js';
import { recognizeToolCall, spanToAuditEvent } from '../dist/sdk/index.js';
import { SqliteAuditStore } from '../dist/stores/index.js';
import { auditedSpans } from './fixtures.mjs';
import { allOf, atLeast, interleaved, rate, row, scratch, settings, valueAtLeast } from './lib.mjs';
import { rawDurableWriter } from './raw-writer.mjs';

const MODES = [
  // name, store durability, processor commit, events per batch (per-event: one at a time anyway)
  { name: 'per-event (WAL, synchronous=NORMAL)', durability: 'normal', commit: 'per-event', batch: 100 },
  { name: 'strict (WAL, synchronous=FULL)', durability: 'strict', commit: 'per-event', batch: 20 },
  { name: 'group commit (WAL, NORMAL, 1000/tx)', durability: 'normal', commit: 'group', batch: 1000 },
];

/** The fair raw baseline (`raw-writer.mjs`): the same row, bound by position, built without objects. */
function rawWriter(path, mode, event) {
  return rawDurableWriter(path, mode.commit, { event, durability: mode.durability });
}

export async function run({ mode = 'quick' } = {}) {
  const s = settings(mode);
  const spans = auditedSpans(64);
  const event = spanToAuditEvent(spans[0], recognizeToolCall(spans[0]), 'action');
  const rows = [];
  for (const m of MODES) {
    const tmp = scratch('append');
    try {
      const store = new SqliteAuditStore(join(tmp.dir, 'onbehalf.db'), { durability: m.durability });
      let lostReported = 0;
      const processor = new AuditSpanProcessor({
        store,
        commit: m.commit,
        onError: () => lostReported++,
      });
      const raw = rawWriter(join(tmp.dir, 'raw.db'), m, event);
      let k = 0;
      const onbehalfBatch = async () => {
        for (let i = 0; i < m.batch; i++) processor.onEnd(spans[k++ & 63]);
        if (m.commit === 'group') await processor.forceFlush();
      };
      const [ours, theirs] = await interleaved(
        s.rounds,
        () => rate(onbehalfBatch, m.batch, s.appendMs),
        () => rate(() => raw.batch(m.batch), m.batch, s.appendMs),
      );
      await processor.shutdown();
      await raw.close();
      const { lost, storeErrors, mappingErrors } = processor.stats;
      if (lost || storeErrors || mappingErrors || lostReported)
        throw new Error(`append ${m.name}: events lost or failed (${JSON.stringify(processor.stats)})`);
      const base = row({
        section: 'append',
        name: `raw insert (same driver, row built by position), ${m.name}`,
        value: theirs,
        unit: 'events/s',
        better: 'higher',
      });
      rows.push(base);
      rows.push(
        row({
          section: 'append',
          name: `AuditSpanProcessor → SQLite, ${m.name}`,
          value: ours,
          unit: 'events/s',
          better: 'higher',
          baseline: base,
          goal: m.commit === 'group' ? allOf(atLeast(0.8), valueAtLeast(100_000, 'events/s')) : atLeast(0.8),
        }),
      );
    } finally {
      tmp.remove();
    }
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { table } = await import('./lib.mjs');
  console.log(table(await run({ mode: process.argv.includes('--full') ? 'full' : 'quick' })));
}
