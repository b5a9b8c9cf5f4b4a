// Shadow (log_only) mode for framework tool calls onbehalf records but does not gate: an AI SDK agent
// under `--import onbehalf/register` with ONBEHALF_POLICY; the enforcing wrapper for the same tools.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateText, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withAttribution } from '../../src/attribution/attribution.js';
import { usePolicy } from '../../src/attribution/policy/active.js';
import { enforcePolicy } from '../../src/attribution/policy/enforce.js';
import type { StoredAuditEvent } from '../../src/pipeline/event.js';
import { type AuditPipeline, setupAuditPipeline } from '../helpers/audit.js';
import {
  actionRows,
  ensureBuilt,
  inboxAgent,
  inboxAgentEnv,
  repo,
  runNode,
  tempDir,
} from '../integrations/support.js';

const POLICY = `@id("contacts-lookup")
permit (principal, action == Action::"lookup_contact", resource);

@id("mail-send")
permit (principal, action == Action::"send_mail", resource);

@id("agents-never-mail")
forbid (principal, action == Action::"send_mail", resource) when { context.actorType == "agent" };
`;

const aiVersion = JSON.parse(readFileSync(join(repo, 'node_modules/ai/package.json'), 'utf8'))
  .version as string;
const tmp = tempDir('policy-shadow');
const policyFile = join(tmp.dir, 'policy.cedar');
writeFileSync(policyFile, POLICY);
afterAll(() => tmp.remove());

const attrs = (row: { attributes?: unknown }) =>
  JSON.parse(String(row.attributes ?? '{}')) as Record<string, unknown>;

describe('shadow mode: an AI SDK agent under register with ONBEHALF_POLICY', () => {
  beforeAll(ensureBuilt, 120_000);

  it('each tool call row says what the policy would have decided, and the calls still ran', async () => {
    const store = join(tmp.dir, 'shadow.db');
    const { stdout } = await runNode(
      'test/fixtures/frameworks/ai-sdk-6-agent.mjs',
      { ...inboxAgentEnv, ONBEHALF_STORE: store, ONBEHALF_POLICY: policyFile },
      { register: true },
    );
    expect(stdout).toContain('lookup_contact, send_mail');
    // On ai@7 the agent's invocation is a row too; it is not a tool call, so it is not evaluated.
    const rows = actionRows(store).filter((r) => !String(r.action).startsWith('invoke_agent'));
    expect(
      actionRows(store)
        .filter((r) => r.policy_decision !== null)
        .map((r) => r.action),
    ).toEqual(['lookup_contact', 'send_mail']);
    expect(rows.map((r) => [r.action, r.result, r.policy_decision, r.policy_rule])).toEqual([
      ['lookup_contact', 'ok', 'allow', 'contacts-lookup'],
      // Not enforced: the forbid would have denied it, and the row says so.
      ['send_mail', 'ok', 'deny', 'agents-never-mail'],
    ]);
    for (const row of rows) {
      expect(row).toMatchObject({ on_behalf_of: 'tom', actor_id: 'nhi:agent-7f3' });
      expect(attrs(row)).toMatchObject({
        'attribution.policy.mode': 'log_only',
        'attribution.policy.ids': [row.policy_rule],
        'attribution.policy.engine': expect.stringMatching(/^cedar 4\./),
        'attribution.policy.version': expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        // Still the AI SDK's own span: ai@6's ai.toolCall, ai@7's GenAI execute_tool.
        ...(aiVersion.startsWith('6.')
          ? { 'ai.operationId': 'ai.toolCall' }
          : { 'gen_ai.operation.name': 'execute_tool' }),
      });
    }
  });

  it('a policy file that does not parse stops start-up, naming the file and line', async () => {
    const broken = join(tmp.dir, 'broken.cedar');
    writeFileSync(broken, `${POLICY}\n@id("half")\npermit (principal, action ==\n`);
    const run = runNode(
      'test/fixtures/frameworks/ai-sdk-6-agent.mjs',
      { ...inboxAgentEnv, ONBEHALF_STORE: join(tmp.dir, 'never.db'), ONBEHALF_POLICY: broken },
      { register: true },
    );
    await expect(run).rejects.toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining(
        `onbehalf: cannot start, so the app was not started either: onbehalf: ${broken}:11:`,
      ),
    });
  });
});

describe('enforcePolicy: the AI SDK tools gated by the policy', () => {
  let pl: AuditPipeline;
  afterEach(async () => {
    usePolicy(false);
    await pl.teardown();
  });

  it('one row per call, enforced: the forbidden call is denied and never runs', async () => {
    pl = setupAuditPipeline();
    usePolicy({ text: POLICY });
    const sent: string[] = [];
    const usage = {
      inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: 1, text: 1, reasoning: undefined },
    };
    const calls = [
      { toolCallId: 'call-1', toolName: 'lookup_contact', input: { name: 'Dana' } },
      { toolCallId: 'call-2', toolName: 'send_mail', input: { to: 'dana@acme.example' } },
    ];
    let step = 0;
    const model = new MockLanguageModelV3({
      doGenerate: async () => {
        const call = calls[step++];
        return call
          ? {
              content: [{ type: 'tool-call' as const, ...call, input: JSON.stringify(call.input) }],
              finishReason: { unified: 'tool-calls' as const, raw: 'tool_calls' },
              usage,
              warnings: [],
            }
          : {
              content: [{ type: 'text' as const, text: 'Done.' }],
              finishReason: { unified: 'stop' as const, raw: 'stop' },
              usage,
              warnings: [],
            };
      },
    });
    await withAttribution(inboxAgent, () =>
      generateText({
        model,
        tools: {
          lookup_contact: tool({
            inputSchema: z.object({ name: z.string() }),
            execute: enforcePolicy('lookup_contact', async ({ name }: { name: string }) => ({
              email: `${name}@acme.example`,
            })),
          }),
          send_mail: tool({
            inputSchema: z.object({ to: z.string() }),
            execute: enforcePolicy(
              'send_mail',
              async ({ to }: { to: string }) => {
                sent.push(to);
                return { status: 'sent' };
              },
              { target: ({ to }) => to, riskTier: 2 },
            ),
          }),
        },
        stopWhen: stepCountIs(4),
        prompt: 'Mail Dana.',
        experimental_telemetry: { isEnabled: true },
      }),
    );
    expect(sent).toEqual([]);
    const rows = pl.rows("record_type = 'action'") as StoredAuditEvent[];
    expect(rows.map((r) => [r.action, r.result, r.policy_decision, r.policy_rule, r.target])).toEqual([
      ['lookup_contact', 'ok', 'allow', 'contacts-lookup', null],
      ['send_mail', 'denied', 'deny', 'agents-never-mail', 'dana@acme.example'],
    ]);
    expect(rows.map((r) => attrs(r)['attribution.policy.mode'])).toEqual(['enforce', 'enforce']);
    // ai@6 records its tool spans itself: the gate's row is that call's row and carries its call id.
    // (ai@7 records nothing in process until an integration is registered, so there is no span to fold.)
    if (aiVersion.startsWith('6.'))
      expect(rows.map((r) => attrs(r)['gen_ai.tool.call.id'])).toEqual(['call-1', 'call-2']);
    expect(rows.map((r) => JSON.parse(r.tool_arguments ?? 'null'))).toEqual([
      { name: 'Dana' },
      { to: '[REDACTED:email]' },
    ]);
  });
});
