// An ordinary agent (OpenTelemetry GenAI `execute_tool` spans, no onbehalf import) run with
// `--import onbehalf/register` and environment variables only, against the same agent set up in code.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionRows, attributedToInboxAgent, ensureBuilt, runNode, stable, tempDir } from './support.js';

const tmp = tempDir('inbox-agent');
const zeroCodeEnv = {
  ONBEHALF_AGENT_ID: 'nhi:agent-7f3',
  ONBEHALF_AGENT_NAME: 'inbox-agent',
  ONBEHALF_AGENT_OWNER: 'tom',
  ONBEHALF_ON_BEHALF_OF: 'tom',
  ONBEHALF_TRIGGER: 'email:msg-8821',
};

beforeAll(ensureBuilt, 120_000);
afterAll(() => tmp.remove());

describe('examples/inbox-agent, zero code', () => {
  let registered: ReturnType<typeof actionRows>;

  it('environment variables alone attribute every tool call to the agent, Tom and the email', async () => {
    const store = join(tmp.dir, 'register.db');
    const { stdout } = await runNode(
      'examples/inbox-agent/agent.mjs',
      { ...zeroCodeEnv, ONBEHALF_STORE: store },
      { register: true },
    );
    expect(stdout).toContain('send_mail sent');
    registered = actionRows(store);
    // One row per tool call, and one for the agent invocation (GenAI `invoke_agent`), which ends last.
    expect(registered.map((r) => r.action)).toEqual(['read_email', 'send_mail', 'invoke_agent inbox-agent']);
    for (const row of registered) {
      expect(row).toMatchObject({
        ...attributedToInboxAgent,
        result: 'ok',
        provenance: 'local',
        delegation_chain: '["tom","nhi:agent-7f3"]',
      });
    }
    expect(JSON.parse(registered[0]!.tool_arguments as string)).toEqual({ id: 'msg-8821' });
    expect(JSON.parse(registered[1]!.tool_arguments as string)).toEqual({
      to: '[REDACTED:email]',
      subject: 'Re: invoice 4471',
      body: 'Card on file: [REDACTED:credit_card]',
    });
    expect(registered[1]!.attributes).not.toContain('stranger@evil.example');
  });

  it('gives the same rows as startOnbehalf + withAttribution in code', async () => {
    const store = join(tmp.dir, 'programmatic.db');
    await runNode('examples/inbox-agent/programmatic.mjs', { ONBEHALF_STORE: store });
    expect(actionRows(store).map(stable)).toEqual(registered.map(stable));
  });

  it('without ONBEHALF_ON_BEHALF_OF / ONBEHALF_TRIGGER the rows name the agent but nobody it acted for', async () => {
    const store = join(tmp.dir, 'no-task.db');
    await runNode(
      'examples/inbox-agent/agent.mjs',
      { ONBEHALF_AGENT_ID: 'nhi:agent-7f3', ONBEHALF_STORE: store },
      { register: true },
    );
    const rows = actionRows(store);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row).toMatchObject({ actor_id: 'nhi:agent-7f3', on_behalf_of: null, trigger_id: null });
    }
  });

  it('refuses to start with a trigger that is not type:id, rather than record it wrong', async () => {
    const store = join(tmp.dir, 'bad-trigger.db');
    await expect(
      runNode(
        'examples/inbox-agent/agent.mjs',
        { ...zeroCodeEnv, ONBEHALF_TRIGGER: 'msg-8821', ONBEHALF_STORE: store },
        { register: true },
      ),
    ).rejects.toThrow(/ONBEHALF_TRIGGER must be type:id/);
  });
});
