import { describe, expect, it } from 'vitest';
import type { StoredAuditEvent } from '../../src/pipeline/event.js';
import {
  delegationChain,
  delegationForest,
  delegationGraphSvg,
  describe as describeGraph,
} from '../../src/report/delegation-graph.js';

/** A stored row with only what the graph reads set; the rest null. */
function row(over: Partial<StoredAuditEvent>): StoredAuditEvent {
  return {
    event_id: 'evt',
    record_type: 'action',
    timestamp: '2026-01-01T03:14:09.001Z',
    actor_type: null,
    actor_id: null,
    actor_name: null,
    owner_id: null,
    on_behalf_of: null,
    trigger_type: null,
    trigger_id: null,
    intent: null,
    session_id: null,
    delegation_chain: null,
    scopes: null,
    action: 'send_mail',
    target: null,
    risk_tier: null,
    result: 'ok',
    policy_decision: null,
    policy_rule: null,
    approval_state: null,
    approved_by: null,
    provenance: null,
    tool_arguments: null,
    redactions: null,
    trace_id: null,
    span_id: null,
    parent_span_id: null,
    service_name: null,
    duration_ms: null,
    attributes: null,
    origin: 'o',
    seq: 1,
    prev_hash: '',
    hash: '',
    ...over,
  };
}

const agentRow = row({
  actor_type: 'agent',
  actor_id: 'nhi:agent-7f3',
  actor_name: 'inbox-agent',
  on_behalf_of: 'tom',
  delegation_chain: '["tom","nhi:agent-7f3"]',
  attributes: '{"attribution.principal.type":"human"}',
});
const subAgentRow = row({
  actor_type: 'agent',
  actor_id: 'nhi:sub-1',
  on_behalf_of: 'tom',
  delegation_chain: '["tom","nhi:agent-7f3","nhi:sub-1"]',
});

describe('delegationForest', () => {
  it('merges chains that share a prefix and counts actions where each chain ends', () => {
    const forest = delegationForest([
      agentRow,
      agentRow,
      subAgentRow,
      row({ ...agentRow, record_type: 'started' }),
    ]);
    expect(forest).toHaveLength(1);
    const tom = forest[0]!;
    expect(tom).toMatchObject({ id: 'tom', kind: 'human', actions: 0 });
    expect(tom.children).toHaveLength(1);
    const agent = tom.children[0]!;
    expect(agent).toMatchObject({ id: 'nhi:agent-7f3', name: 'inbox-agent', kind: 'agent', actions: 2 });
    expect(agent.children.map((c) => [c.id, c.actions])).toEqual([['nhi:sub-1', 1]]);
  });

  it('falls back to principal and actor when the chain column is missing or not a JSON array of strings', () => {
    expect(
      delegationChain(row({ on_behalf_of: 'tom', actor_id: 'a', delegation_chain: 'not json' })),
    ).toEqual(['tom', 'a']);
    expect(delegationChain(row({ on_behalf_of: 'tom', actor_id: 'a', delegation_chain: '[1,2]' }))).toEqual([
      'tom',
      'a',
    ]);
    expect(delegationChain(row({ on_behalf_of: 'tom', actor_id: 'tom' }))).toEqual(['tom']);
    expect(delegationChain(row({}))).toEqual([]);
  });

  it('keeps a huge hostile chain bounded', () => {
    const long = JSON.stringify(Array.from({ length: 500 }, (_, i) => `id-${i}`));
    const wide = Array.from({ length: 200 }, (_, i) =>
      row({ delegation_chain: JSON.stringify(['root', `leaf-${i}`]) }),
    );
    const deep = delegationForest([row({ delegation_chain: long })]);
    let depth = 0;
    for (let n = deep[0]; n; n = n.children[0]) depth++;
    expect(depth).toBe(6);
    const svg = delegationGraphSvg(delegationForest(wide));
    expect(svg.match(/<g class="node /g)).toHaveLength(40);
    expect(svg).toContain('(161 more identities not drawn)');
  });
});

describe('delegationGraphSvg', () => {
  it('draws one box per identity with its kind in words and one arrow per delegation', () => {
    const svg = delegationGraphSvg(delegationForest([agentRow, subAgentRow]));
    expect(svg.match(/<g class="node node-(\w+)"/g)).toEqual([
      '<g class="node node-human"',
      '<g class="node node-agent"',
      '<g class="node node-agent"',
    ]);
    expect(svg.match(/<path class="edge"/g)).toHaveLength(2);
    expect(svg).toContain('human · principal');
    expect(svg).toContain('agent · 1 action<');
    expect(svg).toMatch(/^<svg [^>]*role="img" aria-labelledby="dg-title dg-desc"/);
  });

  it('escapes identities and says the graph in words', () => {
    const hostile = row({ delegation_chain: '["<b>boss</b>","x&y"]' });
    const forest = delegationForest([hostile]);
    const svg = delegationGraphSvg(forest);
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;b&gt;boss&lt;/b&gt;');
    expect(svg).toContain('x&amp;y');
    expect(describeGraph(forest)).toBe(
      '<b>boss</b>, unknown: 0 actions directly. <b>boss</b> delegates to x&y, unknown: 1 action.',
    );
  });
});
