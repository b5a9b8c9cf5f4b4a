// Tool-call conventions of frameworks that cannot run here, or not fully: each span is made with the
// real OTel SDK, with the exact names and attribute values the framework emits (read from its
// published package, version named in each case), ended under the inbox agent's attribution, and
// must land in the SQLite store as one attributed row with the tool's name and redacted arguments.
// OpenInference runs for real (@arizeai/openinference-core's traceTool).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { traceTool } from '@arizeai/openinference-core';
import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { withAttribution } from '../../src/attribution/attribution.js';
import { recognizeToolCall } from '../../src/conventions/tool-call.js';
import { attributedToInboxAgent, inboxAgent, type Pipeline, repo, setupPipeline } from './support.js';

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.teardown();
  p = undefined;
});
function pipeline(): Pipeline {
  p = setupPipeline();
  return p;
}

const mailArgs = { to: 'dana@acme.example', body: 'card 4111 1111 1111 1111' };
const redactedMailArgs = { to: '[REDACTED:email]', body: 'card [REDACTED:credit_card]' };

interface Recorded {
  name: string;
  kind?: SpanKind;
  /** Set when the span starts. */
  start: Attributes;
  /** Set just before it ends, as the frameworks do with results. */
  end?: Attributes;
  error?: boolean;
}

/** Starts and ends a span of the recorded shape under the inbox agent's attribution. */
function emit(pl: Pipeline, r: Recorded): void {
  withAttribution(inboxAgent, () => {
    const span = pl.tracer.startSpan(r.name, { kind: r.kind ?? SpanKind.INTERNAL, attributes: r.start });
    if (r.end) span.setAttributes(r.end);
    if (r.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
    span.end();
  });
}

const cases: [string, Recorded, string, unknown][] = [
  [
    'OTel GenAI execute_tool, as @ai-sdk/otel 1.0.173 (ai 7) emits it (needs Node 22)',
    {
      name: 'execute_tool send_mail',
      start: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'send_mail',
        'gen_ai.tool.call.id': 'call-2',
        'gen_ai.tool.type': 'function',
        'gen_ai.tool.call.arguments': JSON.stringify(mailArgs),
      },
      end: { 'gen_ai.execute_tool.duration': 0.002, 'gen_ai.tool.call.result': '{"status":"sent"}' },
    },
    'send_mail',
    redactedMailArgs,
  ],
  [
    'Vercel AI SDK ai.toolCall, as ai 5.0.277 / 6.0.325 and LegacyOpenTelemetry of @ai-sdk/otel emit it',
    {
      name: 'ai.toolCall',
      start: {
        'operation.name': 'ai.toolCall inbox-agent',
        'resource.name': 'inbox-agent',
        'ai.operationId': 'ai.toolCall',
        'ai.telemetry.functionId': 'inbox-agent',
        'ai.toolCall.name': 'send_mail',
        'ai.toolCall.id': 'call-2',
        'ai.toolCall.args': JSON.stringify(mailArgs),
      },
      end: { 'ai.toolCall.result': '{"status":"sent"}' },
    },
    'send_mail',
    redactedMailArgs,
  ],
  [
    'Vercel AI SDK ai.toolCall with the .input/.output spelling some converters write',
    {
      name: 'ai.toolCall',
      start: { 'ai.toolCall.name': 'send_mail', 'ai.toolCall.input': JSON.stringify(mailArgs) },
      end: { 'ai.toolCall.output': '{"status":"sent"}' },
    },
    'send_mail',
    redactedMailArgs,
  ],
  [
    'OpenLLMetry withTool, as @traceloop/node-server-sdk 0.27.0 emits it',
    {
      name: 'send_mail.tool',
      start: {},
      // withEntity sets its attributes right after the span starts, the output when fn resolves.
      end: {
        'traceloop.entity.name': 'send_mail',
        'traceloop.entity.path': '',
        'traceloop.span.kind': 'tool',
        'traceloop.entity.input': JSON.stringify({ args: [], kwargs: mailArgs }),
        'traceloop.entity.output': '{"status":"sent"}',
      },
    },
    'send_mail',
    redactedMailArgs,
  ],
  [
    'OpenLLMetry MCP client span, as @traceloop/instrumentation-mcp 0.27.0 emits it',
    {
      name: 'send_mail.tool',
      kind: SpanKind.CLIENT,
      start: {
        'traceloop.span.kind': 'tool',
        'traceloop.entity.name': 'send_mail',
        'traceloop.entity.input': JSON.stringify({ tool_name: 'send_mail', arguments: mailArgs }),
      },
      end: { 'traceloop.entity.output': '{"content":[{"type":"text","text":"sent"}]}' },
    },
    'send_mail',
    redactedMailArgs,
  ],
  [
    "OpenLLMetry's conversion of an AI SDK tool span (ai.toolCall.* moved to traceloop.entity.*), 0.27.0",
    {
      name: 'ai.toolCall',
      start: { 'ai.operationId': 'ai.toolCall' },
      end: {
        'traceloop.entity.input': JSON.stringify(mailArgs),
        'traceloop.entity.output': '{"status":"sent"}',
        'traceloop.span.kind': 'tool',
        'traceloop.entity.name': 'send_mail',
      },
    },
    'send_mail',
    redactedMailArgs,
  ],
  [
    'MCP semantic conventions, client span of tools/call',
    {
      name: 'tools/call send_mail',
      kind: SpanKind.CLIENT,
      start: {
        'mcp.method.name': 'tools/call',
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'send_mail',
        'jsonrpc.request.id': '3',
        'mcp.session.id': '191c4850af6c49e08843a3f6c80e5046',
        'mcp.protocol.version': '2025-06-18',
        'network.transport': 'pipe',
        'gen_ai.tool.call.arguments': JSON.stringify(mailArgs),
      },
    },
    'send_mail',
    redactedMailArgs,
  ],
];

