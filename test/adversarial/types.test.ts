// Types are part of the evidence. A store created before tables were STRICT (schema version 1) lets
// an attacker put text into an INTEGER column: `risk_tier = '0x3'` used to hash like 3 while
// `WHERE risk_tier = 3` lost the row, and markup there reached the report. Every such edit must end
// in exit 1 naming the row and column; a STRICT store refuses the edit outright.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvent } from '../../src/pipeline/event.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';
import { testSigningKey } from '../helpers/audit.js';
import { inboxAgentColumns } from '../helpers/inbox-agent-row.js';
import { pinnedJwksText } from '../helpers/keys.js';
import { createLegacyStore } from '../helpers/legacy-store.js';
import { cli, copyStore, ensureBuilt, scratchDir, tamper } from './support.js';

let dir: string;
let legacy: string;
let strict: string;
let jwks: string;
let anchor: string;
/** The seq of the denied delete, risk tier 3. */
const DENIED = 3;

function events() {
  return ['read_inbox', 'send_mail', 'delete_mail', 'read_inbox'].map((action, i) =>
    auditEvent({
      event_id: `evt-${i}`,
      record_type: 'action',
      timestamp: `2026-01-01T00:00:0${i}.000Z`,
      action,
      ...inboxAgentColumns('actor_type', 'actor_id', 'on_behalf_of', 'trigger_type', 'trigger_id'),
      risk_tier: action === 'delete_mail' ? 3 : 1,
      result: action === 'delete_mail' ? 'denied' : 'ok',
    }),
  );
}

async function write(path: string): Promise<string> {
  const store = new SqliteAuditStore(path, { signingKey: testSigningKey, checkpointIntervalMs: 0 });
  let note = '';
  store.onCheckpoint((cp) => {
    note = cp.note;
  });
  store.appendSync(events());
  await store.close();
  return note;
}

beforeAll(async () => {
  await ensureBuilt();
  dir = scratchDir('types');
  legacy = createLegacyStore(join(dir, 'legacy.db'));
  anchor = join(dir, 'anchor.note');
  writeFileSync(anchor, await write(legacy));
  strict = join(dir, 'strict.db');
  await write(strict);
  jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, pinnedJwksText([testSigningKey], ['onbehalf/legacy-host/*']));
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const strongest = (path: string) => cli('verify', path, '--trusted-keys', jwks, '--checkpoint', anchor);

describe('a value whose type is not its column’s', { timeout: 240_000 }, () => {
  it('a store created by the previous release is still read, appended to and verified', async () => {
    const r = await strongest(legacy);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^intact .* 4 events/m);
    const db = new Database(legacy, { readonly: true });
    expect(db.prepare("SELECT value FROM audit_meta WHERE key = 'schema_version'").pluck().get()).toBe('1');
    db.close();
  });

  it("risk_tier '0x3', '3.0', ' 3 ', '0b11' in a pre-STRICT store: intact only when SQLite stored the number 3", async () => {
    let refused = 0;
    for (const [i, value] of ['0x3', '3.0', ' 3 ', '0b11', '3e0', 'high'].entries()) {
      const path = copyStore(legacy, join(dir, `tier-${i}.db`));
      const stored = tamper(path, (db) => {
        db.prepare('UPDATE audit_events SET risk_tier = ? WHERE seq = ?').run(value, DENIED);
        return db.prepare('SELECT typeof(risk_tier) FROM audit_events WHERE seq = ?').pluck().get(DENIED);
      });
      const r = await strongest(path);
      const found = new Database(path, { readonly: true })
        .prepare("SELECT count(*) FROM audit_events WHERE risk_tier = 3 AND result = 'denied'")
        .pluck()
        .get();
      if (stored === 'integer') {
        // SQLite's affinity turned the text into the number: the row is what was hashed.
        expect(r.code, `${value}: ${r.stdout}`).toBe(0);
        expect(found, value).toBe(1);
        continue;
      }
      refused++;
      expect(found, value).toBe(0);
      expect(r.code, `${value}: ${r.stdout}`).toBe(1);
      expect(r.stdout).toContain(`first bad seq: ${DENIED}\n`);
      expect(r.stdout).toMatch(new RegExp(`reason: seq ${DENIED}: .*risk_tier`));
      expect(r.stdout).toContain(
        `seq ${DENIED}: risk_tier holds text ${JSON.stringify(value)} where the schema has integer or null`,
      );
      expect(r.stdout).toContain('where the schema has integer or null (row edited) [row.type_invalid]');
    }
    // '0x3', '0b11' and 'high' stay text; SQLite turns '3.0', ' 3 ' and '3e0' into 3.
    expect(refused).toBeGreaterThanOrEqual(3);
  });

  it('a STRICT store refuses the edit itself', () => {
    const path = copyStore(strict, join(dir, 'strict-edit.db'));
    expect(() =>
      tamper(path, (db) =>
        db.prepare('UPDATE audit_events SET risk_tier = ? WHERE seq = ?').run('0x3', DENIED),
      ),
    ).toThrow(/cannot store TEXT value in INTEGER column audit_events.risk_tier/);
  });

  it('markup in risk_tier: verify names it, and the report escapes it under a TAMPERED banner and a CSP without inline style', async () => {
    const path = copyStore(legacy, join(dir, 'markup.db'));
    const markup =
      '<style>.verify.broken{display:none}</style><section class="verify ok"><h2>Store intact</h2></section>' +
      '<meta http-equiv="refresh" content="0;url=https://evil.example/">';
    tamper(path, (db) =>
      db.prepare('UPDATE audit_events SET risk_tier = ? WHERE seq = ?').run(markup, DENIED),
    );
    const v = await strongest(path);
    expect(v.code, v.stdout).toBe(1);
    expect(v.stdout).toMatch(new RegExp(`seq ${DENIED}: risk_tier holds text`));
    const page = join(dir, 'markup.html');
    const r = await cli('report', path, '--trusted-keys', jwks, '--checkpoint', anchor, '--out', page);
    expect(r.code, r.stderr).toBe(1);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('Store TAMPERED');
    expect(html).not.toContain('<style>.verify');
    expect(html).not.toContain('<meta http-equiv="refresh"');
    expect(html).not.toContain('<h2>Store intact');
    expect(html).toContain('&lt;style&gt;.verify.broken');
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(csp).not.toContain('unsafe-inline');
    expect(html.match(/<style>/g)).toHaveLength(1);
  });
});
