// The real Cedar engine (@cedar-policy/cedar-wasm) behind PolicyEngine: default deny, forbid wins,
// require_approval, determining policy ids, the policy version, and start-up errors with file:line.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PolicyEngine } from '../../src/attribution/policy/engine.js';
import { PolicyLoadError } from '../../src/attribution/policy/policy-set.js';
import type { PolicySubject } from '../../src/attribution/policy/request.js';
import { tempDir } from '../helpers/audit.js';

const dir = tempDir('onbehalf-policy-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXAMPLE = join(import.meta.dirname, '../../examples/inbox-agent/policy.cedar');
const EXAMPLE_SCHEMA = join(import.meta.dirname, '../../examples/inbox-agent/policy.cedarschema');

const agentForTom: Omit<PolicySubject, 'action'> = {
  principal: { id: 'tom', type: 'human' },
  actor: { type: 'agent', id: 'nhi:agent-7f3', ownerId: 'tom' },
  delegationChain: ['tom', 'nhi:agent-7f3'],
  scopes: ['mail.read', 'mail.send', 'mail.delete'],
  provenance: 'local',
};

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('PolicyEngine decisions', () => {
  const engine = PolicyEngine.load({ file: EXAMPLE, schemaFile: EXAMPLE_SCHEMA });

  it('allow names the permit that allowed, with its @reason', () => {
    const d = engine.decide({
      ...agentForTom,
      action: 'send_mail',
      target: 'stranger@evil.example',
      riskTier: 2,
    });
    expect(d).toMatchObject({
      decision: 'allow',
      policies: ['mail-send-any-recipient'],
      errors: [],
      reason: 'the agent may send mail when it holds mail.send',
    });
    expect(d.engine).toMatch(/^cedar 4\.\d+\.\d+$/);
  });

  it('deny: a forbid wins over a matching permit, and is the determining policy', () => {
    const d = engine.decide({ ...agentForTom, action: 'delete_mail', target: 'sent/fwd-1', riskTier: 3 });
    expect(d).toMatchObject({ decision: 'deny', policies: ['never-delete-sent-mail'] });
    // Without the forbid's condition, the permit allows the same action.
    expect(engine.decide({ ...agentForTom, action: 'delete_mail', target: 'inbox/spam-1' })).toMatchObject({
      decision: 'allow',
      policies: ['mail-delete-with-scope'],
    });
  });

  it('no matching permit is a default deny, naming no policy', () => {
    const noScope = { ...agentForTom, scopes: ['mail.read'] };
    expect(engine.decide({ ...noScope, action: 'send_mail', target: 'dana@acme.example' })).toMatchObject({
      decision: 'deny',
      policies: [],
      errors: [],
    });
  });

  it('require_approval when only an approval by the accountable human would let a permit match', () => {
    const pay = { ...agentForTom, action: 'pay_invoice', target: 'invoice-4471', riskTier: 3 };
    expect(engine.decide(pay)).toMatchObject({
      decision: 'require_approval',
      policies: ['payments-need-tom'],
    });
    expect(engine.decide({ ...pay, approval: { state: 'approved', approverId: 'tom' } })).toMatchObject({
      decision: 'allow',
      policies: ['payments-need-tom'],
    });
    // Approved by someone the policy does not accept: denied, not asked again.
    expect(engine.decide({ ...pay, approval: { state: 'approved', approverId: 'mallory' } })).toMatchObject({
      decision: 'deny',
      policies: [],
    });
  });

  it('a request the schema rejects is denied with the schema error', () => {
    const d = engine.decide({ ...agentForTom, action: 'wire_money', target: 'acct-1' });
    expect(d.decision).toBe('deny');
    expect(d.policies).toEqual([]);
    expect(d.errors.join('\n')).toMatch(/wire_money.*does not exist in the supplied schema/);
  });

  it('the version is the SHA-256 of the policy file, as sha256sum prints it', () => {
    const hex = createHash('sha256').update(readFileSync(EXAMPLE)).digest('hex');
    expect(engine.version).toBe(`sha256:${hex}`);
    expect(engine.decide({ ...agentForTom, action: 'read_mail' }).version).toBe(`sha256:${hex}`);
  });

  it('policies without @id get Cedar’s own ids, policy<N> by position', () => {
    const e = PolicyEngine.load({
      text: 'permit(principal, action == Action::"a", resource);\n@id("b-rule")\npermit(principal, action == Action::"b", resource);\nforbid(principal, action == Action::"b", resource) when { context.riskTier > 2 };\n',
    });
    expect(e.decide({ action: 'a' }).policies).toEqual(['policy0']);
    expect(e.decide({ action: 'b' }).policies).toEqual(['b-rule']);
    expect(e.decide({ action: 'b', riskTier: 3 }).policies).toEqual(['policy2']);
  });

  it('a policy that errors on evaluation is skipped, and the error is recorded', () => {
    const e = PolicyEngine.load({
      text: '@id("needs-amount")\npermit(principal, action, resource) when { context.amount < 100 };\n@id("reads")\npermit(principal, action == Action::"read", resource);\n',
    });
    const d = e.decide({ action: 'read' });
    expect(d).toMatchObject({ decision: 'allow', policies: ['reads'] });
    expect(d.errors).toEqual([expect.stringMatching(/^needs-amount: .*amount/)]);
  });

  it('principal is the accountable human; roles are parents the policy can test with `in`', () => {
    const e = PolicyEngine.load({
      text: '@id("finance-pays")\npermit(principal in Role::"finance", action == Action::"pay", resource);\n@id("owner-of-agent")\npermit(principal == User::"tom", action == Action::"read", resource) when { context.agent == "nhi:agent-7f3" };\n',
    });
    expect(e.decide({ action: 'pay', principal: { id: 'ana', roles: ['finance'] } }).decision).toBe('allow');
    expect(e.decide({ action: 'pay', principal: { id: 'bob', roles: ['sales'] } }).decision).toBe('deny');
    // No principal: the agent's owner is the accountable human.
    expect(
      e.decide({ action: 'read', actor: { type: 'agent', id: 'nhi:agent-7f3', ownerId: 'tom' } }),
    ).toMatchObject({
      decision: 'allow',
      policies: ['owner-of-agent'],
    });
  });
});

describe('PolicyEngine start-up errors', () => {
  it('a policy file that fails to parse names the file, line and column', () => {
    const file = write(
      'broken.cedar',
      'permit(principal, action, resource);\n\npermit(principal, action,\n  resource) when { context.x ==  };\n',
    );
    expect(() => PolicyEngine.load({ file })).toThrow(PolicyLoadError);
    expect(() => PolicyEngine.load({ file })).toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: `),
    );
  });

  it('a policy the schema rejects names the file, line and policy', () => {
    const file = write(
      'bad-attr.cedar',
      'permit(principal, action == Action::"read_mail", resource);\n\n@id("typo")\npermit(principal, action == Action::"send_mail", resource)\nwhen { context.scopez.contains("mail.send") };\n',
    );
    let message = '';
    try {
      PolicyEngine.load({ file, schemaFile: EXAMPLE_SCHEMA });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/bad-attr\.cedar:5:\d+: policy typo does not match the schema/);
    expect(message).toContain('scopez');
  });

  it('a duplicate @id, a missing file and a broken schema are refused', () => {
    const dup = write(
      'dup.cedar',
      '@id("x")\npermit(principal, action, resource);\n@id("x")\nforbid(principal, action, resource);\n',
    );
    expect(() => PolicyEngine.load({ file: dup })).toThrow(/dup\.cedar:3:1: duplicate policy id "x"/);
    expect(() => PolicyEngine.load({ file: join(dir, 'missing.cedar') })).toThrow(
      /cannot read policy file .*missing\.cedar/,
    );
    const schema = write(
      'bad.cedarschema',
      'entity User;\naction read appliesTo { principal: [User], resource: [Nope }\n',
    );
    expect(() =>
      PolicyEngine.load({ text: 'permit(principal, action, resource);', schemaFile: schema }),
    ).toThrow(/bad\.cedarschema:2:\d+: /);
  });
});