describe('recorded tool spans of other frameworks reach the store attributed', () => {
  it.each(cases)('%s', (_, recorded, action, args) => {
    const pl = pipeline();
    emit(pl, recorded);
    const rows = pl.rows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ ...attributedToInboxAgent, action, result: 'ok' });
    expect(JSON.parse(rows[0]!.tool_arguments as string)).toEqual(args);
    expect(JSON.parse(rows[0]!.redactions as string)).toEqual(['credit_card', 'email']);
    // Nothing in the row keeps the raw address or card number, arguments or result alike.
    expect(JSON.stringify(rows[0])).not.toMatch(/dana@acme|4111 1111/);
  });

  it('records a failed framework tool span as result=error', () => {
    const pl = pipeline();
    emit(pl, {
      name: 'ai.toolCall',
      start: { 'ai.toolCall.name': 'send_mail', 'ai.toolCall.args': '{}' },
      error: true,
    });
    expect(pl.rows()).toMatchObject([{ action: 'send_mail', result: 'error', on_behalf_of: 'tom' }]);
  });

  it('names the convention that made the span, the most specific first', () => {
    const conventions = cases.map(([, r]) =>
      recognizeToolCall({ name: r.name, attributes: { ...r.start, ...r.end } }),
    );
    expect(conventions.map((c) => c?.convention)).toEqual([
      'gen_ai',
      'ai-sdk',
      'ai-sdk',
      'openllmetry',
      'openllmetry',
      'openllmetry',
      'mcp',
    ]);
  });

  it('does not take an OpenInference tool schema (tool.parameters) for the arguments of the call', () => {
    const call = recognizeToolCall({
      name: 'send_mail',
      attributes: { 'openinference.span.kind': 'TOOL', 'tool.parameters': '{"to":{"type":"string"}}' },
    });
    expect(call).toMatchObject({ convention: 'openinference', name: 'send_mail', arguments: undefined });
  });
});

const oiVersion = JSON.parse(
  readFileSync(join(repo, 'node_modules/@arizeai/openinference-core/package.json'), 'utf8'),
).version as string;

describe(`OpenInference, run for real: @arizeai/openinference-core@${oiVersion} traceTool`, () => {
  it('a TOOL span from traceTool is one attributed row named after the tool, input.value redacted', async () => {
    const pl = pipeline();
    const sendMail = traceTool(async (args: typeof mailArgs) => ({ status: 'sent', to: args.to }), {
      name: 'send_mail',
    });
    const lookup = traceTool(async (name: string) => `${name}@acme.example`, { name: 'lookup_contact' });
    await withAttribution(inboxAgent, async () => {
      await lookup('dana');
      await sendMail(mailArgs);
    });
    const rows = pl.rows();
    expect(rows.map((r) => r.action)).toEqual(['lookup_contact', 'send_mail']);
    for (const row of rows) expect(row).toMatchObject({ ...attributedToInboxAgent, result: 'ok' });
    const attributes = JSON.parse(rows[1]!.attributes as string);
    expect(attributes['openinference.span.kind']).toBe('TOOL');
    // A plain-text input (mime type text/plain) is kept as text.
    expect(rows[0]!.tool_arguments).toBe('"dana"');
    expect(JSON.parse(rows[1]!.tool_arguments as string)).toEqual(redactedMailArgs);
    expect(attributes['output.value']).toBe('{"status":"sent","to":"[REDACTED:email]"}');
  });
});
