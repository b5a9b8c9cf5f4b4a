// onbehalf/mcp: attribution across the Model Context Protocol, and the gate for MCP server tools.

export {
  auditedMcpTool,
  extractMcpContext,
  injectMcpMeta,
  type McpHandlerExtra,
  type McpMeta,
  type McpMetaSource,
  mcpMetaOf,
  withMcpContext,
} from './mcp.js';
