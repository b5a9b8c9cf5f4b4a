import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attributionToClaims, ClaimsSchema } from '../../src/propagation/attribution-token.js';
import { fastClaims } from '../../src/propagation/token-claims-check.js';

/** The hand check may refuse more than the schema (the schema then decides), never accept more. */
function agrees(payload: unknown): void {
  const fast = fastClaims(payload as Record<string, unknown>);
  const parsed = ClaimsSchema.safeParse(payload);
  if (fast !== undefined) {
    expect(parsed.success, JSON.stringify(payload)).toBe(true);
    expect(fast).toStrictEqual(parsed.data);
  }
}

const valid = attributionToClaims(
  {
    actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
    principal: { id: 'tom', type: 'human', roles: ['customer'] },
    trigger: { type: 'email', id: 'msg-8821' },
    intent: { id: 'task-41', name: 'answer' },
    sessionId: 'sess-1',
    scopes: ['orders:read'],
    delegationChain: ['tom', 'nhi:planner', 'nhi:agent-7f3'],
  },
  '0af7651916cd43dd8448eb211c80319c',
  1_700_000_000,
);

describe('the hand check of token claims', () => {
  it('accepts what a signer makes, with the schema’s output', () => {
    const fast = fastClaims(valid as unknown as Record<string, unknown>);
    expect(fast).toBeDefined();
    expect(fast).toStrictEqual(ClaimsSchema.parse(valid));
  });

  it('drops unknown claims and keeps unknown members of act, as the schema does', () => {
    const payload = {
      ...valid,
      extra: 1,
      intent: { id: 'x', junk: true },
      act: { ...valid.act, cnf: { k: 1 } },
    };
    agrees(payload);
    expect(fastClaims(payload)).toBeDefined();
  });

  it('never accepts what the schema refuses (property: one claim replaced by an arbitrary value)', () => {
    const keys = [...Object.keys(valid), 'nbf', 'aud', 'principal_type', 'conversation_id'];
    const anyValue = fc.oneof(
      fc.jsonValue(),
      fc.constant(''),
      fc.constant('x'.repeat(257)),
      fc.constant(-1),
      fc.constant(Number.NaN),
      fc.constant([]),
      fc.array(fc.string({ minLength: 1, maxLength: 3 }), { maxLength: 40 }),
      fc.record({ sub: fc.string(), act: fc.jsonValue() }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        anyValue,
        fc.constantFrom('top', 'act', 'act.act'),
        (key, value, where) => {
          const payload = structuredClone(valid) as Record<string, unknown>;
          if (where === 'top') payload[key] = value;
          else if (where === 'act') (payload.act as Record<string, unknown>)[key] = value;
          else ((payload.act as Record<string, unknown>).act as Record<string, unknown>)[key] = value;
          agrees(payload);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('refuses a non-object payload', () => {
    expect(fastClaims(undefined)).toBeUndefined();
    agrees([]);
    agrees(null);
  });
});
