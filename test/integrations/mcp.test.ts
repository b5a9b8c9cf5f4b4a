// MCP: the real @modelcontextprotocol/sdk client and server. End to end over stdio (examples/mcp: the
// agent and the server are separate processes, each under `--import onbehalf/register`), and in one
// process over the SDK's in-memory transport to pin down what the `_meta` helpers do.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { type CallToolResult, CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { trace } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type Attribution,
  localRoot,
  parseAttribution,
  withAttribution,
} from '../../src/attribution/attribution.js';
import {
  auditedMcpTool,
  injectMcpMeta,
  type McpHandlerExtra,
  mcpMetaOf,
} from '../../src/integrations/mcp.js';
import { generateSigningKey } from '../../src/keys/keys.js';
import { AttributionPropagator } from '../../src/propagation/attribution-propagator.js';
import {
  actionRows,
  attributedToInboxAgent,
  ensureBuilt,
  inboxAgent,
  type Pipeline,
  repo,
  runNode,
  setupPipeline,
  tempDir,
} from './support.js';

const sdkVersion = JSON.parse(
  readFileSync(join(repo, 'node_modules/@modelcontextprotocol/sdk/package.json'), 'utf8'),
).version as string;

describe(`examples/mcp over stdio, @modelcontextprotocol/sdk@${sdkVersion}`, () => {
  const tmp = tempDir('mcp');
  beforeAll(ensureBuilt, 120_000);
  afterAll(() => tmp.remove());

  it("the server's tool executions are attributed to the agent and Tom, verified, one row per call", async () => {
    const { stdout } = await runNode('examples/mcp/run.mjs', {}, { args: [tmp.dir] });
    expect(stdout).toContain('mcp agent: sent to dana@acme.example');
    const rows = actionRows(join(tmp.dir, 'mcp-server.db'));
    expect(rows.map((r) => r.action)).toEqual(['lookup_contact', 'send_mail']);
    for (const row of rows) {
      expect(row).toMatchObject({
        ...attributedToInboxAgent,
        result: 'ok',
        // The token signed by the agent verified against the key the server trusts.
        provenance: 'verified',
        service_name: 'mail-mcp',
        delegation_chain: '["tom","nhi:agent-7f3"]',
      });
      // The server's span continues the agent's trace: its parent is the agent's task span.
      expect(row.parent_span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(JSON.parse(row.attributes as string)).toMatchObject({ 'mcp.method.name': 'tools/call' });
    }
    expect(rows[0]!.trace_id).toBe(rows[1]!.trace_id);
    expect(JSON.parse(rows[1]!.tool_arguments as string)).toEqual({
      to: '[REDACTED:email]',
      subject: 'Invoice 4471',
      body: 'Paid with card [REDACTED:credit_card].',
    });
    // The agent made no tool span of its own, so its store holds no second row for the same calls.
    expect(actionRows(join(tmp.dir, 'agent.db'))).toEqual([]);
  });
});

describe('MCP _meta helpers, client and server in one process', () => {
  let p: Pipeline | undefined;
  afterEach(async () => {
    await p?.teardown();
    p = undefined;
  });

  /** A pipeline whose propagator signs with a key (a process trusts its own) or, unsigned, sends claims. */
  function pipeline(signed: boolean, defaultAttribution?: Attribution): Pipeline {
    const attribution = new AttributionPropagator({
      ...(signed ? { signingKey: generateSigningKey() } : {}),
      defaultAttribution: defaultAttribution && localRoot(parseAttribution(defaultAttribution)),
    });
    p = setupPipeline({
      propagator: new CompositePropagator({
        propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator(), attribution],
      }),
    });
    return p;
  }

  async function connect(): Promise<{ client: Client; seen: McpHandlerExtra[] }> {
    const seen: McpHandlerExtra[] = [];
    const server = new McpServer({ name: 'test-mcp', version: '1.0.0' });
    server.registerTool(
      'send_mail',
      { inputSchema: { to: z.string(), fail: z.enum(['no', 'isError', 'throw']).optional() } },
      auditedMcpTool(
        'send_mail',
        async ({ to, fail }: { to: string; fail?: string }, extra: McpHandlerExtra) => {
          seen.push(extra);
          if (fail === 'throw') throw new Error('smtp down');
          const result: CallToolResult = { content: [{ type: 'text', text: `sent to ${to}` }] };
          if (fail === 'isError') result.isError = true;
          return result;
        },
      ),
    );
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'test-agent', version: '1.0.0' });
    await client.connect(clientSide);
    return { client, seen };
  }

  function callAsAgent(client: Client, args: Record<string, unknown>) {
    return withAttribution(inboxAgent, () =>
      trace.getTracer('agent').startActiveSpan('task', async (span) => {
        try {
          const params = { name: 'send_mail', arguments: args, _meta: { 'app.example/request': 'r-1' } };
          return await client.callTool(injectMcpMeta(params), CallToolResultSchema);
        } finally {
          span.end();
        }
      }),
    );
  }

  it('carries traceparent and signed baggage in params._meta; the server restores and verifies them', async () => {
    const pl = pipeline(true);
    const { client, seen } = await connect();
    await callAsAgent(client, { to: 'dana@acme.example' });
    const meta = mcpMetaOf(seen[0]);
    expect(meta?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(meta?.baggage).toContain('attribution.token=');
    // The app's own _meta keys are kept.
    expect(meta?.['app.example/request']).toBe('r-1');
    const rows = pl.rows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      ...attributedToInboxAgent,
      action: 'send_mail',
      provenance: 'verified',
      result: 'ok',
      tool_arguments: '{"to":"[REDACTED:email]"}',
    });
    expect(rows[0]!.trace_id).toBe(String(meta?.traceparent).split('-')[1]);
    const attributes = JSON.parse(rows[0]!.attributes as string);
    expect(attributes['jsonrpc.request.id']).toBe(String(seen[0]!.requestId));
    expect(attributes['gen_ai.operation.name']).toBe('execute_tool');
  });

  it('an unsigned attribution in _meta stays a claim: no principal, no actor', async () => {
    const pl = pipeline(false);
    const { client } = await connect();
    await callAsAgent(client, { to: 'dana@acme.example' });
    const rows = pl.rows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: 'send_mail',
      provenance: 'unverified',
      on_behalf_of: null,
      actor_id: null,
    });
    expect(JSON.parse(rows[0]!.attributes as string)['attribution.claimed.principal.id']).toBe('tom');
  });

  it('records a tool that returns isError, or throws, as result=error', async () => {
    const pl = pipeline(true);
    const { client } = await connect();
    const returned = await callAsAgent(client, { to: 'x', fail: 'isError' });
    expect(returned.isError).toBe(true);
    // The SDK turns a thrown handler error into an isError result for the client.
    const thrown = await callAsAgent(client, { to: 'x', fail: 'throw' });
    expect(thrown.isError).toBe(true);
    const rows = pl.rows();
    expect(rows.map((r) => [r.action, r.result, r.on_behalf_of])).toEqual([
      ['send_mail', 'error', 'tom'],
      ['send_mail', 'error', 'tom'],
    ]);
    expect(JSON.parse(rows[0]!.attributes as string)['error.type']).toBe('tool_error');
  });

  const sendMail: { name: string; arguments: Record<string, unknown>; _meta?: Record<string, unknown> } = {
    name: 'send_mail',
    arguments: { to: 'x' },
  };

  it('outside any span the call gets a trace of its own, so its attribution is still signed and verified', async () => {
    const pl = pipeline(true);
    const { client, seen } = await connect();
    await withAttribution(inboxAgent, () => client.callTool(injectMcpMeta(sendMail), CallToolResultSchema));
    const meta = mcpMetaOf(seen[0]);
    expect(meta?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(meta?.baggage).toContain('attribution.token=');
    const rows = pl.rows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ...attributedToInboxAgent, provenance: 'verified' });
    expect(rows[0]!.trace_id).toBe(String(meta?.traceparent).split('-')[1]);
  });

  it("an agent configured only by its process defaults propagates them, signed, like withAttribution's", async () => {
    const pl = pipeline(true, inboxAgent);
    const { client } = await connect();
    // No withAttribution and no span: only the process default, as ONBEHALF_AGENT_ID etc. set it.
    await client.callTool(injectMcpMeta(sendMail), CallToolResultSchema);
    expect(pl.rows()).toEqual([
      expect.objectContaining({
        ...attributedToInboxAgent,
        provenance: 'verified',
        delegation_chain: '["tom","nhi:agent-7f3"]',
      }),
    ]);
  });

  it('injectMcpMeta replaces stale propagation keys and leaves params unchanged', () => {
    const params = {
      name: 't',
      _meta: { traceparent: '00-stale', baggage: 'attribution.principal.id=ceo', keep: 1 },
    };
    const out = injectMcpMeta(params);
    // No active span or attribution here: nothing to inject, and nothing stale survives.
    expect(out._meta).toEqual({ keep: 1 });
    expect(params._meta.traceparent).toBe('00-stale');
  });
});
