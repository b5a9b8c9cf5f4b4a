// The frameworks onbehalf instruments on its own, for apps that use them unchanged.
import type { Instrumentation } from '../otel/sdk-interfaces.js';
import { langChainCallbackQueueInstrumentation, langChainInstrumentation } from './langchain.js';
import { mcpInstrumentation } from './mcp-instrumentation.js';

/**
 * Instrumentations of the agent frameworks onbehalf knows: LangChain.js / LangGraph.js tools (and
 * LangChain's callback queue, so callback tracers stay in their request's context) and the MCP SDK. Each patches its framework only if and when the app loads it.
 */
export function frameworkInstrumentations(): Instrumentation[] {
  return [langChainInstrumentation(), langChainCallbackQueueInstrumentation(), mcpInstrumentation()];
}
