// An MCP server with two mail tools, over stdio. Each tool handler is wrapped in auditedMcpTool, which
// restores the trace context and attribution the client put in `params._meta` and runs the tool in a
// `tools/call {tool}` span: the audit store records one row per call, attributed to the calling agent
// and to Tom once the agent's signed attribution verifies against ONBEHALF_TRUSTED_KEYS.
//
// The agent starts it (see agent.mjs) as:
//   ONBEHALF_STORE=mcp-server.db ONBEHALF_TRUSTED_KEYS=jwks.json ONBEHALF_AGENT_ID=svc:mail-mcp \
//     node --import onbehalf/register examples/mcp/server.mjs
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { auditedMcpTool } from 'onbehalf/mcp';
import { z } from 'zod';

const server = new McpServer({ name: 'mail-mcp', version: '1.0.0' });

server.registerTool(
  'lookup_contact',
  { description: "Finds a contact in Tom's address book", inputSchema: { name: z.string() } },
  auditedMcpTool('lookup_contact', async ({ name }) => ({
    content: [{ type: 'text', text: `${name.toLowerCase()}@acme.example` }],
  })),
);

server.registerTool(
  'send_mail',
  {
    description: 'Sends an email as Tom',
    inputSchema: { to: z.string(), subject: z.string(), body: z.string() },
  },
  auditedMcpTool('send_mail', async ({ to }) => ({ content: [{ type: 'text', text: `sent to ${to}` }] })),
);

await server.connect(new StdioServerTransport());
