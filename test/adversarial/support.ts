// Shared by the adversarial suite: a real store built through the audit pipeline, copies of it to
// tamper with through an independent better-sqlite3 connection, and a verifier that opens a store
// the way `onbehalf verify` does (read-only).
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { boundJwk, thisHostOrigins } from '../../src/keys/key-binding.js';
import { type TrustedKey, trustedKeysFromJwks } from '../../src/keys/keys.js';
import type { EventRow } from '../../src/log-format/canonical.js';
import { LogState } from '../../src/log-format/chain.js';
import { type AuditEvent, EVENT_COLUMNS, type StoredAuditEvent } from '../../src/pipeline/event.js';
import { SQLITE_SCHEMA } from '../../src/stores/sqlite-schema.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { type VerifyStoreResult, verifyAuditStore } from '../../src/verify/verify-store.js';
import { testSigningKey } from '../helpers/audit.js';
import { pinnedJwksText } from '../helpers/keys.js';

export const repo = join(import.meta.dirname, '../..');
export const cliMain = join(repo, 'dist/cli/main.js');
export const fixtures = join(repo, 'test/fixtures/adversarial');
/** The test key as an operator pins it: bound to the origins this host's stores name their logs. */
export const pinnedKeys: TrustedKey[] = trustedKeysFromJwks({
  keys: [boundJwk(testSigningKey.publicJwk, [], [thisHostOrigins()])],
});

const run = promisify(execFile);

/** Child-process tests import dist/: build it when a bare `vitest run` comes before any build. */
export async function ensureBuilt(): Promise<void> {
  if (!existsSync(cliMain)) await run('npm', ['run', 'build', '--silent'], { cwd: repo });
}

/** Runs the real CLI (`node dist/cli/main.js …`) and returns its exit code and output. */
export function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliMain, ...args], { maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `onbehalf-adv-${prefix}-`));
}

/** Copies a closed store (its WAL was folded in on close, so the main file is the whole store). */
export function copyStore(from: string, to: string): string {
  copyFileSync(from, to);
  return to;
}

/** Opens a store read-only, as `onbehalf verify` does, and verifies it. */
export async function verifyPath(
  path: string,
  options: { trustedKeys?: readonly TrustedKey[]; externalCheckpoints?: string[] } = {},
): Promise<VerifyStoreResult> {
  const store = new SqliteAuditStore(path, { readonly: true });
  try {
    return await verifyAuditStore(store, options);
  } finally {
    await store.close();
  }
}

/**
 * An attacker's connection: the append-only triggers are dropped first, as anyone with write access
 * to the file can do, and put back as they were when `fn` returns (verify reports a schema that is
 * not the migration's, so a careful attacker covers that track). Closed (and its WAL folded in) then.
 */
export function tamper<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    for (const table of ['audit_events', 'audit_checkpoints', 'audit_keys', 'audit_meta']) {
      db.exec(`DROP TRIGGER IF EXISTS ${table}_no_update; DROP TRIGGER IF EXISTS ${table}_no_delete;`);
    }
    const result = fn(db);
    restoreTriggers(db);
    return result;
  } finally {
    db.close();
  }
}

/** Re-creates the append-only triggers with the migration's own text. */
export function restoreTriggers(db: Database.Database): void {
  for (const statement of SQLITE_SCHEMA.split(/;\s*\n/)) {
    if (/^\s*CREATE TRIGGER/.test(statement)) db.exec(`${statement.trim().replace(/;$/, '')};`);
  }
}

export function allRows(db: Database.Database): StoredAuditEvent[] {
  return db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as StoredAuditEvent[];
}

export function checkpointSizes(db: Database.Database): number[] {
  return (db.prepare('SELECT size FROM audit_checkpoints ORDER BY size').all() as { size: number }[]).map(
    (r) => r.size,
  );
}

/** The event columns of a stored row, as an attacker would re-append them. */
export function eventOf(row: StoredAuditEvent): AuditEvent {
  const event: Record<string, unknown> = {};
  for (const c of EVENT_COLUMNS) event[c] = row[c];
  return event as AuditEvent;
}

/**
 * Rewrites rows from `from` (1-based seq) on with freshly computed integrity columns, as an attacker
 * holding the code (but not the signing key) would after editing history: the chain itself is then
 * consistent, and only signed checkpoints can tell.
 */
