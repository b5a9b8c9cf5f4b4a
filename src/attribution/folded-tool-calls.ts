// One row per tool call: when `audited()` runs inside a framework's own tool span (the AI SDK's
// `execute`, a LangChain tool, an MCP server tool), the gate's row is that call's row, and the
// framework's span is folded into it instead of being stored as a second, possibly contradicting, row.
import type { Attributes, Span } from '@opentelemetry/api';
import { recognizeToolCall, type SpanLike, type ToolCall } from '../conventions/tool-call.js';

/** Framework spans a gate ran directly inside: their own row would repeat the gate's. */
const gated = new WeakSet<object>();

/** What a gate takes from the framework's tool span it runs in. */
export interface EnclosingToolCall {
  call: ToolCall;
  /** The framework's span attributes, for fields the gate was not given. */
  attributes: Attributes;
}

/**
 * Called by `audited()` with the span active when it starts: remembers that a gate runs inside it,
 * and returns the framework's tool call it folds into, if that span is one already recognizable.
 */
export function gateStartsInside(parent: Span | undefined): EnclosingToolCall | undefined {
  if (!parent?.isRecording()) return undefined;
  gated.add(parent);
  const like = parent as Partial<SpanLike>;
  if (typeof like.name !== 'string' || !like.attributes) return undefined;
  const call = foldable({ name: like.name, attributes: like.attributes });
  return call ? { call, attributes: like.attributes } : undefined;
}

/**
 * Whether a finished span's tool call is already recorded by a gate that ran inside it. Agent
 * invocations and onbehalf's own gates are never folded: a gate inside a gate is a second action.
 */
export function isFoldedIntoGate(span: SpanLike & object, call: ToolCall): boolean {
  return gated.has(span) && isFoldable(span, call);
}

function foldable(span: SpanLike): ToolCall | undefined {
  const call = recognizeToolCall(span);
  return call && isFoldable(span, call) ? call : undefined;
}

function isFoldable(span: SpanLike, call: ToolCall): boolean {
  return call.convention !== 'onbehalf' && span.attributes['gen_ai.operation.name'] !== 'invoke_agent';
}
