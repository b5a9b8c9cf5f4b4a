// The enforcing wrapper for framework tools: where an app wants the policy to gate a tool (not only
// shadow-record it), it wraps the tool's function. The call then runs inside `audited()`, which folds
// into the framework's own tool span: one row per call, with the enforced decision.
import { type AuditDetails, audited } from '../audited.js';

/** How {@link enforcePolicy} describes each call to the policy. */
export interface EnforceOptions<A extends unknown[]> {
  /** The call's target (`context.target`, `Target::"…"`), from its arguments. */
  target?: (...args: A) => string | undefined;
  /** The tool's risk tier (default 0). */
  riskTier?: AuditDetails['riskTier'];
}

/**
 * Wraps a tool function so the policy in force decides every call before it runs: denied (or not
 * approved) calls throw {@link ActionDeniedError} instead of running. The first argument is recorded
 * as the call's arguments, after redaction.
 *
 * @example
 * // AI SDK
 * tool({ inputSchema, execute: enforcePolicy('send_mail', async ({ to }) => send(to), { target: ({ to }) => to, riskTier: 2 }) });
 * // LangChain
 * tool(enforcePolicy('send_mail', async ({ to }) => send(to)), { name: 'send_mail', schema });
 * // MCP server
 * server.registerTool('send_mail', config, auditedMcpTool('send_mail', enforcePolicy('send_mail', handler)));
 */
export function enforcePolicy<A extends unknown[], R>(
  name: string,
  fn: (...args: A) => R | Promise<R>,
  options: EnforceOptions<A> = {},
): (...args: A) => Promise<R> {
  return (...args: A) =>
    audited(
      name,
      { target: options.target?.(...args), riskTier: options.riskTier ?? 0, arguments: args[0] },
      () => fn(...args),
    );
}
