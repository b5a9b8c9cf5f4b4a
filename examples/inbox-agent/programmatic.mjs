// The same agent with onbehalf set up in code: startOnbehalf, and the task's attribution given with
// withAttribution instead of ONBEHALF_ON_BEHALF_OF / ONBEHALF_TRIGGER. The audit store ends up with
// the same rows as under `--import onbehalf/register`.
//
//   ONBEHALF_STORE=inbox.db node examples/inbox-agent/programmatic.mjs
import { startOnbehalf, withAttribution } from 'onbehalf';

const inboxAgent = { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' };
const onbehalf = startOnbehalf({
  serviceName: 'inbox-agent',
  defaultActor: inboxAgent,
  store: process.env.ONBEHALF_STORE ?? './onbehalf-audit.db',
});
try {
  const { runAgent } = await import('./agent.mjs');
  const sent = await withAttribution(
    {
      actor: inboxAgent,
      principal: { id: 'tom', type: 'human' },
      trigger: { type: 'email', id: 'msg-8821' },
    },
    () => runAgent(),
  );
  console.log(`inbox-agent (programmatic): send_mail ${sent.status} to ${sent.to}`);
} finally {
  await onbehalf.shutdown();
}
