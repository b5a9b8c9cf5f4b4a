// OpenAI Agents JS has its own tracing and emits no OpenTelemetry span. This bridge is one of its
// `TracingProcessor`s: each function-tool span becomes an OpenTelemetry GenAI `execute_tool {tool}`
// span, started in the context the tool call runs in (so it carries that request's attribution) and
// ended with the call's arguments and result, redacted, and its error. register installs it when the
// app has `@openai/agents-core` (which `@openai/agents` depends on) installed.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_ATTRIBUTION_CONTENT_REDACTIONS,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
} from '../conventions/generated.js';
import { redactValue } from '../redaction/redact.js';
import { patchMethod } from './app-modules.js';

/** The parts of an OpenAI Agents span the bridge reads (structural: onbehalf does not depend on it). */
export interface AgentsSpanLike {
  readonly spanId: string;
  readonly spanData: {
    readonly type: string;
    readonly name?: string;
    readonly input?: unknown;
    readonly output?: unknown;
  };
  readonly error?: { readonly message: string } | null;
}

/**
 * An OpenAI Agents `TracingProcessor` that re-emits function-tool calls as GenAI `execute_tool` spans.
 *
 * @example
 * import { addTraceProcessor } from '@openai/agents';
 * addTraceProcessor(new OpenAIAgentsToolSpans());
 */
export class OpenAIAgentsToolSpans {
  private readonly open = new Map<string, Span>();

  async onTraceStart(): Promise<void> {}
  async onTraceEnd(): Promise<void> {}

  async onSpanStart(span: AgentsSpanLike): Promise<void> {
    if (span.spanData.type !== 'function') return;
    const name = span.spanData.name || 'function';
    // Started here, synchronously in the tool call's own async context: its attribution is the call's.
    this.open.set(
      span.spanId,
      trace.getTracer('onbehalf.openai-agents').startSpan(`execute_tool ${name}`, {
        kind: SpanKind.INTERNAL,
        attributes: { [ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool', [ATTR_GEN_AI_TOOL_NAME]: name },
      }),
    );
  }

  async onSpanEnd(span: AgentsSpanLike): Promise<void> {
    const otel = this.open.get(span.spanId);
    if (!otel) return;
    this.open.delete(span.spanId);
    const redactions = new Set<string>();
    const put = (key: string, value: unknown) => {
      if (value === undefined || value === '') return;
      const { json, redactions: found } = redactValue(value, undefined);
      if (json !== undefined) otel.setAttribute(key, json);
      for (const kind of found) redactions.add(kind);
    };
    put(ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, span.spanData.input);
    put(ATTR_GEN_AI_TOOL_CALL_RESULT, span.spanData.output);
    if (redactions.size) otel.setAttribute(ATTR_ATTRIBUTION_CONTENT_REDACTIONS, [...redactions].sort());
    if (span.error) {
      otel.setAttribute(ATTR_ERROR_TYPE, 'tool_error');
      otel.setStatus({ code: SpanStatusCode.ERROR, message: span.error.message });
    }
    otel.end();
  }

  async shutdown(): Promise<void> {
    this.endOpen();
  }

  async forceFlush(): Promise<void> {}

  /** Spans whose tool call never ended: ended now, as errors, so no call goes unrecorded. */
  private endOpen(): void {
    for (const otel of this.open.values()) {
      otel.setStatus({ code: SpanStatusCode.ERROR, message: 'tool call still running at shutdown' });
      otel.end();
    }
    this.open.clear();
  }
}

/** The parts of the OpenAI Agents trace provider the bridge uses. */
interface TraceProviderLike {
  registerProcessor(processor: OpenAIAgentsToolSpans): void;
  setProcessors(processors: unknown[]): void;
}

/**
 * register: adds {@link OpenAIAgentsToolSpans} to the app's OpenAI Agents tracing, and keeps it
 * there when the app (or `@openai/agents` itself, which installs its OpenAI exporter on import)
 * replaces the processor list. Returns false when `@openai/agents-core` is not installed.
 */
export async function bridgeOpenAIAgents(): Promise<boolean> {
  const entry = process.argv[1] ? resolve(process.argv[1]) : join(process.cwd(), 'index.js');
  let agents: { getGlobalTraceProvider?: () => TraceProviderLike };
  try {
    // The trace provider lives on globalThis: the CommonJS build reaches the app's ESM copy too.
    agents = createRequire(entry)('@openai/agents-core');
  } catch {
    return false;
  }
  const provider = agents.getGlobalTraceProvider?.();
  if (!provider) return false;
  const bridge = new OpenAIAgentsToolSpans();
  provider.registerProcessor(bridge);
  patchMethod(
    provider,
    'setProcessors',
    (original) =>
      function setProcessors(this: unknown, processors: unknown) {
        const list = Array.isArray(processors) ? processors.filter((p) => p !== bridge) : [];
        return original.call(this, [...list, bridge]);
      },
  );
  return true;
}