export function rechainFrom(
  db: Database.Database,
  origin: string,
  rows: readonly AuditEvent[],
  from: number,
) {
  const state = new LogState(origin);
  const insert = db.prepare(
    `INSERT INTO audit_events (seq, origin, prev_hash, hash, ${EVENT_COLUMNS.join(', ')}) VALUES (@seq, @origin, @prev_hash, @hash, ${EVENT_COLUMNS.map((c) => `@${c}`).join(', ')})`,
  );
  db.transaction(() => {
    db.prepare('DELETE FROM audit_events WHERE seq >= ?').run(from);
    rows.forEach((event, i) => {
      const { integrity } = state.append(event);
      if (i + 1 >= from) insert.run({ ...event, ...integrity });
    });
  })();
}

/** The largest checkpoint size below `seq`, or 0: the last point a signed root still vouches for. */
export function floorCheckpoint(sizes: readonly number[], seq: number): number {
  return sizes.filter((s) => s < seq).reduce((a, b) => Math.max(a, b), 0);
}

export type { EventRow };

/** What {@link buildStore} made: the closed store and every checkpoint note it exported. */
export interface BuiltStore {
  path: string;
  origin: string;
  rows: number;
  /** Every checkpoint the writer signed, in order, as shipped off-host through `onCheckpoint`. */
  exported: string[];
}

/**
 * Writes `actions` audited actions through the real pipeline (AttributionSpanProcessor →
 * AuditSpanProcessor → SqliteAuditStore), a checkpoint every `checkpointEvery` events, and closes it.
 * Risk tier ≥ 2 actions also leave `started` records; some are denied and some fail, so the rows vary.
 */
export async function buildStore(
  path: string,
  actions: number,
  checkpointEvery: number,
): Promise<BuiltStore> {
  const { setupAuditPipeline } = await import('../helpers/audit.js');
  const { withAttribution } = await import('../../src/attribution/attribution.js');
  const { audited } = await import('../../src/attribution/audited.js');
  const pipeline = setupAuditPipeline({ path, store: { checkpointEvery, checkpointIntervalMs: 0 } });
  const exported: string[] = [];
  pipeline.store.onCheckpoint((cp) => exported.push(cp.note));
  const origin = pipeline.store.origin;
  try {
    await withAttribution(
      {
        actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
        principal: { id: 'tom', type: 'human' },
        trigger: { type: 'email', id: 'msg-8821' },
        scopes: ['mail.read', 'mail.send'],
      },
      async () => {
        for (let i = 0; i < actions; i++) {
          const tier = (i % 4) as 0 | 1 | 2 | 3;
          const denied = i % 9 === 5;
          await audited(
            ['read_inbox', 'send_mail', 'pay_invoice', 'delete_mail'][i % 4]!,
            {
              target: `mailbox/tom/${i}`,
              riskTier: tier,
              arguments: { n: i, to: 'dana@acme.example', note: `é ✓ ${i}` },
              policy: { decision: denied ? 'deny' : 'allow', rule: `rule-${i % 3}` },
            },
            () => {
              if (i % 7 === 6) throw new Error(`failed ${i}`);
              return i;
            },
          ).catch(() => undefined);
        }
      },
    );
  } finally {
    await pipeline.teardown();
  }
  const db = new Database(path, { readonly: true });
  const rows = (db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
  db.close();
  return { path, origin, rows, exported };
}

/**
 * A 12-row store (a checkpoint every 5 rows) in its own scratch directory, with what the strongest
 * verify is given: `jwks`, the store's key pinned and bound to this host's origins, and `anchor`, its
 * last checkpoint as kept off-host. `freshCopy()` gives a copy to tamper with; `remove()` cleans up.
 */
export interface AnchoredStore {
  dir: string;
  base: BuiltStore;
  jwks: string;
  anchor: string;
  freshCopy(): string;
  remove(): void;
}

export async function anchoredStore(prefix: string): Promise<AnchoredStore> {
  await ensureBuilt();
  const dir = scratchDir(prefix);
  const base = await buildStore(join(dir, 'base.db'), 12, 5);
  const jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, pinnedJwksText([testSigningKey]));
  const anchor = join(dir, 'anchor.note');
  writeFileSync(anchor, base.exported.at(-1)!);
  let copies = 0;
  return {
    dir,
    base,
    jwks,
    anchor,
    freshCopy: () => copyStore(base.path, join(dir, `copy-${copies++}.db`)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
