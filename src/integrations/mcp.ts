// Model Context Protocol: trace context and attribution in `params._meta`, and an audited server-side
// tool span. Structural types only, so onbehalf does not depend on the MCP SDK.
import { randomBytes } from 'node:crypto';
import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  isSpanContextValid,
  type Link,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import {
  ATTR_ATTRIBUTION_CONTENT_REDACTIONS,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
} from '../conventions/generated.js';
import { redact } from '../redaction/redact.js';
import { runInToolSpan } from './tool-span.js';

/** The `_meta` property bag of an MCP request's params. */
export type McpMeta = Record<string, unknown>;

/**
 * Where a server finds a request's `_meta`: the handler's `extra` (`RequestHandlerExtra._meta` of the
 * MCP SDK), the request itself (`request.params._meta`), or the `_meta` object.
 */
export type McpMetaSource =
  | { readonly _meta?: McpMeta | undefined }
  | { readonly params?: { readonly _meta?: McpMeta | undefined } | undefined };

/** What {@link auditedMcpTool} reads from the MCP SDK's `RequestHandlerExtra`. */
export interface McpHandlerExtra {
  readonly _meta?: McpMeta | undefined;
  readonly requestId?: string | number | undefined;
  readonly sessionId?: string | undefined;
}

/** The keys W3C propagation writes into `_meta` (SEP-414: unprefixed, unlike other `_meta` keys). */
const PROPAGATION_KEYS = ['traceparent', 'tracestate', 'baggage'] as const;

const metaGetter: TextMapGetter<McpMeta> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key];
    return typeof v === 'string' ? v : undefined;
  },
};

/**
 * Client side: returns a copy of an MCP request's `params` whose `_meta` carries the active trace
 * context and attribution (`traceparent`, `tracestate`, `baggage`), through the global propagator,
 * as the OpenTelemetry MCP conventions recommend. The app's own `_meta` keys are kept; stale
 * propagation keys are replaced.
 *
 * A signed attribution is bound to a trace: called outside any span, the request is given a trace of
 * its own (a fresh `traceparent`), so it is still signed whenever this process has a signing key.
 * The server accepts a token once per caller span, so call it inside the request's own client span
 * (e.g. `tools/call send_mail`): a second request sent from the same span is refused as a replay.
 *
 * @example
 * await client.callTool(injectMcpMeta({ name: 'send_mail', arguments: { to, body } }));
 */
export function injectMcpMeta<P extends object>(
  params: P & { _meta?: McpMeta | undefined },
  ctx: Context = context.active(),
): P & { _meta: McpMeta } {
  const meta: McpMeta = { ...(params._meta ?? {}) };
  for (const key of PROPAGATION_KEYS) delete meta[key];
  const written: McpMeta = {};
  const set = {
    set: (carrier: McpMeta, key: string, value: string) => {
      carrier[key] = value;
    },
  };
  propagation.inject(ctx, written, set);
  // Attribution going out with no trace to bind a token to: again, on a trace of its own.
  if (written.baggage !== undefined && written.traceparent === undefined) {
    for (const key of Object.keys(written)) delete written[key];
    propagation.inject(withNewTrace(ctx), written, set);
  }
  return { ...params, _meta: { ...meta, ...written } };
}

/** `ctx` with a new trace, which a signed token can be bound to and the server's span can continue. */
function withNewTrace(ctx: Context): Context {
  return trace.setSpanContext(ctx, {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    traceFlags: TraceFlags.SAMPLED,
  });
}

/** The `_meta` of an MCP request, from whichever of its usual places holds it. */
export function mcpMetaOf(source: McpMetaSource | undefined): McpMeta | undefined {
  if (!source || typeof source !== 'object') return undefined;
  if ('_meta' in source && source._meta && typeof source._meta === 'object') return source._meta;
  if ('params' in source && source.params && typeof source.params === 'object') {
    const meta = source.params._meta;
    if (meta && typeof meta === 'object') return meta;
  }
  return undefined;
}

/**
 * Server side: the context an MCP request carries in `_meta` (trace parent and attribution). The
 * attribution is verified like any inbound one: only a token signed by a trusted key names the
 * principal; plain baggage stays an unverified claim.
 *
 * When `_meta` carries propagation keys they replace the ambient context `ctx` rather than add to it,
 * as the MCP conventions ask: the ambient context belongs to the transport (an HTTP request that may
 * carry many MCP messages, or, in process, whatever code happened to deliver the message), not to this
 * request. Without them, `ctx` is kept, e.g. attribution an HTTP transport already extracted.
 */
