// The Vercel AI SDK (the real `ai` package and its mock model from `ai/test`): examples/ai-sdk calls
// two tools inside withAttribution, run with `--import onbehalf/register` and with startOnbehalf.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actionRows,
  attributedToInboxAgent,
  ensureBuilt,
  inboxAgentEnv,
  repo,
  runNode,
  stable,
  tempDir,
} from './support.js';

const tmp = tempDir('ai-sdk');
const agentEnv = {
  ONBEHALF_AGENT_ID: 'nhi:agent-7f3',
  ONBEHALF_AGENT_NAME: 'inbox-agent',
  ONBEHALF_AGENT_OWNER: 'tom',
};
const aiVersion = JSON.parse(readFileSync(join(repo, 'node_modules/ai/package.json'), 'utf8'))
  .version as string;

beforeAll(ensureBuilt, 120_000);
afterAll(() => tmp.remove());

// examples/ai-sdk is written for ai@6 (`experimental_telemetry`, MockLanguageModelV3); ai@7 has its own test.
describe.skipIf(!aiVersion.startsWith('6.'))(`examples/ai-sdk on ai@${aiVersion}`, () => {
  let registered: ReturnType<typeof actionRows>;

  it('under --import onbehalf/register: one attributed row per tool call, arguments redacted', async () => {
    const store = join(tmp.dir, 'register.db');
    const { stdout } = await runNode(
      'examples/ai-sdk/agent.mjs',
      { ...agentEnv, ONBEHALF_STORE: store },
      { register: true },
    );
    expect(stdout).toContain('lookup_contact, send_mail');
    registered = actionRows(store);
    expect(registered.map((r) => r.action)).toEqual(['lookup_contact', 'send_mail']);
    for (const row of registered) {
      expect(row).toMatchObject({
        ...attributedToInboxAgent,
        result: 'ok',
        provenance: 'local',
        service_name: 'inbox-agent',
        delegation_chain: '["tom","nhi:agent-7f3"]',
      });
      // The AI SDK's own tool-call span, not a span onbehalf made.
      expect(JSON.parse(row.attributes as string)).toMatchObject({ 'ai.operationId': 'ai.toolCall' });
    }
    expect(JSON.parse(registered[0]!.tool_arguments as string)).toEqual({ name: 'Dana' });
    const sent = JSON.parse(registered[1]!.tool_arguments as string);
    expect(sent.to).toBe('[REDACTED:email]');
    expect(sent.body).toContain('[REDACTED:credit_card]');
    expect(sent.body).not.toContain('4111');
    expect(JSON.parse(registered[1]!.redactions as string)).toEqual(['credit_card', 'email']);
    // The tool result (with Dana's address) is kept only redacted too.
    expect(registered[1]!.attributes).not.toContain('dana@acme.example');
  });

  it('an agent with no onbehalf code, attributed by the environment: one row per tool call', async () => {
    const store = join(tmp.dir, 'no-code.db');
    const { stdout } = await runNode(
      'test/fixtures/frameworks/ai-sdk-6-agent.mjs',
      { ...inboxAgentEnv, ONBEHALF_STORE: store },
      { register: true },
    );
    expect(stdout).toContain('lookup_contact, send_mail');
    const rows = actionRows(store);
    expect(rows.map((r) => r.action)).toEqual(['lookup_contact', 'send_mail']);
    for (const row of rows) {
      expect(row).toMatchObject({ ...attributedToInboxAgent, provenance: 'local', result: 'ok' });
    }
    expect(JSON.parse(rows[1]!.tool_arguments as string)).toEqual({
      to: '[REDACTED:email]',
      body: 'Paid with card [REDACTED:credit_card].',
    });
    expect(JSON.stringify(rows)).not.toContain('dana@acme.example');
  });

  it('set up in code with startOnbehalf: the same rows', async () => {
    const store = join(tmp.dir, 'programmatic.db');
    await runNode('examples/ai-sdk/programmatic.mjs', { ONBEHALF_STORE: store });
    const rows = actionRows(store);
    expect(rows).toHaveLength(2);
    expect(rows.map(stable)).toEqual(registered.map(stable));
  });
});
