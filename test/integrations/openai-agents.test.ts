// OpenAI Agents JS with no onbehalf code (test/fixtures/frameworks/openai-agents-agent.mjs, the SDK's
// own ScriptedModel) under `node --import onbehalf/register`: the bridge register installs turns each
// function-tool call into one attributed row, arguments and result redacted.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actionRows,
  attributedToInboxAgent,
  ensureBuilt,
  inboxAgentEnv,
  repo,
  runNode,
  tempDir,
} from './support.js';

const manifest = join(repo, 'node_modules/@openai/agents/package.json');
const installed = existsSync(manifest);
const version = installed ? (JSON.parse(readFileSync(manifest, 'utf8')).version as string) : 'not installed';
const tmp = tempDir('openai-agents');

// @openai/agents depends on openai@7, which needs Node >= 22: it is installed on that stack only.
describe.skipIf(!installed)(`@openai/agents@${version} under register, no app code`, () => {
  beforeAll(ensureBuilt, 120_000);
  afterAll(() => tmp.remove());

  it('one attributed row per function-tool call, arguments and result redacted, nothing else', async () => {
    const store = join(tmp.dir, 'agents.db');
    const { stdout } = await runNode(
      'test/fixtures/frameworks/openai-agents-agent.mjs',
      { ...inboxAgentEnv, ONBEHALF_STORE: store },
      { register: true },
    );
    expect(stdout).toContain('openai agents: Done.');
    const rows = actionRows(store);
    expect(rows.map((r) => r.action)).toEqual(['lookup_contact', 'send_mail']);
    for (const row of rows) {
      expect(row).toMatchObject({ ...attributedToInboxAgent, provenance: 'local', result: 'ok' });
    }
    expect(JSON.parse(rows[0]!.tool_arguments as string)).toEqual({ name: 'Dana' });
    expect(JSON.parse(rows[1]!.tool_arguments as string)).toEqual({
      to: '[REDACTED:email]',
      body: 'Invoice 4471',
    });
    expect(JSON.stringify(rows)).not.toContain('dana@acme.example');
  });
});
