// A pinned key vouches only for the origins it is bound to. The attack: a compromised host holds a
// key the operator pinned (fleet keys in one JWKS) and signs a log it made up under a new origin
// (a "human cfo approve_payment" story). With a key that lists no onbehalf_origins, or other ones,
// that log must not verify as intact, on SQLite or PostgreSQL; the stores' own keys, keygen and the
// normal flows stay exit 0.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundJwk, keyBindingOf, thisHostOrigins } from '../../src/keys/key-binding.js';
import { generateSigningKey, type SigningKey } from '../../src/keys/keys.js';
import { LogState } from '../../src/log-format/chain.js';
import { type AuditEvent, EVENT_COLUMNS } from '../../src/pipeline/event.js';
import { PostgresAuditStore } from '../../src/stores/postgres-store.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { signWriterCheckpoint } from '../../src/stores/writer-checkpoint.js';
import { createTestDatabase, seedEvent, type TestDatabase } from '../helpers/postgres-db.js';
import { runProcess } from '../helpers/run-process.js';
import { cliMain, ensureBuilt } from './support.js';

const FORGED_ORIGIN = 'onbehalf/cfo-laptop/7a7a';
const forged = (i: number): AuditEvent => ({
  ...seedEvent(i, 'forged'),
  actor_type: 'human',
  actor_id: 'cfo',
  action: 'approve_payment',
  target: 'IBAN DE00 ATTACKER',
});

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'onbehalf-origin-binding-'));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const verify = (store: string, jwks: string) =>
  runProcess(process.execPath, [cliMain, 'verify', store, '--trusted-keys', jwks]);

/** The fleet's pinned keys: the honest writer's own jwks.json, plus the attacker's key as given. */
function fleetJwks(
  name: string,
  honestJwks: string,
  attacker: SigningKey,
  attackerOrigins?: string[],
): string {
  const honest = JSON.parse(readFileSync(honestJwks, 'utf8')).keys;
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({ keys: [...honest, boundJwk(attacker.publicJwk, [], attackerOrigins)] }),
  );
  return path;
}

