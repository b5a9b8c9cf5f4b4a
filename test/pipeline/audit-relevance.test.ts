// What reaches the audit store (docs/attribution.md, "What is audited"): tool calls in every recognized convention and spans a
// user predicate picks; plain and HTTP spans do not.
import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { withAttribution } from '../../src/attribution/attribution.js';
import { inboxAgent } from '../fixtures/seed.js';
import { type AuditPipeline, type AuditPipelineOptions, setupAuditPipeline } from '../helpers/audit.js';
import { inboxAgentColumns } from '../helpers/inbox-agent-row.js';

let p: AuditPipeline | undefined;
afterEach(async () => {
  await p?.teardown();
  p = undefined;
});

function pipeline(options?: AuditPipelineOptions): AuditPipeline {
  p = setupAuditPipeline(options);
  return p;
}

/** Ends a span with these attributes under the inbox agent's attribution, as a framework would. */
function emit(pl: AuditPipeline, name: string, attributes: Attributes, kind = SpanKind.INTERNAL): void {
  withAttribution(inboxAgent, () => {
    const span = pl.tracer.startSpan(name, { kind });
    // Frameworks often add their tool attributes late, so relevance must be decided at the end.
    span.setAttributes(attributes);
    span.end();
  });
}

describe('audit relevance', () => {
  it('stores no plain span and no HTTP span', () => {
    const pl = pipeline();
    emit(pl, 'summarize inbox', { 'app.step': 3 });
    emit(
      pl,
      'POST',
      {
        'http.request.method': 'POST',
        'url.full': 'https://mail.example/send',
        'http.response.status_code': 200,
      },
      SpanKind.CLIENT,
    );
    emit(pl, 'chat gpt-4o', { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' });
    expect(pl.exporter.getFinishedSpans()).toHaveLength(3);
    expect(pl.rows()).toEqual([]);
    expect(pl.auditProcessor.stats.stored).toBe(0);
  });

  it('stores a span the user predicate picks, with the span name as its action', () => {
    const pl = pipeline({
      audit: { isAuditRelevant: (span) => span.attributes['db.operation.name'] === 'DELETE' },
    });
    emit(pl, 'DELETE invoices', { 'db.operation.name': 'DELETE', 'db.collection.name': 'invoices' });
    emit(pl, 'SELECT invoices', { 'db.operation.name': 'SELECT' });
    const rows = pl.rows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: 'DELETE invoices',
      ...inboxAgentColumns('actor_id', 'on_behalf_of', 'trigger_id'),
      result: 'ok',
    });
  });

  it('a throwing predicate loses no recognized tool call and never reaches the host', () => {
    const pl = pipeline({
      audit: {
        isAuditRelevant: () => {
          throw new Error('predicate bug');
        },
      },
    });
    expect(() => emit(pl, 'plain', {})).not.toThrow();
    emit(pl, 'execute_tool send_mail', {
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'send_mail',
    });
    expect(pl.rows().map((r) => r.action)).toEqual(['send_mail']);
  });

  const conventions: [string, string, Attributes, string, string?][] = [
    [
      'OTel GenAI execute_tool',
      'execute_tool send_mail',
      {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'send_mail',
        'gen_ai.tool.call.arguments': '{"to":"dana@acme.example"}',
      },
      'send_mail',
      '{"to":"[REDACTED:email]"}',
    ],
    [
      'OTel GenAI execute_tool, tool named only by the span',
      'execute_tool archive_mail',
      { 'gen_ai.operation.name': 'execute_tool' },
      'archive_mail',
    ],
    [
      'OTel GenAI invoke_agent',
      'invoke_agent',
      { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'billing-agent' },
      'invoke_agent billing-agent',
    ],
    [
      'Vercel AI SDK ai.toolCall',
      'ai.toolCall',
      { 'ai.toolCall.name': 'create_ticket', 'ai.toolCall.args': '{"title":"reset password"}' },
      'create_ticket',
      '{"title":"reset password"}',
    ],
    [
      'OpenInference TOOL',
      'lookup_customer',
      { 'openinference.span.kind': 'TOOL', 'tool.name': 'lookup_customer', 'input.value': '{"id":7}' },
      'lookup_customer',
      '{"id":7}',
    ],
    [
      'OpenLLMetry traceloop tool',
      'refund.tool',
      { 'traceloop.span.kind': 'tool', 'traceloop.entity.name': 'refund' },
      'refund',
    ],
    [
      'MCP tools/call',
      'tools/call delete_file',
      { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'delete_file', 'jsonrpc.request.id': '12' },
      'delete_file',
    ],
  ];

  it.each(conventions)(
    'stores a tool call in the %s convention with its action',
    (_, name, attrs, action, args) => {
      const pl = pipeline();
      emit(pl, name, attrs);
      const rows = pl.rows();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        action,
        ...inboxAgentColumns(
          'record_type',
          'actor_type',
          'actor_id',
          'on_behalf_of',
          'trigger_type',
          'trigger_id',
        ),
        result: 'ok',
        span_id: pl.exporter.getFinishedSpans()[0]!.spanContext().spanId,
      });
      if (args) expect(rows[0]!.tool_arguments).toBe(args);
    },
  );

  it('stores a framework tool call marked as a failure with result error', () => {
    const pl = pipeline();
    withAttribution(inboxAgent, () => {
      const span = pl.tracer.startSpan('ai.toolCall', { attributes: { 'ai.toolCall.name': 'send_mail' } });
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'smtp refused' });
      span.end();
    });
    expect(pl.rows()[0]).toMatchObject({ action: 'send_mail', result: 'error' });
  });
});
