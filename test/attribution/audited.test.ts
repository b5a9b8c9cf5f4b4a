import { SpanStatusCode } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withAttribution } from '../../src/attribution/attribution.js';
import { ActionDeniedError, audited } from '../../src/attribution/audited.js';
import { inboxAgent } from '../fixtures/seed.js';
import { setupTracing, type Tracing } from '../fixtures/tracing.js';

let tracing: Tracing;
beforeEach(() => {
  tracing = setupTracing();
});
afterEach(async () => {
  await tracing.teardown();
});

describe('audited: allow', () => {
  it('records result=ok with the tool call, action, target, risk tier, policy and approval, under the attribution', async () => {
    const result = await withAttribution(inboxAgent, () =>
      audited(
        'send_mail',
        {
          target: 'dana@acme.example',
          riskTier: 2,
          policy: { decision: 'allow', rule: 'mail.send:internal' },
          approval: { state: 'approved', approverId: 'tom' },
        },
        async () => 'queued',
      ),
    );
    expect(result).toBe('queued');
    const span = tracing.span('execute_tool send_mail');
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'send_mail',
      'attribution.action': 'send_mail',
      'attribution.target': 'dana@acme.example',
      'attribution.risk_tier': 2,
      'attribution.policy.decision': 'allow',
      'attribution.policy.rule': 'mail.send:internal',
      'attribution.approval.state': 'approved',
      'attribution.approval.approver.id': 'tom',
      'attribution.result': 'ok',
      'attribution.actor.id': 'nhi:agent-7f3',
      'attribution.principal.id': 'tom',
      'attribution.trigger.id': 'msg-8821',
    });
    expect(span.attributes['gen_ai.tool.call.id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(span.attributes['error.type']).toBeUndefined();
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('defaults: risk tier 0, policy not_evaluated, approval not_required; a sync fn works', async () => {
    const result = await audited('read_inbox', {}, () => 3);
    expect(result).toBe(3);
    const a = tracing.span('execute_tool read_inbox').attributes;
    expect(a['attribution.risk_tier']).toBe(0);
    expect(a['attribution.policy.decision']).toBe('not_evaluated');
    expect(a['attribution.approval.state']).toBe('not_required');
    expect(a['attribution.result']).toBe('ok');
    expect(a['attribution.target']).toBeUndefined();
  });

  it('spans started inside fn are children of the execute_tool span and carry the attribution', async () => {
    await withAttribution(inboxAgent, () =>
      audited('send_mail', { policy: { decision: 'allow' } }, async () => {
        tracing.tracer.startSpan('smtp').end();
      }),
    );
    const tool = tracing.span('execute_tool send_mail');
    const smtp = tracing.span('smtp');
    expect(smtp.parentSpanContext?.spanId).toBe(tool.spanContext().spanId);
    expect(smtp.attributes['attribution.actor.id']).toBe('nhi:agent-7f3');
  });

  it('a replayed action starts at startTime and ends durationMs later; without durationMs it keeps its real duration', async () => {
    const startTime = Date.parse('2026-01-01T03:14:09Z');
    await audited('send_mail', { startTime, durationMs: 240 }, () => undefined);
    await audited('read_mail', { startTime }, () => new Promise((r) => setTimeout(r, 20)));
    const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
    const replayed = tracing.span('execute_tool send_mail');
    expect(ms(replayed.startTime)).toBe(startTime);
    expect(ms(replayed.endTime)).toBe(startTime + 240);
    const real = tracing.span('execute_tool read_mail');
    expect(ms(real.startTime)).toBe(startTime);
    expect(ms(real.endTime) - startTime).toBeGreaterThanOrEqual(15);
    expect(ms(real.endTime) - startTime).toBeLessThan(5000);
  });

  it('refuses a replay time no Date can hold, naming the field, before the action runs', async () => {
    let ran = 0;
    const fn = () => ++ran;
    await expect(audited('a', { startTime: Number.NaN }, fn)).rejects.toThrow(
      'audited: startTime is not a valid time (NaN)',
    );
    await expect(audited('a', { startTime: new Date('nope') }, fn)).rejects.toThrow(RangeError);
    await expect(audited('a', { startTime: 1e20 }, fn)).rejects.toThrow(/startTime is not a valid time/);
    await expect(audited('a', { startTime: 0, durationMs: -1 }, fn)).rejects.toThrow(
      'audited: durationMs must be a finite number of ms ≥ 0 (got -1)',
    );
    await expect(audited('a', { durationMs: 5 }, fn)).rejects.toThrow(
      'durationMs is only used with startTime',
    );
    expect(ran).toBe(0);
    expect(tracing.spans()).toHaveLength(0);
  });

  it('require_approval with an approved approval runs fn', async () => {
    let ran = false;
    await audited(
      'pay_invoice',
      {
        riskTier: 3,
        policy: { decision: 'require_approval' },
        approval: { state: 'approved', approverId: 'dana' },
      },
      () => {
        ran = true;
      },
    );
    expect(ran).toBe(true);
    expect(tracing.span('execute_tool pay_invoice').attributes['attribution.result']).toBe('ok');
  });
});

describe('audited: deny', () => {
  it('a deny decision records result=denied, throws ActionDeniedError and never calls fn', async () => {
    let called = false;
    const attempt = withAttribution(inboxAgent, () =>
      audited(
        'send_mail',
        { target: 'stranger@evil.example', riskTier: 2, policy: { decision: 'deny', rule: 'mail.external' } },
        () => {
          called = true;
        },
      ),
    );
    await expect(attempt).rejects.toBeInstanceOf(ActionDeniedError);
    await expect(attempt).rejects.toMatchObject({ action: 'send_mail' });
    await expect(attempt).rejects.toThrow(/mail\.external/);
    expect(called).toBe(false);
    const span = tracing.span('execute_tool send_mail');
    expect(span.attributes).toMatchObject({
      'attribution.result': 'denied',
      'attribution.policy.decision': 'deny',
      'attribution.policy.rule': 'mail.external',
      'attribution.target': 'stranger@evil.example',
      'attribution.actor.id': 'nhi:agent-7f3',
    });
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.ended).toBe(true);
  });

  for (const approval of [undefined, { state: 'pending' as const }, { state: 'rejected' as const }]) {
    it(`require_approval with approval ${approval?.state ?? 'missing'} is denied without calling fn`, async () => {
      let called = false;
      await expect(
        audited('wire_money', { riskTier: 3, policy: { decision: 'require_approval' }, approval }, () => {
          called = true;
        }),
      ).rejects.toBeInstanceOf(ActionDeniedError);
      expect(called).toBe(false);
      const a = tracing.span('execute_tool wire_money').attributes;
      expect(a['attribution.result']).toBe('denied');
      expect(a['attribution.approval.state']).toBe(approval?.state ?? 'not_required');
    });
  }

  it('a rejected or expired approval denies even under allow', async () => {
    for (const state of ['rejected', 'expired'] as const) {
      await expect(
        audited(`op_${state}`, { policy: { decision: 'allow' }, approval: { state } }, () => 1),
      ).rejects.toBeInstanceOf(ActionDeniedError);
      expect(tracing.span(`execute_tool op_${state}`).attributes['attribution.result']).toBe('denied');
    }
  });
});

describe('audited: error', () => {
  it('fn throws: result=error, error.type, the same error object rethrown', async () => {
    class SmtpError extends Error {
      override name = 'SmtpError';
    }
    const thrown = new SmtpError('relay refused');
    let caught: unknown;
    try {
      await audited('send_mail', { policy: { decision: 'allow' } }, async () => {
        throw thrown;
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBe(thrown);
    const span = tracing.span('execute_tool send_mail');
    expect(span.attributes['attribution.result']).toBe('error');
    expect(span.attributes['error.type']).toBe('SmtpError');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'relay refused' });
    expect(span.events.map((e) => e.name)).toContain('exception');
  });

  it('a synchronous throw and an error code are handled the same way', async () => {
    const err = Object.assign(new Error('no route'), { code: 'ECONNREFUSED' });
    await expect(
      audited('call_api', {}, () => {
        throw err;
      }),
    ).rejects.toBe(err);
    expect(tracing.span('execute_tool call_api').attributes['error.type']).toBe('ECONNREFUSED');
  });

  it('a thrown non-Error is rethrown unchanged and typed _OTHER', async () => {
    const thrown = { reason: 'weird' };
    await expect(
      audited('odd', {}, () => {
        throw thrown;
      }),
    ).rejects.toBe(thrown);
    expect(tracing.span('execute_tool odd').attributes['error.type']).toBe('_OTHER');
  });
});

describe('audited: arguments are redacted', () => {
  it('an email and a bearer token in the arguments never appear on the span', async () => {
    const token = 'Bearer abcdefghijklmnopqrstuvwxyz0123456789';
    await audited(
      'send_mail',
      {
        target: 'invoices',
        arguments: { to: 'stranger@evil.example', headers: { auth: token }, body: 'see attached invoice' },
      },
      () => undefined,
    );
    const span = tracing.span('execute_tool send_mail');
    const everything = JSON.stringify(span.attributes);
    expect(everything).not.toContain('stranger@evil.example');
    expect(everything).not.toContain('abcdefghijklmnopqrstuvwxyz0123456789');
    const args = JSON.parse(String(span.attributes['gen_ai.tool.call.arguments']));
    expect(args.body).toBe('see attached invoice');
    expect(args.to).toBe('[REDACTED:email]');
    expect(span.attributes['attribution.content.redactions']).toEqual(['email', 'secret']);
  });

  it('clean arguments are kept whole and record no redactions', async () => {
    await audited('lookup', { arguments: { id: 42, q: 'status' } }, () => undefined);
    const a = tracing.span('execute_tool lookup').attributes;
    expect(JSON.parse(String(a['gen_ai.tool.call.arguments']))).toEqual({ id: 42, q: 'status' });
    expect(a['attribution.content.redactions']).toBeUndefined();
  });

  it('arguments that cannot be serialized do not stop the action', async () => {
    const hostile = {
      get boom(): string {
        throw new Error('getter exploded');
      },
    };
    await expect(audited('odd_args', { arguments: hostile }, () => 'done')).resolves.toBe('done');
    expect(tracing.span('execute_tool odd_args').attributes['gen_ai.tool.call.arguments']).toBe(
      '"[unserializable]"',
    );
  });
});