describe('PostgreSQL: a new-origin log signed by a pinned key not bound to that origin', () => {
  let db: TestDatabase;
  let honestKeys: string;
  beforeAll(async () => {
    db = await createTestDatabase('origin_binding');
    honestKeys = join(dir, 'pg-honest-keys');
    // The honest writer: default origin, its key created in its key directory (as ./onbehalf-keys is).
    const honest = new PostgresAuditStore(db.url, { keyDir: honestKeys });
    await honest.append([seedEvent(0, 'honest'), seedEvent(1, 'honest')]);
    await honest.checkpoint();
    await honest.close();
    const attacker = generateSigningKey();
    // The compromised host writes its fabricated log under a new origin and signs it with its key.
    const fake = new PostgresAuditStore(db.url, { signingKey: attacker, origin: FORGED_ORIGIN });
    await fake.append([forged(0), forged(1), forged(2)]);
    await fake.checkpoint();
    await fake.close();
    writeFileSync(join(dir, 'pg-attacker.json'), JSON.stringify(attacker.publicJwk));
  }, 60_000);
  afterAll(() => db?.drop());

  const attackerKey = () => JSON.parse(readFileSync(join(dir, 'pg-attacker.json'), 'utf8'));
  const fleet = (name: string, origins?: string[]) => {
    const path = join(dir, name);
    const honest = JSON.parse(readFileSync(join(honestKeys, 'jwks.json'), 'utf8')).keys;
    const jwk = { ...attackerKey(), ...(origins && { onbehalf_origins: origins }) };
    writeFileSync(path, JSON.stringify({ keys: [...honest, jwk] }));
    return path;
  };

  it('the store bound its own key to the origins it writes: this host’s', () => {
    const [jwk] = JSON.parse(readFileSync(join(honestKeys, 'jwks.json'), 'utf8')).keys;
    expect([...(keyBindingOf(jwk).origins ?? [])]).toEqual([thisHostOrigins()]);
  });

  it('a key listing no onbehalf_origins: exit 3, the forged log named with the missing binding', async () => {
    const r = await verify(db.url, fleet('pg-unbound.json'));
    expect(r.status, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toContain(`UNVOUCHED  ${FORGED_ORIGIN}: 3 events`);
    expect(r.stdout).toMatch(
      /not bound to origin "onbehalf\/cfo-laptop\/7a7a" \(the key lists no "onbehalf_origins"\)/,
    );
    expect(r.stdout).toMatch(/intact {2}onbehalf\/[^:]+: 2 events, 1 signed checkpoint/);
  });

  it('a key bound to its own host only: exit 3 for a log under another host’s name', async () => {
    const r = await verify(db.url, fleet('pg-bound-elsewhere.json', ['onbehalf/host-a/*']));
    expect(r.status, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(
      /not bound to origin "onbehalf\/cfo-laptop\/7a7a" \(the key lists only \["onbehalf\/host-a\/\*"\]\)/,
    );
  });

  it('the same key bound to that origin vouches for it (the binding is what decides)', async () => {
    const r = await verify(db.url, fleet('pg-bound.json', [FORGED_ORIGIN]));
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('a store given a fixed origin binds its key directory to it, and verifies with exit 0', async () => {
    const keyDir = join(dir, 'pg-fixed-keys');
    const store = new PostgresAuditStore(db.url, { keyDir, origin: 'payments-1' });
    await store.append([seedEvent(0, 'fixed')]);
    await store.checkpoint();
    await store.close();
    const [jwk] = JSON.parse(readFileSync(join(keyDir, 'jwks.json'), 'utf8')).keys;
    expect([...(keyBindingOf(jwk).origins ?? [])]).toEqual(['payments-1']);
    const both = join(dir, 'pg-honest-and-fixed.json');
    const keys = [join(honestKeys, 'jwks.json'), join(keyDir, 'jwks.json')].flatMap(
      (p) => JSON.parse(readFileSync(p, 'utf8')).keys,
    );
    writeFileSync(both, JSON.stringify({ keys: [...keys, attackerKey()] }));
    const r = await verify(db.url, both);
    // The honest logs verify; the fabricated one still does not, so the store as a whole is exit 3.
    expect(r.stdout).toMatch(/intact {2}payments-1: 1 events, 1 signed checkpoint/);
    expect(r.status).toBe(3);
  });
});

describe('SQLite: a new-origin log signed by a pinned key not bound to that origin', () => {
  it('is not intact: the planted log is named, and its signer is not trusted for it', async () => {
    const path = join(dir, 'host.db');
    const store = new SqliteAuditStore(path);
    await store.append([seedEvent(0, 'honest'), seedEvent(1, 'honest')]);
    await store.checkpoint();
    await store.close();
    const attacker = generateSigningKey();
    // Written with the file's write access: a chained log under a new origin, and its signed checkpoint.
    const state = new LogState(FORGED_ORIGIN);
    const db = new Database(path);
    const insert = db.prepare(
      `INSERT INTO audit_events (seq, origin, prev_hash, hash, ${EVENT_COLUMNS.join(', ')}) VALUES (@seq, @origin, @prev_hash, @hash, ${EVENT_COLUMNS.map((c) => `@${c}`).join(', ')})`,
    );
    for (let i = 0; i < 3; i++) insert.run({ ...forged(i), ...state.append(forged(i)).integrity });
    const signed = signWriterCheckpoint(FORGED_ORIGIN, state, attacker);
    const cp = signed.checkpoint;
    db.prepare(
      'INSERT INTO audit_checkpoints (origin, size, root, note, state, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(cp.origin, cp.size, cp.root, cp.note, signed.state, cp.created_at);
    db.close();
    const r = await verify(path, fleetJwks('sqlite-fleet.json', `${path}.keys/jwks.json`, attacker));
    expect(r.status, r.stdout + r.stderr).not.toBe(0);
    expect(r.stdout).toContain(FORGED_ORIGIN);
    expect(r.stdout).not.toMatch(new RegExp(`intact {2}${FORGED_ORIGIN}`));
  });

  it('a damaged jwks.json beside the key stops no writer', async () => {
    const path = join(dir, 'damaged.db');
    await new SqliteAuditStore(path).close();
    writeFileSync(`${path}.keys/jwks.json`, '{not json');
    const store = new SqliteAuditStore(path);
    await store.append([seedEvent(0, 'damaged')]);
    await store.close();
  });

  it('a store’s key directory from before origins were bound is bound on the next open: exit 0', async () => {
    const path = join(dir, 'legacy.db');
    const store = new SqliteAuditStore(path);
    await store.append([seedEvent(0, 'legacy')]);
    await store.checkpoint();
    await store.close();
    const jwksPath = `${path}.keys/jwks.json`;
    const [jwk] = JSON.parse(readFileSync(jwksPath, 'utf8')).keys;
    const { onbehalf_origins: _bound, ...unbound } = jwk;
    writeFileSync(jwksPath, JSON.stringify({ keys: [unbound] }));
    expect((await verify(path, jwksPath)).status).toBe(3);
    const reopened = new SqliteAuditStore(path);
    await reopened.close();
    const [rebound] = JSON.parse(readFileSync(jwksPath, 'utf8')).keys;
    expect([...(keyBindingOf(rebound).origins ?? [])]).toEqual([reopened.origin]);
    expect((await verify(path, jwksPath)).status).toBe(0);
  });
});
