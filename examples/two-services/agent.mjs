// The agent: inbox-agent reads Tom's mail and calls the tool service; for one task it delegates to a
// calendar sub-agent, which calls the tool service too. Its attribution travels in W3C baggage, signed
// with this agent's key (ONBEHALF_SIGNING_KEY), so the tool service can believe it.
//
//   ONBEHALF_SIGNING_KEY=keys/signing-key.jwk TOOL_URL=http://127.0.0.1:8080 node examples/two-services/agent.mjs
import { createRequire } from 'node:module';
import { startOnbehalf, withAttribution } from 'onbehalf';

const toolUrl = process.env.TOOL_URL;
if (!toolUrl) throw new Error('TOOL_URL is not set: the URL of the tool service');

const onbehalf = startOnbehalf({ serviceName: 'inbox-agent', traceExporter: false });
// After startOnbehalf, so the http instrumentation has patched it (see tool-service.mjs).
const http = createRequire(import.meta.url)('node:http');

function get(path) {
  return new Promise((resolve, reject) => {
    http
      .get(`${toolUrl}${path}`, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

const inboxAgent = { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' };
const results = await withAttribution(
  {
    actor: inboxAgent,
    principal: { id: 'tom', type: 'human' },
    trigger: { type: 'email', id: 'msg-8821' },
    intent: { name: 'answer_order_question' },
    scopes: ['orders:read', 'calendar:write'],
  },
  async () => {
    const direct = await get('/orders/A-1001');
    // A sub-agent working on the same task: the delegation chain grows to tom > inbox-agent > calendar-agent.
    const delegated = await withAttribution(
      {
        actor: { type: 'agent', id: 'nhi:agent-c21', name: 'calendar-agent', ownerId: 'tom' },
        scopes: ['calendar:write'],
      },
      () => get('/orders/A-1002'),
    );
    return { direct, delegated };
  },
);
console.log(JSON.stringify(results));
// Idle keep-alive sockets would hold the process open for their timeout.
http.globalAgent.destroy();
await onbehalf.shutdown();
