// MCP with no onbehalf code in the client or the server: register patches the MCP SDK's `Protocol`
// class, which both `Client` and `Server` (and `McpServer`) extend. A `tools/call` request going out
// carries the caller's trace context and attribution in `params._meta` (signed when this process has
// a key); one coming in is served in the context its `_meta` carries, inside a `tools/call {tool}`
// SERVER span that the audit store records as the call's row. Stdio and Streamable HTTP alike: both
// go through `Protocol`.
import type { Instrumentation } from '../otel/sdk-interfaces.js';
import { frameworkInstrumentation, patchMethod } from './app-modules.js';
import { injectMcpMeta, type McpHandlerExtra, type McpMeta, serveMcpToolCall } from './mcp.js';

interface JsonRpcRequestLike {
  method?: unknown;
  params?: { name?: unknown; arguments?: unknown; _meta?: McpMeta } & Record<string, unknown>;
}

const isToolsCall = (r: unknown): r is JsonRpcRequestLike =>
  typeof r === 'object' && r !== null && (r as JsonRpcRequestLike).method === 'tools/call';

/**
 * Instruments the `Protocol` class of a loaded `@modelcontextprotocol/sdk/shared/protocol.js` (ESM or
 * CommonJS). Returns false when the module has no such class.
 */
export function instrumentMcpProtocol(protocolModule: object): boolean {
  const proto = (protocolModule as { Protocol?: { prototype: object } }).Protocol?.prototype;
  const client = patchMethod(
    proto,
    'request',
    (original) =>
      function request(this: unknown, ...args: unknown[]) {
        const [req] = args;
        if (isToolsCall(req) && req.params) args[0] = { ...req, params: injectMcpMeta(req.params) };
        return original.apply(this, args);
      },
  );
  const server = patchMethod(
    proto,
    'setRequestHandler',
    (original) =>
      function setRequestHandler(this: unknown, schema: unknown, handler: unknown) {
        if (typeof handler !== 'function') return original.call(this, schema, handler);
        const serve = (request: unknown, extra: McpHandlerExtra | undefined) => {
          if (!isToolsCall(request)) return handler(request, extra);
          const name = typeof request.params?.name === 'string' ? request.params.name : 'tools/call';
          return serveMcpToolCall(name, request.params?.arguments, extra, () => handler(request, extra));
        };
        return original.call(this, schema, serve);
      },
  );
  return client && server;
}

/** Instruments the MCP TypeScript SDK's clients and servers when the app loads it, as ESM or CommonJS. */
export function mcpInstrumentation(): Instrumentation {
  const patch = (m: object) => instrumentMcpProtocol(m);
  return frameworkInstrumentation(
    'the MCP SDK',
    '@modelcontextprotocol/sdk',
    ['>=1.0.0 <2'],
    [
      { file: '@modelcontextprotocol/sdk/dist/cjs/shared/protocol.js', patch },
      { file: '@modelcontextprotocol/sdk/dist/esm/shared/protocol.js', patch },
    ],
  );
}
