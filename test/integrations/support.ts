// Shared by the framework tests: a fresh dist/ for child processes, running examples, reading stores,
// and an in-process pipeline (real OTel SDK, onbehalf's processors, a SQLite store in a temp dir).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { context, propagation, type TextMapPropagator, type Tracer, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import Database from 'better-sqlite3';
import { AttributionSpanProcessor } from '../../src/pipeline/attribution-span-processor.js';
import { AuditSpanProcessor } from '../../src/pipeline/audit-span-processor.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { BasicTracerProvider } from '../helpers/trace-sdk.js';

export const repo = join(import.meta.dirname, '../..');
const run = promisify(execFile);

/** A row of `audit_events`, as the tests read it. */
export type Row = Record<string, unknown>;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Child processes load onbehalf from dist/ (`onbehalf/register`, `import 'onbehalf'`): build it when
 * src/ is newer, under a lock so parallel test files do not build over each other.
 */
export async function ensureBuilt(): Promise<void> {
  const lock = join(tmpdir(), `onbehalf-build-lock-${Buffer.from(repo).toString('hex').slice(-16)}`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held too long`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    let built = 0;
    try {
      built = statSync(join(repo, 'dist/index.js')).mtimeMs;
    } catch {}
    if (newestMtime(join(repo, 'src')) > built) await run('npm', ['run', 'build'], { cwd: repo });
  } finally {
    rmdirSync(lock);
  }
}

/** A temp dir removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `onbehalf-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A minimal environment: nothing from this shell leaks into the example but PATH and HOME. */
export function baseEnv(extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    ...extra,
  };
}

/** Runs `node [--import onbehalf/register] script` from the repository root. */
export async function runNode(
  script: string,
  env: Record<string, string>,
  options: { register?: boolean; args?: string[] } = {},
): Promise<{ stdout: string; stderr: string }> {
  const argv = [
    ...(options.register ? ['--import', 'onbehalf/register'] : []),
    script,
    ...(options.args ?? []),
  ];
  return run(process.execPath, argv, { cwd: repo, env: baseEnv(env), timeout: 60_000 });
}

/** The action rows of a SQLite audit store, oldest first. */
export function actionRows(path: string): Row[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT * FROM audit_events WHERE record_type = 'action' ORDER BY seq").all() as Row[];
  } finally {
    db.close();
  }
}

/** Columns that differ between two runs of the same agent (ids, times, hashes). */
const PER_RUN = new Set([
  'event_id',
  'timestamp',
  'trace_id',
  'span_id',
  'parent_span_id',
  'duration_ms',
  'prev_hash',
  'hash',
  'origin',
]);

/** A row without its per-run columns, to compare two runs. */
export function stable(row: Row): Row {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !PER_RUN.has(k)));
}

/** The tests' attribution: inbox-agent acting for Tom on email msg-8821. */
export const inboxAgent = {
  actor: { type: 'agent' as const, id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
  principal: { id: 'tom', type: 'human' as const },
  trigger: { type: 'email', id: 'msg-8821' },
};

/** The inbox agent configured by the environment only: its identity, Tom, email msg-8821. */
export const inboxAgentEnv = {
  ONBEHALF_AGENT_ID: 'nhi:agent-7f3',
  ONBEHALF_AGENT_NAME: 'inbox-agent',
  ONBEHALF_AGENT_OWNER: 'tom',
  ONBEHALF_ON_BEHALF_OF: 'tom',
  ONBEHALF_TRIGGER: 'email:msg-8821',
};

/** The attribution columns every row of the inbox agent must carry (test/helpers/inbox-agent-row.ts). */
export { attributedToInboxAgent } from '../helpers/inbox-agent-row.js';

export interface Pipeline {
  tracer: Tracer;
  store: SqliteAuditStore;
  audit: AuditSpanProcessor;
  rows(): Row[];
  teardown(): Promise<void>;
}

/** The real OTel SDK with onbehalf's processors and a SQLite store, registered globally. */
export function setupPipeline(options: { propagator?: TextMapPropagator } = {}): Pipeline {
  const tmp = tempDir('frameworks');
  const path = join(tmp.dir, 'audit.db');
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  if (options.propagator) propagation.setGlobalPropagator(options.propagator);
  const store = new SqliteAuditStore(path);
  const audit = new AuditSpanProcessor({ store });
  const provider = new BasicTracerProvider({
    spanProcessors: [new AttributionSpanProcessor({ env: {} }), audit],
  });
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer('frameworks-test'),
    store,
    audit,
    rows: () => actionRows(path),
    async teardown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      tmp.remove();
    },
  };
}
