// One row per tool call: audited() inside a framework's own tool span (the AI SDK's `execute`, an MCP
// server tool) folds into that call's single row; a denial is one `denied` row, not also an `error`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withAttribution } from '../../src/attribution/attribution.js';
import { ActionDeniedError, audited } from '../../src/attribution/audited.js';
import { instrumentLangChainTools } from '../../src/integrations/langchain.js';
import { auditedMcpTool, injectMcpMeta } from '../../src/integrations/mcp.js';
import { attributedToInboxAgent, inboxAgent, type Pipeline, repo, setupPipeline } from './support.js';

const aiMajor = Number(
  JSON.parse(readFileSync(join(repo, 'node_modules/ai/package.json'), 'utf8')).version.split('.')[0],
);

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.teardown();
  p = undefined;
});

const deleteRecord = (id: string, allowed: boolean) =>
  audited(
    'delete_record',
    {
      target: id,
      riskTier: 3,
      policy: { decision: allowed ? 'allow' : 'deny', rule: 'records.delete' },
    },
    async () => `deleted ${id}`,
  );

describe.skipIf(aiMajor !== 6)(`audited() inside an AI SDK ${aiMajor} tool`, () => {
  async function runTool(allowed: boolean) {
    const { generateText, stepCountIs, tool } = await import('ai');
    const { MockLanguageModelV3 } = await import('ai/test');
    const usage = {
      inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: 2, text: 2, reasoning: undefined },
    };
    let step = 0;
    const model = new MockLanguageModelV3({
      doGenerate: async () =>
        step++ === 0
          ? {
              content: [
                {
                  type: 'tool-call' as const,
                  toolCallId: 'call-7',
                  toolName: 'delete_record',
                  input: JSON.stringify({ id: 'rec-1', owner: 'dana@acme.example' }),
                },
              ],
              finishReason: { unified: 'tool-calls' as const, raw: 'tool_calls' },
              usage,
              warnings: [],
            }
          : {
              content: [{ type: 'text' as const, text: 'done' }],
              finishReason: { unified: 'stop' as const, raw: 'stop' },
              usage,
              warnings: [],
            },
    });
    const tools = {
      delete_record: tool({
        inputSchema: z.object({ id: z.string(), owner: z.string() }),
        execute: async ({ id }) => deleteRecord(id, allowed),
      }),
    };
    await withAttribution(inboxAgent, () =>
      generateText({
        model,
        tools,
        stopWhen: stepCountIs(3),
        prompt: 'clean up',
        experimental_telemetry: { isEnabled: true },
      }),
    );
  }

  it("one row: the gate's policy, target and result, the framework's call id and arguments", async () => {
    p = setupPipeline();
    await runTool(true);
    const rows = p.rows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      ...attributedToInboxAgent,
      action: 'delete_record',
      target: 'rec-1',
      risk_tier: 3,
      policy_decision: 'allow',
      policy_rule: 'records.delete',
      result: 'ok',
    });
    expect(JSON.parse(rows[0]!.tool_arguments as string)).toEqual({
      id: 'rec-1',
      owner: '[REDACTED:email]',
    });
    expect(JSON.parse(rows[0]!.attributes as string)['gen_ai.tool.call.id']).toBe('call-7');
  });

  it('a denial is one denied row, not also an error row for the tool', async () => {
    p = setupPipeline();
    await runTool(false);
    const rows = p.rows();
    expect(rows.map((r) => [r.action, r.result, r.on_behalf_of])).toEqual([
      ['delete_record', 'denied', 'tom'],
    ]);
  });
});

describe('audited() inside a LangChain tool', () => {
  it('one row per call; a denial is one denied row', async () => {
    p = setupPipeline();
    const lcTools = await import('@langchain/core/tools');
    // What register's instrumentation does when the app loads @langchain/core/tools.
    expect(instrumentLangChainTools(lcTools)).toBe(true);
    const del = lcTools.tool(async ({ id, ok }: { id: string; ok: boolean }) => deleteRecord(id, ok), {
      name: 'delete_record',
      schema: z.object({ id: z.string(), ok: z.boolean() }),
    });
    await withAttribution(inboxAgent, () =>
      del.invoke({ type: 'tool_call', id: 'lc-1', name: 'delete_record', args: { id: 'rec-5', ok: true } }),
    );
    await expect(withAttribution(inboxAgent, () => del.invoke({ id: 'rec-6', ok: false }))).rejects.toThrow(
      ActionDeniedError,
    );
    const rows = p.rows();
    expect(rows.map((r) => [r.action, r.target, r.result])).toEqual([
      ['delete_record', 'rec-5', 'ok'],
      ['delete_record', 'rec-6', 'denied'],
    ]);
    expect(JSON.parse(rows[0]!.attributes as string)['gen_ai.tool.call.id']).toBe('lc-1');
  });
});

describe('audited() inside an auditedMcpTool handler', () => {
  async function call(allowed: boolean) {
    const server = new McpServer({ name: 'records', version: '1.0.0' });
    server.registerTool(
      'delete_record',
      { inputSchema: { id: z.string() } },
      auditedMcpTool('delete_record', async ({ id }: { id: string }) => {
        const text = await deleteRecord(id, allowed);
        return { content: [{ type: 'text' as const, text }] };
      }),
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(clientSide);
    return withAttribution(inboxAgent, () =>
      client.callTool(
        injectMcpMeta({ name: 'delete_record', arguments: { id: 'rec-2' } }),
        CallToolResultSchema,
      ),
    );
  }

  it('one row per call, allowed or denied', async () => {
    p = setupPipeline();
    await call(true);
    const denied = await call(false);
    expect(denied.isError).toBe(true);
    expect(p.rows().map((r) => [r.action, r.target, r.result, r.policy_decision])).toEqual([
      ['delete_record', 'rec-2', 'ok', 'allow'],
      ['delete_record', 'rec-2', 'denied', 'deny'],
    ]);
  });

  it('a gate inside a gate is still two actions', async () => {
    p = setupPipeline();
    await withAttribution(inboxAgent, () =>
      audited('cleanup', { policy: { decision: 'allow' } }, () => deleteRecord('rec-3', true)),
    );
    expect(p.rows().map((r) => r.action)).toEqual(['delete_record', 'cleanup']);
    await expect(withAttribution(inboxAgent, () => deleteRecord('rec-4', false))).rejects.toThrow(
      ActionDeniedError,
    );
  });
});
