// LangChain.js and LangGraph.js (their prebuilt agents run LangChain tools): every tool call runs in an
// `execute_tool {tool}` span in the OpenTelemetry GenAI conventions, started in the caller's own
// context. LangChain's callbacks run in a shared background queue, whose context may be another
// request's; this span is started inside the call itself, so it belongs to the call's trace and
// attribution, and the tool's own code (an `audited()` gate, an HTTP request) runs inside it.
import { type Attributes, context, SpanKind, trace } from '@opentelemetry/api';
import {
  ATTR_ATTRIBUTION_CONTENT_REDACTIONS,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
} from '../conventions/generated.js';
import type { Instrumentation } from '../otel/sdk-interfaces.js';
import { redact } from '../redaction/redact.js';
import { frameworkInstrumentation, patchMethod } from './app-modules.js';
import { runInToolSpan } from './tool-span.js';

/** What a LangChain tool call looks like to `StructuredTool.call`: a ToolCall or its bare arguments. */
interface ToolCallLike {
  type?: unknown;
  id?: unknown;
  args?: unknown;
}

/**
 * Instruments the `StructuredTool` class of a loaded `@langchain/core/tools` module (ESM or CommonJS),
 * which every LangChain tool (`tool()`, `DynamicStructuredTool`, `Tool`) and LangGraph's `ToolNode`
 * goes through. Returns false when the module has no such class.
 */
export function instrumentLangChainTools(toolsModule: object): boolean {
  const StructuredTool = (toolsModule as { StructuredTool?: { prototype: object } }).StructuredTool;
  return patchMethod(
    StructuredTool?.prototype,
    'call',
    (original) =>
      function call(this: { name?: unknown }, ...args: unknown[]) {
        const name = typeof this.name === 'string' && this.name ? this.name : 'tool';
        return trace
          .getTracer('onbehalf.langchain')
          .startActiveSpan(
            `execute_tool ${name}`,
            { kind: SpanKind.INTERNAL, attributes: startAttributes(name, args[0], args[1]) },
            (span) =>
              runInToolSpan(
                span,
                () => original.apply(this, args),
                (result) => {
                  const { json } = redact(resultContent(result));
                  if (json !== undefined) span.setAttribute(ATTR_GEN_AI_TOOL_CALL_RESULT, json);
                },
              ),
          );
      },
  );
}

function startAttributes(name: string, input: unknown, config: unknown): Attributes {
  const attributes: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool',
    [ATTR_GEN_AI_TOOL_NAME]: name,
  };
  const toolCall = isToolCall(input) ? input : (config as { toolCall?: unknown } | undefined)?.toolCall;
  const id = isToolCall(toolCall) ? toolCall.id : undefined;
  if (typeof id === 'string' && id) attributes[ATTR_GEN_AI_TOOL_CALL_ID] = id;
  // Redacted before it reaches the span, so exporters never see what the audit store would not keep.
  const { json, redactions } = redact(isToolCall(input) ? input.args : input);
  if (json !== undefined) attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = json;
  if (redactions.length) attributes[ATTR_ATTRIBUTION_CONTENT_REDACTIONS] = redactions;
  return attributes;
}

function isToolCall(v: unknown): v is ToolCallLike {
  return typeof v === 'object' && v !== null && (v as ToolCallLike).type === 'tool_call';
}

/** A ToolMessage's content, or the tool's plain output. */
function resultContent(result: unknown): unknown {
  if (result && typeof result === 'object' && 'content' in result)
    return (result as { content: unknown }).content;
  return result;
}

/**
 * LangChain runs callbacks (tracers such as OpenInference's) in a shared `p-queue`: a queued callback
 * runs in the context of whichever earlier callback's promise started it, which may belong to another
 * request, so a tracer starting spans there files them under someone else's trace and attribution.
 * Binding each queued function to the context it was queued in keeps every callback in its own
 * request's context. Patches the `PQueue` class of a loaded `p-queue` (6.x, which LangChain uses).
 */
export function bindQueueToCallerContext(pQueueModule: object): boolean {
  // CommonJS exports `{ default: PQueue }`; seen from ESM, that object is the namespace's default.
  type Exports = { default?: { prototype?: object; default?: { prototype?: object } } };
  const exported = (pQueueModule as Exports).default;
  const PQueue = exported?.prototype && 'add' in exported.prototype ? exported : exported?.default;
  return patchMethod(
    PQueue?.prototype,
    'add',
    (original) =>
      function add(this: unknown, fn: unknown, ...rest: unknown[]) {
        const bound = typeof fn === 'function' ? context.bind(context.active(), fn) : fn;
        return original.call(this, bound, ...rest);
      },
  );
}

/** Keeps LangChain's background callbacks in the context of the request that queued them. */
export function langChainCallbackQueueInstrumentation(): Instrumentation {
  return frameworkInstrumentation(
    'the LangChain callback queue',
    'p-queue',
    ['>=6 <7'],
    [{ file: 'p-queue', patch: bindQueueToCallerContext }],
  );
}

/**
 * Instruments LangChain.js tools (and so LangGraph.js's `ToolNode` and `createAgent`) when the app
 * loads `@langchain/core/tools`, as ESM or CommonJS.
 */
export function langChainInstrumentation(): Instrumentation {
  const patch = (m: object) => instrumentLangChainTools(m);
  return frameworkInstrumentation(
    'LangChain.js',
    '@langchain/core',
    ['>=0.3.0 <2'],
    [
      { file: '@langchain/core/dist/tools/index.cjs', patch },
      { file: '@langchain/core/dist/tools/index.js', patch },
    ],
  );
}
