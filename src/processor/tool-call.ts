import type { Attributes } from '@opentelemetry/api';

/** A tool call recognized in a span, whatever convention the framework that made it follows. */
export interface ToolCall {
  /** Which convention the span followed. */
  convention: 'onbehalf' | 'gen_ai' | 'ai-sdk' | 'openinference' | 'openllmetry' | 'mcp';
  /** The tool's name: the audit event's `action`. */
  name: string;
  /** Raw arguments as the framework recorded them (usually JSON text); redacted before storing. */
  arguments?: unknown;
  /** Raw result as the framework recorded it; redacted before storing. */
  result?: unknown;
  /** The framework's id of this call. */
  callId?: string;
}

/** The shape of a span that recognition needs: its name and attributes. */
export interface SpanLike {
  readonly name: string;
  readonly attributes: Attributes;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** Strips the operation prefix of a GenAI span name: `execute_tool send_mail` → `send_mail`. */
const nameAfter = (spanName: string, prefix: string) =>
  spanName.startsWith(prefix) ? spanName.slice(prefix.length).trim() || undefined : undefined;

/**
 * Recognizes a tool call (or other world-touching action) in a finished span, in the conventions of
 * the stacks agents use: onbehalf's own `attribution.action`; OpenTelemetry GenAI `execute_tool`
 * (and `invoke_agent`); the Vercel AI SDK's `ai.toolCall` spans; OpenInference `TOOL` spans;
 * OpenLLMetry `traceloop.span.kind=tool`; MCP `tools/call`.
 */
export function recognizeToolCall(span: SpanLike): ToolCall | undefined {
  const a = span.attributes;
  const action = str(a['attribution.action']);
  if (action) {
    return {
      convention: 'onbehalf',
      name: action,
      arguments: a['gen_ai.tool.call.arguments'],
      result: a['gen_ai.tool.call.result'],
      callId: str(a['gen_ai.tool.call.id']),
    };
  }
  const operation = str(a['gen_ai.operation.name']);
  if (operation === 'execute_tool' || operation === 'invoke_agent') {
    const name =
      operation === 'execute_tool'
        ? (str(a['gen_ai.tool.name']) ?? nameAfter(span.name, 'execute_tool'))
        : `invoke_agent ${str(a['gen_ai.agent.name']) ?? nameAfter(span.name, 'invoke_agent') ?? ''}`.trim();
    return {
      convention: 'gen_ai',
      name: name ?? 'execute_tool',
      arguments: a['gen_ai.tool.call.arguments'] ?? a['gen_ai.input.messages'],
      result: a['gen_ai.tool.call.result'],
      callId: str(a['gen_ai.tool.call.id']),
    };
  }
  if (str(a['ai.toolCall.name']) || span.name === 'ai.toolCall') {
    return {
      convention: 'ai-sdk',
      name: str(a['ai.toolCall.name']) ?? 'ai.toolCall',
      arguments: a['ai.toolCall.args'] ?? a['ai.toolCall.input'],
      result: a['ai.toolCall.result'] ?? a['ai.toolCall.output'],
      callId: str(a['ai.toolCall.id']),
    };
  }
  if (a['openinference.span.kind'] === 'TOOL') {
    return {
      convention: 'openinference',
      name: str(a['tool.name']) ?? span.name,
      arguments: a['tool.parameters'] ?? a['input.value'],
      result: a['output.value'],
      callId: str(a['tool_call.id']),
    };
  }
  if (a['traceloop.span.kind'] === 'tool') {
    return {
      convention: 'openllmetry',
      name: str(a['traceloop.entity.name']) ?? span.name.replace(/\.tool$/, ''),
      arguments: a['traceloop.entity.input'],
      result: a['traceloop.entity.output'],
    };
  }
  if (a['mcp.method.name'] === 'tools/call') {
    return {
      convention: 'mcp',
      name:
        str(a['gen_ai.tool.name']) ??
        str(a['mcp.tool.name']) ??
        nameAfter(span.name, 'tools/call') ??
        'tools/call',
      arguments: a['gen_ai.tool.call.arguments'] ?? a['mcp.request.params'],
      result: a['gen_ai.tool.call.result'],
      callId: str(a['jsonrpc.request.id'] ?? a['mcp.request.id']),
    };
  }
  return undefined;
}

/** Decides, at a span's end, whether it goes to the audit store (DESIGN §7). */
export type AuditPredicate = (span: SpanLike) => boolean;
