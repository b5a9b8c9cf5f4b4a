import { context } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Attribution,
  AttributionError,
  getAttribution,
  MAX_ATTRIBUTION_LIST,
  parseAttribution,
  withAttribution,
} from '../../src/attribution/attribution.js';
import { setupTracing, type Tracing } from '../fixtures/tracing.js';

const inboxAgent: Attribution = {
  actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
  principal: { id: 'tom', type: 'human', roles: ['employee'] },
  intent: { id: 'task-1', name: 'triage_inbox' },
  trigger: { type: 'email', id: 'msg-8821' },
  sessionId: 'sess-1',
  scopes: ['mail.read', 'mail.send', 'calendar.read'],
};

const summarizer: Attribution = {
  actor: { type: 'agent', id: 'nhi:agent-c21', name: 'summarizer' },
  scopes: ['mail.read', 'drive.write'],
};

let tracing: Tracing;
beforeEach(() => {
  tracing = setupTracing();
});
afterEach(async () => {
  await tracing.teardown();
});

/** Runs `fn` with `input` and expects an AttributionError naming `field`. */
function expectRejected(input: unknown, field: string): AttributionError {
  let ran = false;
  let caught: unknown;
  try {
    withAttribution(input as Attribution, () => {
      ran = true;
    });
  } catch (err) {
    caught = err;
  }
  expect(ran).toBe(false);
  expect(caught).toBeInstanceOf(AttributionError);
  const err = caught as AttributionError;
  expect(err.field).toBe(field);
  expect(err.message).toContain(field);
  return err;
}

describe('withAttribution / getAttribution', () => {
  it('puts a frozen, local attribution in the active context and returns what fn returns', () => {
    expect(getAttribution()).toBeUndefined();
    const result = withAttribution(inboxAgent, () => {
      const a = getAttribution();
      expect(a?.actor.id).toBe('nhi:agent-7f3');
      expect(a?.principal?.id).toBe('tom');
      expect(a?.provenance).toBe('local');
      expect(a?.delegationChain).toEqual(['tom', 'nhi:agent-7f3']);
      expect(Object.isFrozen(a)).toBe(true);
      expect(Object.isFrozen(a?.actor)).toBe(true);
      expect(Object.isFrozen(a?.scopes)).toBe(true);
      return 42;
    });
    expect(result).toBe(42);
    expect(getAttribution()).toBeUndefined();
  });

  it('survives awaits inside async work', async () => {
    const seen = await withAttribution(inboxAgent, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return getAttribution()?.actor.id;
    });
    expect(seen).toBe('nhi:agent-7f3');
  });

  it('reads from an explicit context', () => {
    const captured = withAttribution(inboxAgent, () => context.active());
    expect(getAttribution(captured)?.trigger).toEqual({ type: 'email', id: 'msg-8821' });
    expect(getAttribution(context.active())).toBeUndefined();
  });

  it('ignores a provenance the caller claims: local work is always local', () => {
    const claimed = { ...inboxAgent, provenance: 'verified' } as Attribution;
    expect(withAttribution(claimed, () => getAttribution()?.provenance)).toBe('local');
  });

  it('a human acting directly has a chain of one', () => {
    const chain = withAttribution(
      { actor: { type: 'human', id: 'tom' }, principal: { id: 'tom', type: 'human' } },
      () => getAttribution()?.delegationChain,
    );
    expect(chain).toEqual(['tom']);
  });

  it('does not leak the caller input: later mutation of the input changes nothing', () => {
    const input: Attribution = { actor: { type: 'agent', id: 'nhi:agent-7f3' }, scopes: ['a'] };
    withAttribution(input, () => {
      input.actor.id = 'someone-else';
      input.scopes?.push('b');
      expect(getAttribution()?.actor.id).toBe('nhi:agent-7f3');
      expect(getAttribution()?.scopes).toEqual(['a']);
    });
  });
});

