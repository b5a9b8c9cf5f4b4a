// A real audit pipeline for tests: OTel tracer provider → AttributionSpanProcessor → AuditSpanProcessor
// → SqliteAuditStore in a temp dir, plus an independent connection to read what was committed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, type Tracer, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import Database from 'better-sqlite3';
import { generateSigningKey, type SigningKey } from '../../src/keys/keys.js';
import {
  AttributionSpanProcessor,
  type AttributionSpanProcessorOptions,
} from '../../src/pipeline/attribution-span-processor.js';
import {
  type AuditProcessorStats,
  AuditSpanProcessor,
  type AuditSpanProcessorOptions,
} from '../../src/pipeline/audit-span-processor.js';
import type { StoredAuditEvent } from '../../src/pipeline/event.js';
import type { SqliteDatabase } from '../../src/stores/sqlite-driver.js';
import { SqliteAuditStore, type SqliteAuditStoreOptions } from '../../src/stores/sqlite-store.js';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  type Sampler,
  SimpleSpanProcessor,
} from './trace-sdk.js';

/** One checkpoint key for every test store: generating one per store costs time and proves nothing. */
export const testSigningKey: SigningKey = generateSigningKey();

/** A fresh temp directory outside the repo; remove it with `rmSync(dir, { recursive: true, force: true })`. */
export function tempDir(prefix = 'onbehalf-audit-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Options of {@link setupAuditPipeline}; all optional. */
export interface AuditPipelineOptions {
  /** Store file; default `<temp dir>/audit.db`. */
  path?: string;
  /** Store options; `signingKey` defaults to {@link testSigningKey}. */
  store?: SqliteAuditStoreOptions;
  /** Processor options besides `store`; `onError` is always recorded in `errors` too. */
  audit?: Omit<AuditSpanProcessorOptions, 'store'>;
  /** The provider's sampler (wrap it in AuditAwareSampler yourself); default AlwaysOn. */
  sampler?: Sampler;
  /** Attribution processor options; default `{ env: {} }` so the host's ONBEHALF_* is ignored. */
  attribution?: AttributionSpanProcessorOptions;
  /** `service.name` of the provider's resource; default `audit-test`. */
  serviceName?: string;
}

/** What {@link setupAuditPipeline} built. */
export interface AuditPipeline {
  dir: string;
  path: string;
  store: SqliteAuditStore;
  auditProcessor: AuditSpanProcessor;
  attributionProcessor: AttributionSpanProcessor;
  /** Behind a SimpleSpanProcessor: receives only sampled spans, as any exporter would. */
  exporter: InMemorySpanExporter;
  provider: BasicTracerProvider;
  tracer: Tracer;
  /** Every error the audit processor reported through `onError`, with the stats at that moment. */
  errors: { error: Error; stats: AuditProcessorStats }[];
  /** Rows committed to the store, read through a separate connection (what another process would see). */
  rows(where?: string): StoredAuditEvent[];
  /** Shuts the provider down (closing the store), unregisters globals, removes the temp dir. */
  teardown(): Promise<void>;
}

/**
 * Builds and registers globally (audited() uses the global tracer) a tracer provider whose processors
 * are, in order, AttributionSpanProcessor, AuditSpanProcessor on a SqliteAuditStore in a temp dir, and
 * a SimpleSpanProcessor with an in-memory exporter. Call `teardown()` in afterEach.
 */
export function setupAuditPipeline(options: AuditPipelineOptions = {}): AuditPipeline {
  const dir = tempDir();
  const path = options.path ?? join(dir, 'audit.db');
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const store = new SqliteAuditStore(path, { signingKey: testSigningKey, ...options.store });
  const errors: AuditPipeline['errors'] = [];
  const userOnError = options.audit?.onError;
  const auditProcessor = new AuditSpanProcessor({
    ...options.audit,
    store,
    onError(error, stats) {
      errors.push({ error, stats: { ...stats } });
      userOnError?.(error, stats);
    },
  });
  const attributionProcessor = new AttributionSpanProcessor(options.attribution ?? { env: {} });
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'audit-test' }),
    sampler: options.sampler ?? new AlwaysOnSampler(),
    spanProcessors: [attributionProcessor, auditProcessor, new SimpleSpanProcessor(exporter)],
  });
  trace.setGlobalTracerProvider(provider);
  return {
    dir,
    path,
    store,
    auditProcessor,
    attributionProcessor,
    exporter,
    provider,
    tracer: provider.getTracer('audit-test'),
    errors,
    rows: (where) => readRows(path, where),
    async teardown() {
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        context.disable();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A pipeline whose store holds a gap record: `spans` tool calls ended at once into a group-commit
 * queue of `queue` slots, so `spans - queue` of them are lost and recorded as one gap. Tear it down.
 */
export async function pipelineWithGap(spans: number, queue: number): Promise<AuditPipeline> {
  const pl = setupAuditPipeline({
    audit: { commit: 'group', groupCommitMs: 60_000, maxQueueSize: queue },
    store: { checkpointIntervalMs: 0 },
  });
  for (let i = 0; i < spans; i++) {
    pl.tracer
      .startSpan(`execute_tool step_${i}`, {
        attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': `step_${i}` },
      })
      .end();
  }
  await pl.auditProcessor.forceFlush();
  return pl;
}

/**
 * Rows of `audit_events` in (origin, seq) order, read through a new read-only connection that is
 * closed again: proof that they are committed, not merely held by the writer.
 */
export function readRows(path: string, where?: string): StoredAuditEvent[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(`SELECT * FROM audit_events${where ? ` WHERE ${where}` : ''} ORDER BY origin, seq`)
      .all() as StoredAuditEvent[];
  } finally {
    db.close();
  }
}

/**
 * The store's own connection (either driver), for assertions on per-connection state (PRAGMAs) that no
 * other connection can see. It reaches into a private field, so it checks what it found.
 */
export function storeConnection(store: SqliteAuditStore): SqliteDatabase {
  const db = (store as unknown as { db?: Partial<SqliteDatabase> }).db;
  if (typeof db?.pragma !== 'function' || typeof db.exec !== 'function')
    throw new Error('SqliteAuditStore no longer keeps its connection in `db`');
  return db as SqliteDatabase;
}

/** The value of a one-value PRAGMA (`journal_mode`, `synchronous`, …) on a connection. */
export function pragmaValue(db: SqliteDatabase, name: string): unknown {
  const [row] = db.pragma(name) as Record<string, unknown>[];
  return row ? Object.values(row)[0] : undefined;
}
