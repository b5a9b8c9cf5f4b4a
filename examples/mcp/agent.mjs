// An agent that uses tools over MCP: inbox-agent, for Tom, on email msg-8821, starts the mail MCP
// server over stdio and calls two of its tools. injectMcpMeta puts the trace context and the agent's
// attribution (signed with ONBEHALF_SIGNING_KEY) in each request's `params._meta`.
//
//   ONBEHALF_SIGNING_KEY=keys/signing-key.jwk MCP_SERVER_TRUSTED_KEYS=keys/jwks.json \
//     MCP_SERVER_STORE=mcp-server.db ONBEHALF_STORE=agent.db \
//     node --import onbehalf/register examples/mcp/agent.mjs
// (run.mjs does all of it: keys, stores, and prints what the server recorded.)
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { SpanKind, trace } from '@opentelemetry/api';
import { withAttribution } from 'onbehalf';
import { injectMcpMeta } from 'onbehalf/mcp';

const repo = join(import.meta.dirname, '../..');
const serverEnv = {
  PATH: process.env.PATH ?? '',
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_LOGS_EXPORTER: 'none',
  ONBEHALF_STORE: process.env.MCP_SERVER_STORE ?? './mcp-server-audit.db',
  ONBEHALF_AGENT_ID: 'svc:mail-mcp',
  ONBEHALF_AGENT_NAME: 'mail-mcp',
};
if (process.env.MCP_SERVER_TRUSTED_KEYS)
  serverEnv.ONBEHALF_TRUSTED_KEYS = process.env.MCP_SERVER_TRUSTED_KEYS;

const transport = new StdioClientTransport({
  command: process.execPath,
  args: ['--import', 'onbehalf/register', join(import.meta.dirname, 'server.mjs')],
  cwd: repo,
  env: serverEnv,
});
const client = new Client({ name: 'inbox-agent', version: '1.0.0' });
await client.connect(transport);

const tracer = trace.getTracer('inbox-agent');
const attribution = {
  actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
  principal: { id: 'tom', type: 'human' },
  trigger: { type: 'email', id: 'msg-8821' },
};

/**
 * One MCP request in its own client span (the MCP conventions' `tools/call {name}`): the server takes
 * a token once per caller span, so two requests sent from the same span would look like a replay.
 */
function callTool(params) {
  return tracer.startActiveSpan(`tools/call ${params.name}`, { kind: SpanKind.CLIENT }, async (span) => {
    try {
      return await client.callTool(injectMcpMeta(params));
    } finally {
      span.end();
    }
  });
}

try {
  await withAttribution(attribution, () =>
    // The task's span: a signed attribution is bound to its trace.
    tracer.startActiveSpan('handle email msg-8821', async (span) => {
      try {
        const contact = await callTool({ name: 'lookup_contact', arguments: { name: 'Dana' } });
        const to = contact.content[0].text;
        const sent = await callTool({
          name: 'send_mail',
          arguments: { to, subject: 'Invoice 4471', body: 'Paid with card 4111 1111 1111 1111.' },
        });
        console.log(`mcp agent: ${sent.content[0].text}`);
      } finally {
        span.end();
      }
    }),
  );
} finally {
  await client.close();
}
