// audited() deciding with the real Cedar engine, through the real pipeline into a SQLite store: each
// row names its determining policies, engine and policy version; approvals are records of their own.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../src/attribution/approvals/approver.js';
import { directoryApprover } from '../../src/attribution/approvals/directory-approver.js';
import { withAttribution } from '../../src/attribution/attribution.js';
import { ActionDeniedError, audited } from '../../src/attribution/audited.js';
import { type PolicyOptions, usePolicy } from '../../src/attribution/policy/active.js';
import type { StoredAuditEvent } from '../../src/pipeline/event.js';
import { inboxAgent } from '../fixtures/seed.js';
import { type AuditPipeline, setupAuditPipeline } from '../helpers/audit.js';
import { ensureBuilt, repo } from '../integrations/support.js';

const POLICY = `
@id("mail-send-internal")
permit (principal, action == Action::"send_mail", resource) when { context.target like "*@acme.example" };

@id("mail-delete")
permit (principal, action == Action::"delete_mail", resource);

@id("never-delete-sent")
@reason("sent mail is evidence")
forbid (principal, action == Action::"delete_mail", resource) when { context.target like "sent/*" };

@id("payments-need-tom")
permit (principal == User::"tom", action == Action::"pay_invoice", resource)
when { context.approval.state == "approved" && context.approval.approver == "tom" };
`;

const agent = { ...inboxAgent, scopes: ['mail.send', 'payments'] };

let pl: AuditPipeline;
afterEach(async () => {
  usePolicy(false);
  await pl?.teardown();
});

function start(options: Omit<PolicyOptions, 'text'> = {}) {
  pl = setupAuditPipeline();
  return usePolicy({ text: POLICY, ...options });
}

const attrs = (row: StoredAuditEvent) => JSON.parse(row.attributes ?? '{}') as Record<string, unknown>;
const actionRow = (action: string) => {
  const rows = pl.rows(`record_type = 'action' AND action = '${action}'`);
  expect(rows).toHaveLength(1);
  return rows[0] as StoredAuditEvent;
};
const run = (action: string, target: string, riskTier: 0 | 1 | 2 | 3 = 1) =>
  withAttribution(agent, () => audited(action, { target, riskTier }, () => 'done'));

describe('audited() with a Cedar policy', () => {
  it('allow: the row names the permit, the engine, the policy version, enforce mode', async () => {
    const policy = start();
    await expect(run('send_mail', 'dana@acme.example')).resolves.toBe('done');
    const row = actionRow('send_mail');
    expect(row).toMatchObject({
      result: 'ok',
      policy_decision: 'allow',
      policy_rule: 'mail-send-internal',
      on_behalf_of: 'tom',
      actor_id: 'nhi:agent-7f3',
    });
    expect(attrs(row)).toMatchObject({
      'attribution.policy.ids': ['mail-send-internal'],
      'attribution.policy.engine': expect.stringMatching(/^cedar 4\./),
      'attribution.policy.version': policy?.engine.version,
      'attribution.policy.mode': 'enforce',
    });
  });

  it('deny: the forbid wins over the permit; the action does not run and the row names the forbid', async () => {
    start();
    let ran = false;
    const denied = withAttribution(agent, () =>
      audited('delete_mail', { target: 'sent/fwd-1', riskTier: 3 }, () => {
        ran = true;
      }),
    );
    await expect(denied).rejects.toThrow(ActionDeniedError);
    await expect(denied).rejects.toThrow(/never-delete-sent/);
    expect(ran).toBe(false);
    expect(actionRow('delete_mail')).toMatchObject({
      result: 'denied',
      policy_decision: 'deny',
      policy_rule: 'never-delete-sent',
    });
    // Denied before it began: no `started` row for a tier-3 action that never ran.
    expect(pl.rows("record_type = 'started'")).toEqual([]);
  });

  it('no matching permit: a default deny, with no determining policy', async () => {
    start();
    await expect(run('send_mail', 'stranger@evil.example')).rejects.toThrow(ActionDeniedError);
    const row = actionRow('send_mail');
    expect(row).toMatchObject({ result: 'denied', policy_decision: 'deny', policy_rule: null });
    expect(attrs(row)['attribution.policy.ids']).toEqual([]);
  });

  it('a caller-typed decision does not override the engine', async () => {
    start();
    const typed = withAttribution(agent, () =>
      audited(
        'send_mail',
        { target: 'stranger@evil.example', policy: { decision: 'allow', rule: 'mine' } },
        () => 1,
      ),
    );
    await expect(typed).rejects.toThrow(ActionDeniedError);
    expect(actionRow('send_mail')).toMatchObject({ policy_decision: 'deny', policy_rule: null });
  });
});

