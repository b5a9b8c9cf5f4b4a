import type { Attribution } from '../attribution/attribution.js';
import type { AuditDetails } from '../attribution/audited.js';
import { startOfLastWeekday, startOfUtcDay } from '../time/relative-time.js';

/**
 * The second half of the demo story, dated relative to when the demo runs so that "last Tuesday" and
 * "this week" always have an answer: Acme's occupational-health clinic runs `care-assistant`, an agent
 * its clinical lead Dr. Okafor is accountable for, which reads patient records for the nurses.
 */
export const CARE_ASSISTANT = {
  type: 'agent',
  id: 'nhi:agent-c41',
  name: 'care-assistant',
  ownerId: 'dr.okafor',
} as const;

/** One replayed action: who, what, and when (ms since the epoch). */
export interface DatedStep {
  who: Attribution;
  action: string;
  details: AuditDetails;
  startTime: number;
}

const nurse = (id: string) => ({ id, type: 'human' as const, roles: ['employee', 'nurse'] });

const assistantFor = (nurseId: string, chat: string, intent: string): Attribution => ({
  actor: CARE_ASSISTANT,
  principal: nurse(nurseId),
  trigger: { type: 'chat', id: chat },
  intent: { name: intent },
  scopes: ['records.read', 'records.export'],
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The clinic's actions, dated from `now`:
 * - last Tuesday (the most recent Tuesday before today, as `--day last-tuesday` reads it), the
 *   assistant reads patient P-4471's chart for nurse Priya and, with Dr. Okafor's approval, sends it to
 *   cardiology; Priya herself opens P-2290's chart, with no agent;
 * - today, the assistant reads P-1038's chart and labs for nurse Marco. Today's actions start at most
 *   ten minutes before `now` but never before midnight UTC, so they fall in this week, whatever the day.
 */
export function careAssistantSteps(now: number): DatedStep[] {
  const tuesday = startOfLastWeekday(2, now);
  const today = Math.max(startOfUtcDay(now), now - 10 * MINUTE);
  const read = (patient: string, part: string) => ({
    target: `patient/${patient}/${part}`,
    riskTier: 1 as const,
  });
  return [
    {
      who: assistantFor('priya', 'chat-7731', 'prepare_visit'),
      action: 'read_record',
      startTime: tuesday + 10 * HOUR + 2 * MINUTE,
      details: {
        ...read('P-4471', 'chart'),
        // The patient's e-mail address is redacted before it is stored.
        arguments: { patient: 'P-4471', contact: 'ana.silva@example.org' },
      },
    },
    {
      who: { actor: { type: 'human', id: 'priya', name: 'Priya' }, principal: nurse('priya') },
      action: 'read_record',
      startTime: tuesday + 10 * HOUR + 20 * MINUTE,
      details: { target: 'patient/P-2290/chart', riskTier: 1 },
    },
    {
      who: assistantFor('priya', 'chat-7731', 'refer_patient'),
      action: 'export_record',
      startTime: tuesday + 11 * HOUR,
      details: {
        target: 'referrals/cardiology/P-4471',
        // The demo's policy makes it wait for Dr. Okafor: approval_request, approval_resolution, then the action.
        riskTier: 2,
      },
    },
    {
      who: assistantFor('marco', 'chat-7790', 'prepare_visit'),
      action: 'read_record',
      startTime: today,
      details: read('P-1038', 'chart'),
    },
    {
      who: assistantFor('marco', 'chat-7790', 'prepare_visit'),
      action: 'read_record',
      startTime: today + 5_000,
      details: read('P-1038', 'labs'),
    },
  ];
}
