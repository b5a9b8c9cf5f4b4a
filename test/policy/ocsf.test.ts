// The OCSF mapping tells an action a policy allowed on its own from one a human approved.
import { describe, expect, it } from 'vitest';
import { toOcsfApiActivity } from '../../src/otlp/ocsf.js';
import { auditEvent, type StoredAuditEvent } from '../../src/pipeline/event.js';

function row(fields: Partial<StoredAuditEvent>): StoredAuditEvent {
  return {
    ...auditEvent({
      event_id: 'evt-1',
      record_type: 'action',
      timestamp: '2026-01-01T03:14:09.000Z',
      action: 'pay_invoice',
      ...fields,
    }),
    origin: 'o',
    seq: 1,
    prev_hash: '0'.repeat(64),
    hash: '1'.repeat(64),
  };
}
type Authorization = { decision: string; policy?: { name: string } };
const decisionOf = (r: StoredAuditEvent): Authorization =>
  (toOcsfApiActivity(r) as unknown as { actor: { authorizations: [Authorization] } }).actor.authorizations[0];

describe('OCSF authorizations', () => {
  it('allowed by policy alone, human-approved, waiting, refused, denied', () => {
    expect(
      decisionOf(
        row({
          result: 'ok',
          policy_decision: 'allow',
          policy_rule: 'mail-read-own',
          approval_state: 'not_required',
        }),
      ),
    ).toEqual({
      decision: 'allow',
      policy: { name: 'mail-read-own' },
    });
    expect(
      decisionOf(
        row({
          result: 'ok',
          policy_decision: 'require_approval',
          policy_rule: 'payments-need-tom',
          approval_state: 'approved',
          approved_by: 'tom',
        }),
      ),
    ).toEqual({ decision: 'human_approved', policy: { name: 'payments-need-tom' } });
    expect(
      decisionOf(
        row({
          record_type: 'approval_request',
          policy_decision: 'require_approval',
          approval_state: 'pending',
        }),
      ).decision,
    ).toBe('approval_pending');
    expect(
      decisionOf(row({ result: 'denied', policy_decision: 'require_approval', approval_state: 'expired' }))
        .decision,
    ).toBe('approval_expired');
    expect(
      decisionOf(
        row({
          result: 'denied',
          policy_decision: 'deny',
          approval_state: 'approved',
          approved_by: 'mallory',
        }),
      ).decision,
    ).toBe('deny');
  });

  it('unmapped.delegation.approval says whether a human approved, and who', () => {
    const body = toOcsfApiActivity(
      row({
        result: 'ok',
        policy_decision: 'require_approval',
        approval_state: 'approved',
        approved_by: 'tom',
      }),
    ) as { unmapped: { delegation: { approval: unknown } } };
    expect(body.unmapped.delegation.approval).toEqual({
      state: 'approved',
      approver: 'tom',
      human_approved: true,
    });
  });
});
