// Cost of a policy decision: PolicyEngine.decide (the real Cedar engine, the policy set pre-parsed
// once) with a 50-policy set, against the same call with a 1-policy set, in the same run.
//
//   npm run bench -- --only policy
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { do_not_optimize, measure } from 'mitata';
import { PolicyEngine } from '../dist/attribution/policy/index.js';
import { row, settings } from './lib.mjs';

/** 50 policies: 46 permits on their own tools with conditions on scopes, target and risk, 4 forbids. */
export function fiftyPolicies() {
  const policies = [];
  for (let i = 0; i < 46; i++) {
    policies.push(
      `@id("tool-${i}")\npermit (principal, action == Action::"tool_${i}", resource)\n` +
        `when { context.scopes.contains("scope.${i % 7}") && context.riskTier <= ${i % 4} && context.target like "*@acme.example" };`,
    );
  }
  policies.push(
    '@id("send-mail")\npermit (principal, action == Action::"send_mail", resource) when { context.scopes.contains("mail.send") };',
  );
  for (let i = 0; i < 3; i++) {
    policies.push(
      `@id("forbid-${i}")\nforbid (principal, action, resource) when { context.target like "*@blocked-${i}.example" };`,
    );
  }
  return policies.join('\n\n');
}

const ONE =
  '@id("send-mail")\npermit (principal, action == Action::"send_mail", resource) when { context.scopes.contains("mail.send") };';

const subject = {
  action: 'send_mail',
  target: 'dana@acme.example',
  riskTier: 2,
  principal: { id: 'tom', type: 'human', roles: ['employee'] },
  actor: { type: 'agent', id: 'nhi:agent-7f3', ownerId: 'tom' },
  delegationChain: ['tom', 'nhi:agent-7f3'],
  scopes: ['mail.read', 'mail.send'],
  provenance: 'local',
};

/** Rows: median µs per decision. */
export async function run({ mode = 'quick' } = {}) {
  const opts = settings(mode).mitata;
  const one = PolicyEngine.load({ text: ONE });
  const fifty = PolicyEngine.load({ text: fiftyPolicies() });
  if (fifty.policySet.ids.length !== 50)
    throw new Error('benchmark setup: the policy set has not 50 policies');
  if (fifty.decide(subject).decision !== 'allow')
    throw new Error('benchmark setup: the decision is not allow');
  // No permit matches and no forbid does: decided twice (the second time as if approved).
  const denied = { ...subject, action: 'wire_money' };
  if (fifty.decide(denied).decision !== 'deny') throw new Error('benchmark setup: the decision is not deny');
  // What pre-parsing saves: Cedar's one-shot isAuthorized parses the 50 policies on every call.
  const cedar = createRequire(import.meta.url)('@cedar-policy/cedar-wasm/nodejs');
  const { cedarRequest } = await import('../dist/attribution/policy/request.js');
  const request = cedarRequest(subject);
  const text = fiftyPolicies();
  const cases = [
    ['PolicyEngine.decide, 1-policy set (allow)', () => one.decide(subject)],
    ['PolicyEngine.decide, 50-policy set (allow)', () => fifty.decide(subject)],
    ['PolicyEngine.decide, 50-policy set (default deny, 2 evaluations)', () => fifty.decide(denied)],
    [
      'cedar isAuthorized, 50 policies parsed per call (no pre-parse)',
      () => cedar.isAuthorized({ ...request, policies: { staticPolicies: text } }),
    ],
  ];
  const us = [];
  for (const [, fn] of cases) us.push((await measure(() => do_not_optimize(fn()), { ...opts })).p50 / 1000);
  const at = (i, extra = {}) =>
    row({ section: 'policy', name: cases[i][0], value: us[i], unit: 'µs', better: 'lower', ...extra });
  const base = at(0);
  const fiftyRow = at(1, { baseline: base });
  return [base, fiftyRow, at(2, { baseline: base }), at(3, { baseline: fiftyRow })];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) console.log(`${r.name.padEnd(66)} ${r.value.toFixed(1).padStart(8)} µs`);
}
