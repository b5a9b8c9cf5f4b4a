import type { Attributes, AttributeValue } from '@opentelemetry/api';

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

type Recognizer = (span: SpanLike) => ToolCall | undefined;

const str = (v: AttributeValue | undefined): string | undefined =>
  typeof v === 'string' && v ? v : undefined;
/** JSON-RPC ids may be numbers; the audit record keeps them as text. */
const id = (v: AttributeValue | undefined): string | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? String(v) : str(v);

/** Strips the operation prefix of a span name: `execute_tool send_mail` → `send_mail`. */
const nameAfter = (spanName: string, prefix: string) =>
  spanName.startsWith(`${prefix} `) ? spanName.slice(prefix.length).trim() || undefined : undefined;

/** onbehalf's own gate, `audited()`, or any span that names its action. */
const onbehalf: Recognizer = ({ attributes: a }) => {
  const action = str(a['attribution.action']);
  if (!action) return undefined;
  return {
    convention: 'onbehalf',
    name: action,
    arguments: a['gen_ai.tool.call.arguments'],
    result: a['gen_ai.tool.call.result'],
    callId: str(a['gen_ai.tool.call.id']),
  };
};

/**
 * MCP semantic conventions: client and server spans of `tools/call`, named `tools/call {tool}`, with
 * `mcp.method.name`, `gen_ai.tool.name` and `jsonrpc.request.id`. Checked before the GenAI convention,
 * since a conformant MCP tool span also says `gen_ai.operation.name=execute_tool`.
 */
const mcp: Recognizer = ({ name, attributes: a }) => {
  if (a['mcp.method.name'] !== 'tools/call') return undefined;
  return {
    convention: 'mcp',
    name: str(a['gen_ai.tool.name']) ?? nameAfter(name, 'tools/call') ?? 'tools/call',
    arguments: a['gen_ai.tool.call.arguments'],
    result: a['gen_ai.tool.call.result'],
    callId: id(a['jsonrpc.request.id']) ?? str(a['gen_ai.tool.call.id']),
  };
};

/**
 * The Vercel AI SDK's own telemetry (ai 3 to 6, and `LegacyOpenTelemetry` of `@ai-sdk/otel`): an
 * `ai.toolCall` span with `ai.toolCall.name`/`.id` and the arguments and result as JSON in
 * `ai.toolCall.args`/`.result` (`.input`/`.output` in some releases). The AI SDK's newer
 * `@ai-sdk/otel` integration emits GenAI `execute_tool` spans instead, recognized by {@link genAi}.
 */
const aiSdk: Recognizer = ({ attributes: a }) => {
  const name = str(a['ai.toolCall.name']);
  if (!name) return undefined;
  return {
    convention: 'ai-sdk',
    name,
    arguments: a['ai.toolCall.args'] ?? a['ai.toolCall.input'],
    result: a['ai.toolCall.result'] ?? a['ai.toolCall.output'],
    callId: str(a['ai.toolCall.id']),
  };
};

/** OpenTelemetry GenAI semantic conventions: `execute_tool {tool}` and `invoke_agent {agent}` spans. */
const genAi: Recognizer = ({ name: spanName, attributes: a }) => {
  const operation = str(a['gen_ai.operation.name']);
  if (operation === 'execute_tool') {
    return {
      convention: 'gen_ai',
      name: str(a['gen_ai.tool.name']) ?? nameAfter(spanName, 'execute_tool') ?? 'execute_tool',
      arguments: a['gen_ai.tool.call.arguments'],
      result: a['gen_ai.tool.call.result'],
      callId: str(a['gen_ai.tool.call.id']),
    };
  }
  if (operation === 'invoke_agent') {
    const agent = str(a['gen_ai.agent.name']) ?? nameAfter(spanName, 'invoke_agent');
    return {
      convention: 'gen_ai',
      name: agent ? `invoke_agent ${agent}` : 'invoke_agent',
      arguments: a['gen_ai.input.messages'],
      result: a['gen_ai.output.messages'],
    };
  }
  return undefined;
};

