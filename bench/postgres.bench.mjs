// PostgreSQL fleet store append throughput: 1 writer against 4 concurrent writers (separate processes,
// each its own origin and hash chain), appending in batches (group commit, as the AuditSpanProcessor
// does for PostgreSQL) and one event per transaction. Needs the server on 127.0.0.1:5432 (or
// ONBEHALF_BENCH_PG=postgres://user@host:port); creates and drops its own database.
//
//   npm run build && node bench/postgres.bench.mjs [--tiny|--full]
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { generateSigningKey } from '../dist/keys/index.js';
import { PostgresAuditStore } from '../dist/stores/index.js';

const SERVER = process.env.ONBEHALF_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432';
const SIZES = {
  tiny: { batched: 1_000, single: 200 },
  quick: { batched: 20_000, single: 2_000 },
  full: { batched: 100_000, single: 10_000 },
};

function event(tag, i) {
  return {
    event_id: `evt-${tag}-${i}-${randomBytes(6).toString('hex')}`,
    record_type: 'action',
    timestamp: new Date().toISOString(),
    actor_type: 'agent',
    actor_id: 'nhi:agent-7f3',
    actor_name: 'inbox-agent',
    owner_id: 'tom',
    on_behalf_of: 'tom',
    trigger_type: 'email',
    trigger_id: `msg-${8821 + (i % 50)}`,
    intent: 'triage_inbox',
    session_id: `sess-${tag}`,
    delegation_chain: '["tom","nhi:agent-7f3"]',
    scopes: '["mail.read","mail.send"]',
    action: i % 3 ? 'read_inbox' : 'send_mail',
    target: `mailbox/tom/${i}`,
    risk_tier: i % 4,
    result: 'ok',
    policy_decision: 'allow',
    policy_rule: 'mail.default',
    approval_state: 'not_required',
    approved_by: null,
    provenance: 'local',
    tool_arguments: '{"folder":"inbox","limit":20}',
    redactions: null,
    trace_id: randomBytes(16).toString('hex'),
    span_id: randomBytes(8).toString('hex'),
    parent_span_id: randomBytes(8).toString('hex'),
    service_name: 'inbox-agent',
    duration_ms: 3.5,
    attributes: '{"gen_ai.tool.name":"read_inbox"}',
  };
}

/** A writer process: opens its store, waits for `go`, appends, reports how long it took. */
async function child() {
  const [url, tag, n, batch, keyDir] = process.argv.slice(3);
  const store = new PostgresAuditStore(url, { keyDir, checkpointEvery: 10_000 });
  await store.ready();
  const events = Array.from({ length: Number(n) }, (_, i) => event(tag, i));
  process.on('message', async () => {
    const start = performance.now();
    for (let i = 0; i < events.length; i += Number(batch))
      await store.append(events.slice(i, i + Number(batch)));
    const ms = performance.now() - start;
    await store.close();
    process.send({ ms });
    process.disconnect();
  });
  process.send({ ready: true });
}

/** Runs `writers` processes at once; events per second over all of them, from `go` to the last one done. */
async function measure(url, keyDir, writers, perWriter, batch) {
  const self = fileURLToPath(import.meta.url);
  const procs = Array.from({ length: writers }, (_, w) =>
    fork(self, ['--child', url, `w${w}-${batch}`, String(perWriter), String(batch), keyDir], {
      stdio: 'inherit',
    }),
  );
  const next = (p) =>
    new Promise((resolve, reject) => {
      p.once('message', resolve);
      p.once('exit', (code) => code && reject(new Error(`writer exited with ${code}`)));
    });
  await Promise.all(procs.map(next));
  const start = performance.now();
  const done = procs.map(next);
  for (const p of procs) p.send('go');
  await Promise.all(done);
  const seconds = (performance.now() - start) / 1000;
  return (writers * perWriter) / seconds;
}

/** Rows: events/s with 1 and 4 writers, batched and single-event, 4 writers compared with 1. */
export async function run({ mode = 'quick', print = false } = {}) {
  const sizes = SIZES[mode] ?? SIZES.quick;
  const name = `onbehalf_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = `${SERVER}/${name}`;
  const keyDir = mkdtempSync(join(tmpdir(), 'onbehalf-pg-bench-'));
  const rows = [];
  try {
    const owner = new PostgresAuditStore(url, { signingKey: generateSigningKey(), keyDir });
    await owner.ready();
    await owner.close();
    const cases = [
      ['batches of 100', sizes.batched, 100],
      ['one event per transaction', sizes.single, 1],
    ];
    for (const [label, n, batch] of cases) {
      const one = await measure(url, keyDir, 1, n, batch);
      const four = await measure(url, keyDir, 4, n, batch);
      const base = `append, 1 writer, ${label}`;
      rows.push({ name: base, value: Math.round(one), unit: 'events/s' });
      rows.push({
        name: `append, 4 writers, ${label}`,
        value: Math.round(four),
        unit: 'events/s',
        baselineName: base,
        ratio: four / one,
      });
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    rmSync(keyDir, { recursive: true, force: true });
  }
  if (print) {
    for (const r of rows) {
      const vs = r.baselineName ? `  ${r.ratio.toFixed(2)}x 1 writer` : '';
      console.log(`${r.name.padEnd(48)} ${String(r.value).padStart(9)} ${r.unit}${vs}`);
    }
  }
  return rows;
}

if (process.argv[2] === '--child') await child();
else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const mode = process.argv.includes('--full') ? 'full' : process.argv.includes('--tiny') ? 'tiny' : 'quick';
  await run({ mode, print: true });
}