describe('require_approval: approvals as records in the chain', () => {
  function approvalRows() {
    return pl.rows("record_type IN ('approval_request', 'approval_resolution')");
  }

  it('approved: request, resolution by tom, then the action, linked by one approval id', async () => {
    const asked: ApprovalRequest[] = [];
    start({
      approver: (request) => {
        asked.push(request);
        return { approved: true, approverId: 'tom' };
      },
    });
    await expect(run('pay_invoice', 'invoice-4471', 3)).resolves.toBe('done');

    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({
      action: 'pay_invoice',
      target: 'invoice-4471',
      onBehalfOf: 'tom',
      actorId: 'nhi:agent-7f3',
      policies: ['payments-need-tom'],
    });
    const [request, resolution] = approvalRows();
    const action = actionRow('pay_invoice');
    expect(request).toMatchObject({
      record_type: 'approval_request',
      action: 'pay_invoice',
      target: 'invoice-4471',
      on_behalf_of: 'tom',
      policy_decision: 'require_approval',
      policy_rule: 'payments-need-tom',
      approval_state: 'pending',
      result: null,
    });
    expect(resolution).toMatchObject({
      record_type: 'approval_resolution',
      approval_state: 'approved',
      approved_by: 'tom',
      result: null,
    });
    expect(action).toMatchObject({
      result: 'ok',
      policy_decision: 'require_approval',
      policy_rule: 'payments-need-tom',
      approval_state: 'approved',
      approved_by: 'tom',
    });
    const id = attrs(action)['attribution.approval.id'];
    expect(id).toBe(asked[0]?.id);
    expect(id).toMatch(/^apr-[0-9a-f-]{36}$/);
    for (const row of [request, resolution])
      expect(attrs(row as StoredAuditEvent)['attribution.approval.id']).toBe(id);
    expect(attrs(request as StoredAuditEvent)['attribution.approval.expires_at']).toBe(asked[0]?.expiresAt);
    expect(attrs(resolution as StoredAuditEvent)['attribution.approval.resolved_at']).toBe(
      resolution?.timestamp,
    );
    // The chain order: request, resolution, then the action's started and completed rows.
    expect(pl.rows().map((r) => r.record_type)).toEqual([
      'approval_request',
      'approval_resolution',
      'started',
      'action',
    ]);
  });

  it('rejected: the action is denied and does not run; the resolution names who rejected', async () => {
    start({ approver: () => ({ approved: false, approverId: 'tom' }) });
    await expect(run('pay_invoice', 'invoice-4471', 3)).rejects.toThrow(/approval is rejected/);
    expect(approvalRows()[1]).toMatchObject({ approval_state: 'rejected', approved_by: 'tom' });
    expect(actionRow('pay_invoice')).toMatchObject({
      result: 'denied',
      policy_decision: 'require_approval',
      approval_state: 'rejected',
      approved_by: 'tom',
    });
  });

  it('expired: an approver that never answers expires the request and the action is denied', async () => {
    let signalled = false;
    start({
      approvalTimeoutMs: 50,
      approver: (request) =>
        new Promise(() => {
          request.signal.addEventListener('abort', () => {
            signalled = true;
          });
        }),
    });
    await expect(run('pay_invoice', 'invoice-4471', 3)).rejects.toThrow(/approval is expired/);
    expect(signalled).toBe(true);
    const [request, resolution] = approvalRows();
    expect(resolution).toMatchObject({ approval_state: 'expired', approved_by: null });
    expect(attrs(request as StoredAuditEvent)['attribution.approval.expires_at']).toBeDefined();
    expect(actionRow('pay_invoice')).toMatchObject({ result: 'denied', approval_state: 'expired' });
  });

  it('approved by someone the policy does not accept: denied after the approval', async () => {
    start({ approver: () => ({ approved: true, approverId: 'mallory' }) });
    await expect(run('pay_invoice', 'invoice-4471', 3)).rejects.toThrow(/policy denied/);
    expect(actionRow('pay_invoice')).toMatchObject({
      result: 'denied',
      policy_decision: 'deny',
      approval_state: 'approved',
      approved_by: 'mallory',
    });
  });

  it('an approver that throws counts as a rejection, recorded with its error type', async () => {
    start({
      approver: () => {
        throw new TypeError('chat service down');
      },
    });
    await expect(run('pay_invoice', 'invoice-4471', 3)).rejects.toThrow(ActionDeniedError);
    const resolution = approvalRows()[1] as StoredAuditEvent;
    expect(resolution).toMatchObject({ approval_state: 'rejected', approved_by: null });
    expect(attrs(resolution)['error.type']).toBe('TypeError');
  });

  it('no approver configured: denied at once, approval still pending, no approval records', async () => {
    start();
    await expect(run('pay_invoice', 'invoice-4471', 3)).rejects.toThrow(/approval is pending/);
    expect(approvalRows()).toEqual([]);
    const row = actionRow('pay_invoice');
    expect(row).toMatchObject({ result: 'denied', approval_state: 'pending' });
    expect(attrs(row)['error.type']).toBe('no_approver');
  });
});

describe('onbehalf approve answers a directory approver', () => {
  beforeAll(ensureBuilt, 120_000);
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, [join(repo, 'dist/cli/main.js'), 'approve', ...args], {
      cwd: repo,
    });

  it('lists the waiting request, approves it as tom, and the action runs', async () => {
    start();
    const dir = join(pl.dir, 'approvals');
    usePolicy({ text: POLICY, approver: directoryApprover({ dir, pollMs: 20 }) });
    const paid = run('pay_invoice', 'invoice-4471', 3);
    let id: string | undefined;
    for (let i = 0; i < 200 && !id; i++) {
      await new Promise((r) => setTimeout(r, 20));
      id = readdirSync(dir, { withFileTypes: false })
        .find((n) => String(n).endsWith('.request.json'))
        ?.toString()
        .split('.')[0];
    }
    expect(id).toBeDefined();
    const listed = await cli('--dir', dir);
    expect(listed.stdout).toContain(`${id}  pay_invoice invoice-4471  for tom by nhi:agent-7f3`);
    expect(listed.stdout).toContain('policy payments-need-tom');
    const answered = await cli(id as string, '--as', 'tom', '--dir', dir);
    expect(answered.stdout).toBe(`approved ${id} as tom\n`);
    await expect(paid).resolves.toBe('done');
    expect(actionRow('pay_invoice')).toMatchObject({
      result: 'ok',
      approval_state: 'approved',
      approved_by: 'tom',
    });
    // Answered once only; a second answer is refused.
    await expect(cli(id as string, '--as', 'tom', '--dir', dir)).rejects.toMatchObject({ code: 2 });
    expect((await cli('--dir', dir)).stdout).toBe(`no approval requests waiting in ${dir}\n`);
  });
});
