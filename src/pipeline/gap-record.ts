import { type AuditEvent, auditEvent } from './event.js';
import { newEventId } from './event-id.js';

/** Events a writer lost (queue full, store unwritable, not mapped), waiting to be written as one gap record. */
export interface Gap {
  count: number;
  reasons: Set<string>;
  from: string;
  to: string;
}

/** The `gap` record of `gap`: how many events were lost, why, and between which times. */
export function gapRecord(gap: Gap): AuditEvent {
  return auditEvent({
    event_id: newEventId(),
    record_type: 'gap',
    timestamp: new Date().toISOString(),
    action: 'gap',
    result: 'gap',
    attributes: JSON.stringify({
      lost: gap.count,
      reasons: [...gap.reasons].sort(),
      from: gap.from,
      to: gap.to,
    }),
  });
}
