import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { inboxAgentColumns } from '../helpers/inbox-agent-row.js';

const root = join(import.meta.dirname, '../..');

it('the README quick start records one attributed, redacted send_mail and a started record', () => {
  const store = join(mkdtempSync(join(tmpdir(), 'onbehalf-quickstart-')), 'quickstart.db');
  const r = spawnSync(process.execPath, ['examples/quickstart/agent.mjs'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ONBEHALF_STORE: store, OTEL_EXPORTER_OTLP_ENDPOINT: '' },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain(`recorded send_mail in ${store}`);
  const db = new Database(store, { readonly: true });
  const rows = db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as Record<string, unknown>[];
  db.close();
  expect(rows.map((x) => x.result)).toEqual(['started', 'ok']);
  expect(rows[1]).toMatchObject({
    ...inboxAgentColumns('actor_type', 'actor_id', 'on_behalf_of', 'trigger_type', 'trigger_id'),
    action: 'send_mail',
    target: 'dana@acme.example',
    risk_tier: 2,
    policy_decision: 'allow',
    tool_arguments: '{"to":"[REDACTED:email]","subject":"Q1 plan"}',
    service_name: 'inbox-agent',
  });
});
