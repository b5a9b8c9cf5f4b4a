// The smallest attributed agent: one tool call, on Tom's behalf, set off by an email.
// Run: npm run build && ONBEHALF_STORE=./quickstart.db node examples/quickstart/agent.mjs
import { audited, startOnbehalf, withAttribution } from 'onbehalf';

const onbehalf = startOnbehalf({ serviceName: 'inbox-agent' });

const sendMail = async ({ to, subject }) => ({ id: 'mail-1', to, subject }); // your real tool here

await withAttribution(
  {
    actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
    principal: { id: 'tom', type: 'human' },
    trigger: { type: 'email', id: 'msg-8821' },
    scopes: ['mail.send'],
  },
  () =>
    audited(
      'send_mail',
      {
        target: 'dana@acme.example',
        riskTier: 2,
        arguments: { to: 'dana@acme.example', subject: 'Q1 plan' },
        policy: { decision: 'allow', rule: 'mail.send: internal recipients' },
      },
      () => sendMail({ to: 'dana@acme.example', subject: 'Q1 plan' }),
    ),
);

await onbehalf.shutdown(); // flushes telemetry, signs a last checkpoint, closes the store
console.log('recorded send_mail in', onbehalf.store?.location);