export function extractMcpContext(
  source: McpMetaSource | undefined,
  ctx: Context = context.active(),
): Context {
  const meta = mcpMetaOf(source);
  if (!meta || !PROPAGATION_KEYS.some((key) => typeof meta[key] === 'string')) return ctx;
  return propagation.extract(ROOT_CONTEXT, meta, metaGetter);
}

/**
 * Server side: runs `fn` in the context the request carries in `_meta`, so spans it starts continue
 * the client's trace and are attributed to the client's agent and principal.
 *
 * @example
 * server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
 *   withMcpContext(extra, () => handleCall(request)));
 */
export function withMcpContext<T>(source: McpMetaSource | undefined, fn: () => T): T {
  return context.with(extractMcpContext(source), fn);
}

/** Result shape of an MCP tool handler, as far as auditing needs it. */
interface McpToolResultLike {
  isError?: unknown;
}

/**
 * Server side: wraps an MCP tool handler so each call runs in the context its request carries in
 * `_meta` and inside a `tools/call {name}` SERVER span in the OpenTelemetry MCP conventions
 * (`mcp.method.name`, `gen_ai.operation.name=execute_tool`, `gen_ai.tool.name`,
 * `jsonrpc.request.id`, arguments redacted), which the audit store records as one tool call. A result
 * with `isError: true` is recorded as an error (`error.type=tool_error`); a thrown error too, and is
 * rethrown unchanged.
 *
 * @example
 * server.registerTool('send_mail', { inputSchema: { to: z.string() } },
 *   auditedMcpTool('send_mail', async ({ to }) => ({ content: [{ type: 'text', text: 'sent' }] })));
 */
export function auditedMcpTool<P extends unknown[], R>(
  name: string,
  handler: (...params: P) => R | Promise<R>,
): (...params: P) => Promise<R> {
  return (...params: P) => {
    // The MCP SDK passes (args, extra) to tools with an input schema and (extra) to those without.
    const extra = params[params.length - 1] as McpHandlerExtra | undefined;
    const args = params.length > 1 ? params[0] : undefined;
    return serveMcpToolCall(name, args, extra, () => handler(...params));
  };
}

/** Set while a `tools/call` server span runs, so a wrapped handler inside it makes no second one. */
const IN_TOOL_CALL = createContextKey('onbehalf.mcp.tools-call');

/**
 * Runs one MCP tool call on the server: in the context its `_meta` carries, inside a
 * `tools/call {name}` SERVER span (see {@link auditedMcpTool}). Inside such a span already (register
 * instruments the SDK, and the handler is also wrapped by hand), it just runs the call.
 */
export function serveMcpToolCall<R>(
  name: string,
  args: unknown,
  extra: McpHandlerExtra | undefined,
  run: () => R | Promise<R>,
): Promise<R> {
  if (context.active().getValue(IN_TOOL_CALL)) return Promise.resolve().then(run);
  // The transport's own span, if any, stays reachable as a link (MCP conventions).
  const ambient = trace.getSpanContext(context.active());
  const links: Link[] = ambient && isSpanContextValid(ambient) ? [{ context: ambient }] : [];
  const ctx = extractMcpContext(extra).setValue(IN_TOOL_CALL, true);
  return trace
    .getTracer('onbehalf')
    .startActiveSpan(
      `tools/call ${name}`,
      { kind: SpanKind.SERVER, attributes: toolCallAttributes(name, args, extra), links },
      ctx,
      (span) =>
        runInToolSpan(span, run, (result) => {
          if ((result as McpToolResultLike | undefined)?.isError === true) {
            span.setAttribute(ATTR_ERROR_TYPE, 'tool_error');
            span.setStatus({ code: SpanStatusCode.ERROR, message: 'tool returned isError' });
          }
        }),
    );
}

function toolCallAttributes(name: string, args: unknown, extra: McpHandlerExtra | undefined): Attributes {
  const attributes: Attributes = {
    'mcp.method.name': 'tools/call',
    [ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool',
    [ATTR_GEN_AI_TOOL_NAME]: name,
  };
  const requestId = extra?.requestId;
  if (typeof requestId === 'string' || typeof requestId === 'number') {
    attributes['jsonrpc.request.id'] = String(requestId);
  }
  if (extra?.sessionId) attributes['mcp.session.id'] = extra.sessionId;
  if (args !== undefined) {
    // Redacted before it reaches the span, so exporters never see what the audit store would not keep.
    const { json, redactions } = redact(args);
    if (json !== undefined) attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = json;
    if (redactions.length) attributes[ATTR_ATTRIBUTION_CONTENT_REDACTIONS] = redactions;
  }
  return attributes;
}
