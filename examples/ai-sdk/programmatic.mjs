// The same agent with onbehalf set up in code instead of `--import onbehalf/register`: the audit
// store ends up with the same rows.
//
//   ONBEHALF_STORE=ai-sdk.db node examples/ai-sdk/programmatic.mjs
import { startOnbehalf } from 'onbehalf';

const onbehalf = startOnbehalf({
  serviceName: 'inbox-agent',
  defaultActor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
  store: process.env.ONBEHALF_STORE ?? './onbehalf-audit.db',
});
try {
  // Imported after start, as an app that sets up telemetry first would.
  const { runAgent } = await import('./agent.mjs');
  const result = await runAgent();
  console.log(`ai-sdk agent (programmatic): ${result.text}`);
} finally {
  await onbehalf.shutdown();
}
