// Anchored or flagged: with pinned keys a log is vouched for only up to its last checkpoint one of
// them signed. A log rewritten with every checkpoint deleted, or made up from nothing, links
// perfectly; it must not be called intact (exit 3), and an off-host checkpoint turns it into exit 1.

import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogState } from '../../src/log-format/chain.js';
import { EVENT_COLUMNS } from '../../src/pipeline/event.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import {
  type AnchoredStore,
  allRows,
  anchoredStore,
  type BuiltStore,
  cli,
  eventOf,
  rechainFrom,
  tamper,
} from './support.js';

let fixture: AnchoredStore;
let dir: string;
let base: BuiltStore;
let jwks: string;
let anchor: string;
let freshCopy: () => string;

beforeAll(async () => {
  fixture = await anchoredStore('anchoring');
  ({ dir, base, jwks, anchor, freshCopy } = fixture);
}, 60_000);

afterAll(() => fixture?.remove());

describe('with pinned keys, a log is vouched for only up to its last trusted checkpoint', {
  timeout: 240_000,
}, () => {
  it('a full rewrite with every checkpoint deleted: exit 3 with pinned keys, exit 1 with the off-host checkpoint', async () => {
    const path = freshCopy();
    tamper(path, (db) => {
      const events = allRows(db).map(eventOf);
      events[2] = { ...events[2]!, target: 'attacker@evil.example', on_behalf_of: 'cfo' };
      rechainFrom(db, base.origin, events, 1);
      db.exec('DELETE FROM audit_checkpoints');
    });
    const pinned = await cli('verify', path, '--trusted-keys', jwks);
    expect(pinned.code, pinned.stdout).toBe(3);
    expect(pinned.stdout).toContain(
      `UNVOUCHED  ${base.origin}: ${base.rows} events, 0 signed checkpoint(s) verified`,
    );
    expect(pinned.stdout).toContain(
      `reason: no checkpoint signed by a pinned key covers any of its ${base.rows} rows`,
    );
    const report = await cli('report', path, '--trusted-keys', jwks, '--out', join(dir, 'unvouched.html'));
    expect(report.code, report.stderr).toBe(3);
    expect(report.stderr).toContain('store not vouched for');

    const anchored = await cli('verify', path, '--trusted-keys', jwks, '--checkpoint', anchor);
    expect(anchored.code, anchored.stdout).toBe(1);
    expect(anchored.stdout).toContain('first bad seq: 1\n');
    // Without pinned keys the store's own keys vouch for nothing either: it says so.
    const own = await cli('verify', path);
    expect(own.stdout).toContain('checkpoint keys were read from the store itself');
  });

  it('a made-up store (the real schema, rows chained, no checkpoint): exit 3, and exit 1 against the real anchor', async () => {
    const path = join(dir, 'made-up.db');
    const store = new SqliteAuditStore(path, { checkpointIntervalMs: 0, checkpointEvery: 1_000_000 });
    const origin = store.origin;
    await store.close();
    // The writer signed one checkpoint on close with a key of its own; a forger deletes it.
    tamper(path, (db) => {
      rechainFrom(db, origin, allRows(new Database(base.path, { readonly: true })).map(eventOf), 1);
      db.exec('DELETE FROM audit_checkpoints');
    });
    const r = await cli('verify', path, '--trusted-keys', jwks);
    expect(r.code, r.stdout).toBe(3);
    expect(r.stdout).toContain(`UNVOUCHED  ${origin}:`);
    const withAnchor = await cli('verify', path, '--trusted-keys', jwks, '--checkpoint', anchor);
    expect(withAnchor.code, withAnchor.stdout).toBe(1);
    expect(withAnchor.stdout).toContain(`TAMPERED  ${base.origin}: 0 events`);
    expect(withAnchor.stdout).toContain('which is not in this store (store replaced or rolled back)');
  });

  it('a log planted under another origin in a SQLite store is named, first bad seq and all', async () => {
    const path = freshCopy();
    const planted = 'onbehalf/other-host/feed';
    tamper(path, (db) => {
      const state = new LogState(planted);
      const insert = db.prepare(
        `INSERT INTO audit_events (seq, origin, prev_hash, hash, ${EVENT_COLUMNS.join(', ')}) VALUES (@seq, @origin, @prev_hash, @hash, ${EVENT_COLUMNS.map((c) => `@${c}`).join(', ')})`,
      );
      for (const [i, row] of allRows(db).slice(0, 3).entries()) {
        const event = { ...eventOf(row), event_id: `planted-${i}` };
        insert.run({ ...event, ...state.append(event).integrity });
      }
    });
    const r = await cli('verify', path, '--trusted-keys', jwks, '--checkpoint', anchor);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toContain(`TAMPERED  ${planted}: 3 events`);
    expect(r.stdout).toContain('first bad seq: 1\n');
    expect(r.stdout).toMatch(/is not this store's origin/);
    // The real log is intact; the planted one is what breaks the store.
    expect(r.stdout).toContain(`intact  ${base.origin}: ${base.rows} events`);
  });

  it('truncated with its own checkpoints: exit 0 without an anchor, saying what one would add; exit 1 with it', async () => {
    const path = freshCopy();
    tamper(path, (db) => {
      db.prepare('DELETE FROM audit_events WHERE seq > 10').run();
      db.prepare('DELETE FROM audit_checkpoints WHERE size > 10').run();
    });
    const r = await cli('verify', path, '--trusted-keys', jwks);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('vouched for by signed checkpoints up to seq 10');
    expect(r.stdout).toContain(
      'note: no off-host checkpoint given: a log cut back together with its own checkpoints',
    );
    const anchored = await cli('verify', path, '--trusted-keys', jwks, '--checkpoint', anchor);
    expect(anchored.code).toBe(1);
    expect(anchored.stdout).toContain('first bad seq: 11\n');
  });

  it('rows after the last checkpoint are reported as an unanchored tail, with their count and seq range', async () => {
    const path = freshCopy();
    tamper(path, (db) => {
      const events = allRows(db).map(eventOf);
      events.push({
        ...events[0]!,
        event_id: 'forged',
        actor_type: 'human',
        actor_id: 'tom',
        action: 'approve_recipient',
      });
      rechainFrom(db, base.origin, events, base.rows + 1);
    });
    const r = await cli('verify', path, '--trusted-keys', jwks, '--checkpoint', anchor);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain(`anchored off-host up to seq ${base.rows}`);
    expect(r.stdout).toContain(
      `unanchored tail: 1 row(s), seq ${base.rows + 1}: they link, but no signed checkpoint covers them yet`,
    );
    const json = JSON.parse((await cli('verify', path, '--trusted-keys', jwks, '--format', 'json')).stdout);
    expect(json.logs[0].unanchored).toEqual({ count: 1, fromSeq: base.rows + 1, toSeq: base.rows + 1 });
    expect(json.logs[0].anchoredSize).toBe(base.rows);
  });
});