/**
 * OpenInference (Arize Phoenix): `openinference.span.kind=TOOL`. The tool's name is `tool.name` when the
 * instrumentation sets it, otherwise the span's name (`traceTool` of `@arizeai/openinference-core`
 * names the span only). `tool.parameters` is the tool's JSON schema, not the arguments of this call:
 * those are `input.value`.
 */
const openInference: Recognizer = ({ name, attributes: a }) => {
  const kind = a['openinference.span.kind'];
  if (typeof kind !== 'string' || kind.toUpperCase() !== 'TOOL') return undefined;
  return {
    convention: 'openinference',
    name: str(a['tool.name']) ?? str(a['tool_call.function.name']) ?? name,
    arguments: a['input.value'] ?? a['tool_call.function.arguments'],
    result: a['output.value'],
    callId: str(a['tool_call.id']),
  };
};

/**
 * OpenLLMetry (Traceloop): `traceloop.span.kind=tool` with `traceloop.entity.name`/`.input`/`.output`,
 * from `withTool`/`@tool` (span `{name}.tool`), its MCP instrumentation and its AI SDK transform.
 */
const openLlmetry: Recognizer = ({ name, attributes: a }) => {
  if (a['traceloop.span.kind'] !== 'tool') return undefined;
  return {
    convention: 'openllmetry',
    name: str(a['traceloop.entity.name']) ?? name.replace(/\.tool$/, ''),
    arguments: traceloopArguments(a['traceloop.entity.input']),
    result: a['traceloop.entity.output'],
  };
};

/**
 * Traceloop wraps what it records: `withTool` writes `{"args":[…],"kwargs":{…}}`, its MCP
 * instrumentation `{"tool_name":…,"arguments":{…}}`. The audit record keeps only the arguments, so
 * the same call reads the same whichever path recorded it.
 */
function traceloopArguments(input: AttributeValue | undefined): unknown {
  if (typeof input !== 'string') return input;
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch {
    return input;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return input;
  const o = parsed as Record<string, unknown>;
  const keys = Object.keys(o);
  if ('tool_name' in o && keys.every((k) => k === 'tool_name' || k === 'arguments')) return o.arguments;
  if (keys.length === 2 && Array.isArray(o.args) && o.kwargs && typeof o.kwargs === 'object') {
    const kwargs = o.kwargs as Record<string, unknown>;
    if (o.args.length === 0) return kwargs;
    if (Object.keys(kwargs).length === 0) return o.args.length === 1 ? o.args[0] : o.args;
  }
  return input;
}

/** An `ai.toolCall` span whose tool attributes were left out or moved (e.g. by a converting processor). */
const aiSdkBare: Recognizer = ({ name }) =>
  name === 'ai.toolCall' ? { convention: 'ai-sdk', name: 'ai.toolCall' } : undefined;

/** Most specific first: a span that follows two conventions is named after the one that made it. */
const RECOGNIZERS: readonly Recognizer[] = [
  onbehalf,
  mcp,
  aiSdk,
  genAi,
  openInference,
  openLlmetry,
  aiSdkBare,
];

/**
 * Recognizes a tool call (or other world-touching action) in a finished span, in the conventions of
 * the stacks agents use: onbehalf's own `attribution.action`; MCP `tools/call`; the Vercel AI SDK's
 * `ai.toolCall` spans; OpenTelemetry GenAI `execute_tool` (and `invoke_agent`), which the AI SDK's
 * `@ai-sdk/otel` also emits; OpenInference `TOOL` spans; OpenLLMetry `traceloop.span.kind=tool`.
 *
 * Called at a span's end, when every attribute exists: several frameworks add theirs only late.
 */
export function recognizeToolCall(span: SpanLike): ToolCall | undefined {
  for (const recognize of RECOGNIZERS) {
    const call = recognize(span);
    if (call) return call;
  }
  return undefined;
}

/** Decides, at a span's end, whether it goes to the audit store (docs/attribution.md, "What is audited"). */
export type AuditPredicate = (span: SpanLike) => boolean;
