// Append rate through the whole pipeline: audited() under withAttribution → AttributionSpanProcessor →
// AuditSpanProcessor → SqliteAuditStore on disk, in the default (per-event), strict and group modes.
// Run after `npm run build`: node bench/append-rate.mjs [N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOnSampler, TracerProvider as BasicTracerProvider } from '@opentelemetry/sdk-trace';
import Database from 'better-sqlite3';
import { AttributionSpanProcessor, AuditSpanProcessor, audited, withAttribution } from '../dist/index.js';
import { generateSigningKey } from '../dist/keys/index.js';
import { SqliteAuditStore } from '../dist/stores/index.js';

const MODES = [
  { name: 'per-event (default: WAL, synchronous=NORMAL)', durability: 'normal', commit: 'per-event' },
  { name: 'strict (WAL, synchronous=FULL)', durability: 'strict', commit: 'per-event' },
  { name: 'group commit (WAL, NORMAL)', durability: 'normal', commit: 'group' },
];

const attribution = {
  actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
  principal: { id: 'tom', type: 'human' },
  trigger: { type: 'email', id: 'msg-8821' },
};

async function measure(mode, n, signingKey) {
  const dir = mkdtempSync(join(tmpdir(), 'onbehalf-append-rate-'));
  const path = join(dir, 'audit.db');
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const store = new SqliteAuditStore(path, { durability: mode.durability, signingKey });
  let errors = 0;
  const auditProcessor = new AuditSpanProcessor({ store, commit: mode.commit, onError: () => errors++ });
  const provider = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new AttributionSpanProcessor({ env: {} }), auditProcessor],
  });
  trace.setGlobalTracerProvider(provider);
  try {
    const details = { target: 'dana@acme.example', riskTier: 1, arguments: { to: 'dana@acme.example' } };
    const started = process.hrtime.bigint();
    await withAttribution(attribution, async () => {
      for (let i = 0; i < n; i++) await audited('send_mail', details, () => i);
    });
    // Group commit: the rate counts only events that reached the disk.
    await auditProcessor.forceFlush();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const { stored, lost } = auditProcessor.stats;
    await provider.shutdown();
    const db = new Database(path, { readonly: true });
    const count = db.prepare("SELECT count(*) AS n FROM audit_events WHERE record_type = 'action'").get().n;
    db.close();
    if (count !== n || lost > 0 || errors > 0)
      throw new Error(
        `${mode.name}: stored ${count} of ${n} (stats stored=${stored} lost=${lost}, ${errors} errors)`,
      );
    return { name: mode.name, value: Math.round(n / seconds), unit: 'events/s' };
  } finally {
    trace.disable();
    context.disable();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows `{ name, value, unit }`, one per mode: audited() actions committed per second. */
export async function run({ n = 20_000 } = {}) {
  const signingKey = generateSigningKey();
  const rows = [];
  for (const mode of MODES) rows.push(await measure(mode, n, signingKey));
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const n = Number(process.argv[2] ?? 20_000);
  const rows = await run({ n });
  console.log(`append rate, N=${n} audited() actions through the full pipeline into SQLite`);
  for (const r of rows) console.log(`${r.name.padEnd(48)} ${String(r.value).padStart(8)} ${r.unit}`);
}