describe('nesting', () => {
  it('builds the delegation chain tom → nhi:agent-7f3 → nhi:agent-c21 and carries trigger, intent, session', () => {
    const inner = withAttribution(inboxAgent, () => withAttribution(summarizer, () => getAttribution()));
    expect(inner?.delegationChain).toEqual(['tom', 'nhi:agent-7f3', 'nhi:agent-c21']);
    expect(inner?.actor).toEqual({ type: 'agent', id: 'nhi:agent-c21', name: 'summarizer' });
    expect(inner?.principal).toEqual(inboxAgent.principal);
    expect(inner?.trigger).toEqual({ type: 'email', id: 'msg-8821' });
    expect(inner?.intent).toEqual({ id: 'task-1', name: 'triage_inbox' });
    expect(inner?.sessionId).toBe('sess-1');
    expect(inner?.provenance).toBe('local');
  });

  it('narrows scopes to the intersection: a sub-agent cannot widen its authority', () => {
    const scopes = withAttribution(inboxAgent, () =>
      withAttribution(summarizer, () => getAttribution()?.scopes),
    );
    expect(scopes).toEqual(['mail.read']);
  });

  it('inherits the outer scopes when the inner names none', () => {
    const scopes = withAttribution(inboxAgent, () =>
      withAttribution({ actor: { type: 'agent', id: 'nhi:agent-c21' } }, () => getAttribution()?.scopes),
    );
    expect(scopes).toEqual(inboxAgent.scopes);
  });

  it('three levels deep keeps narrowing and extending', () => {
    const deepest = withAttribution(inboxAgent, () =>
      withAttribution(summarizer, () =>
        withAttribution({ actor: { type: 'service', id: 'svc:mailer' }, scopes: ['drive.write'] }, () =>
          getAttribution(),
        ),
      ),
    );
    expect(deepest?.delegationChain).toEqual(['tom', 'nhi:agent-7f3', 'nhi:agent-c21', 'svc:mailer']);
    expect(deepest?.scopes).toEqual([]);
  });

  it('the same actor nested again is not a new delegation step', () => {
    const chain = withAttribution(inboxAgent, () =>
      withAttribution({ actor: inboxAgent.actor, intent: { name: 'reply' } }, () => getAttribution()),
    );
    expect(chain?.delegationChain).toEqual(['tom', 'nhi:agent-7f3']);
    expect(chain?.intent).toEqual({ name: 'reply' });
  });

  it('a nested call cannot change the principal', () => {
    let ran = false;
    let caught: unknown;
    withAttribution(inboxAgent, () => {
      try {
        withAttribution({ ...summarizer, principal: { id: 'mallory', type: 'human' } }, () => {
          ran = true;
        });
      } catch (err) {
        caught = err;
      }
    });
    expect(ran).toBe(false);
    expect(caught).toBeInstanceOf(AttributionError);
    expect((caught as AttributionError).field).toBe('principal.id');
    expect((caught as AttributionError).message).toContain('principal.id');
  });

  it('restating the same principal is allowed', () => {
    const a = withAttribution(inboxAgent, () =>
      withAttribution({ ...summarizer, principal: { id: 'tom' } }, () => getAttribution()),
    );
    expect(a?.principal?.id).toBe('tom');
    expect(a?.delegationChain).toEqual(['tom', 'nhi:agent-7f3', 'nhi:agent-c21']);
  });

  it('refuses a delegation deeper than the list cap, naming delegationChain', () => {
    const dive = (depth: number): unknown =>
      withAttribution({ actor: { type: 'agent', id: `nhi:agent-${depth}` } }, () =>
        depth < MAX_ATTRIBUTION_LIST + 1 ? dive(depth + 1) : getAttribution(),
      );
    let caught: unknown;
    try {
      withAttribution({ actor: { type: 'human', id: 'tom' } }, () => dive(1));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AttributionError);
    expect((caught as AttributionError).field).toBe('delegationChain');
  });

  it('the outer attribution is back once the nested call returns', () => {
    withAttribution(inboxAgent, () => {
      withAttribution(summarizer, () => undefined);
      expect(getAttribution()?.actor.id).toBe('nhi:agent-7f3');
    });
  });
});

describe('validation names the field', () => {
  it('actor.id empty', () => {
    expectRejected({ actor: { type: 'agent', id: '' } }, 'actor.id');
  });

  it("actor.type 'robot'", () => {
    expectRejected({ actor: { type: 'robot', id: 'r2' } }, 'actor.type');
  });

  it('missing actor', () => {
    expectRejected({ principal: { id: 'tom' } }, 'actor');
  });

  it('an unknown field at the top and inside actor', () => {
    const top = expectRejected({ actor: { type: 'agent', id: 'a' }, onBehalfOf: 'tom' }, '(root)');
    expect(top.message).toContain('onBehalfOf');
    const inner = expectRejected({ actor: { type: 'agent', id: 'a', role: 'admin' } }, 'actor');
    expect(inner.message).toContain('role');
  });

  it('a 300-character id', () => {
    const err = expectRejected({ actor: { type: 'agent', id: 'x'.repeat(300) } }, 'actor.id');
    expect(err.message).toContain('256');
  });

  it('control characters (a forged log line) in the principal id', () => {
    const err = expectRejected(
      { actor: { type: 'agent', id: 'a' }, principal: { id: 'tom\nuser=admin action=ok' } },
      'principal.id',
    );
    expect(err.message).toContain('control characters');
    expectRejected({ actor: { type: 'agent', id: 'a\u0000b' } }, 'actor.id');
    expectRejected({ actor: { type: 'agent', id: 'a\u007fb' } }, 'actor.id');
  });

  it('wrong types and list caps name their path', () => {
    expectRejected({ actor: { type: 'agent', id: 'a' }, scopes: ['ok', 7] }, 'scopes.1');
    expectRejected(
      { actor: { type: 'agent', id: 'a' }, scopes: Array.from({ length: 33 }, (_, i) => `s${i}`) },
      'scopes',
    );
    expectRejected({ actor: { type: 'agent', id: 'a' }, trigger: { type: 'email' } }, 'trigger.id');
    expectRejected(
      { actor: { type: 'agent', id: 'a' }, principal: { id: 'tom', type: 'agent' } },
      'principal.type',
    );
  });

  it('not an object at all', () => {
    expectRejected('nhi:agent-7f3', '(root)');
    expectRejected(null, '(root)');
  });

  it('parseAttribution accepts the seed attribution and returns a frozen copy', () => {
    const parsed = parseAttribution(inboxAgent);
    expect(parsed).toEqual(inboxAgent);
    expect(parsed).not.toBe(inboxAgent);
    expect(Object.isFrozen(parsed.principal?.roles)).toBe(true);
  });

  it('accepts unicode names (not control characters)', () => {
    expect(parseAttribution({ actor: { type: 'human', id: 'zoë', name: 'Zoë Ñandú 🦜' } }).actor.name).toBe(
      'Zoë Ñandú 🦜',
    );
  });
});
