import { type Context, context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Attribution,
  AttributionError,
  contextWithAttribution,
  parseAttribution,
  withAttribution,
} from '../../src/attribution/attribution.js';
import { actorFromEnv } from '../../src/config/env.js';
import { AttributionSpanProcessor } from '../../src/pipeline/attribution-span-processor.js';
import { setupTracing, type Tracing } from '../fixtures/tracing.js';
import {
  BasicTracerProvider,
  type ReadableSpan,
  type Span,
  type SpanProcessor,
} from '../helpers/trace-sdk.js';

const inboxAgent: Attribution = {
  actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom', version: '1.4.0' },
  principal: { id: 'tom', type: 'human', roles: ['employee', 'finance'] },
  intent: { id: 'task-1', name: 'triage_inbox' },
  trigger: { type: 'email', id: 'msg-8821' },
  sessionId: 'sess-1',
  conversationId: 'conv-9',
  scopes: ['mail.read', 'mail.send'],
};

const EVERY_ATTRIBUTE = {
  'attribution.actor.type': 'agent',
  'attribution.actor.id': 'nhi:agent-7f3',
  'attribution.actor.name': 'inbox-agent',
  'attribution.actor.owner.id': 'tom',
  'gen_ai.agent.id': 'nhi:agent-7f3',
  'gen_ai.agent.name': 'inbox-agent',
  'gen_ai.agent.version': '1.4.0',
  'attribution.principal.id': 'tom',
  'attribution.principal.type': 'human',
  'user.id': 'tom',
  'user.roles': ['employee', 'finance'],
  'attribution.delegation.chain': ['tom', 'nhi:agent-7f3'],
  'attribution.intent.id': 'task-1',
  'attribution.intent.name': 'triage_inbox',
  'attribution.trigger.type': 'email',
  'attribution.trigger.id': 'msg-8821',
  'attribution.scopes': ['mail.read', 'mail.send'],
  'session.id': 'sess-1',
  'gen_ai.conversation.id': 'conv-9',
  'attribution.provenance': 'local',
};

let tracing: Tracing | undefined;
afterEach(async () => {
  await tracing?.teardown();
  tracing = undefined;
});

function start(...args: Parameters<typeof setupTracing>): Tracing {
  tracing = setupTracing(...args);
  return tracing;
}

/** The keys onbehalf adds, so assertions can say "nothing else". */
function attributionKeys(span: ReadableSpan): string[] {
  return Object.keys(span.attributes)
    .filter((k) => /^(attribution\.|gen_ai\.agent\.|enduser\.|user\.|session\.|gen_ai\.conversation)/.test(k))
    .sort();
}

describe('stamping from context', () => {
  it('a span inside withAttribution carries every attribute', () => {
    const t = start();
    withAttribution(inboxAgent, () => t.tracer.startSpan('read_inbox').end());
    const span = t.span('read_inbox');
    expect(span.attributes).toMatchObject(EVERY_ATTRIBUTE);
    expect(attributionKeys(span)).toEqual(Object.keys(EVERY_ATTRIBUTE).sort());
    expect(span.attributes['enduser.id']).toBeUndefined();
    expect(t.processor.stats).toEqual({ seen: 1, stamped: 1, defaulted: 0, failed: 0, parentWon: 0 });
  });

  it('mirrors the principal to enduser.id (deprecated in semantic conventions 1.45) when asked', () => {
    const t = start({ env: {}, mirrorEnduserId: true });
    withAttribution(inboxAgent, () => t.tracer.startSpan('s').end());
    expect(t.span('s').attributes['enduser.id']).toBe('tom');
    expect(t.span('s').attributes['user.id']).toBe('tom');
  });

  it('a span inside a nested agent carries the chain, narrowed scopes and carried trigger/intent', async () => {
    const t = start();
    await withAttribution(inboxAgent, () =>
      withAttribution(
        { actor: { type: 'agent', id: 'nhi:agent-c21', name: 'summarizer' }, scopes: ['mail.read', 'x'] },
        async () => {
          await Promise.resolve();
          t.tracer.startSpan('summarize').end();
        },
      ),
    );
    const a = t.span('summarize').attributes;
    expect(a['attribution.delegation.chain']).toEqual(['tom', 'nhi:agent-7f3', 'nhi:agent-c21']);
    expect(a['attribution.actor.id']).toBe('nhi:agent-c21');
    expect(a['gen_ai.agent.id']).toBe('nhi:agent-c21');
    expect(a['gen_ai.agent.name']).toBe('summarizer');
    // The sub-agent has no owner of its own: the outer agent's owner must not be copied onto it.
    expect(a['attribution.actor.owner.id']).toBeUndefined();
    expect(a['attribution.principal.id']).toBe('tom');
    expect(a['user.id']).toBe('tom');
    expect(a['attribution.scopes']).toEqual(['mail.read']);
    expect(a['attribution.trigger.id']).toBe('msg-8821');
    expect(a['attribution.intent.name']).toBe('triage_inbox');
  });

  it('a human actor gets no gen_ai.agent.* keys', () => {
    const t = start();
    withAttribution({ actor: { type: 'human', id: 'tom', name: 'Tom' } }, () =>
      t.tracer.startSpan('s').end(),
    );
    const a = t.span('s').attributes;
    expect(a['attribution.actor.type']).toBe('human');
    expect(a['gen_ai.agent.id']).toBeUndefined();
    expect(a['gen_ai.agent.name']).toBeUndefined();
  });

  it('child spans of a span started inside the attribution are stamped too', () => {
    const t = start();
    withAttribution(inboxAgent, () =>
      t.tracer.startActiveSpan('parent', (parent) => {
        t.tracer.startSpan('child').end();
        parent.end();
      }),
    );
    expect(t.span('child').attributes['attribution.actor.id']).toBe('nhi:agent-7f3');
    expect(t.span('child').parentSpanContext?.spanId).toBe(t.span('parent').spanContext().spanId);
  });

  it('a span started with an explicit context uses that context, not the active one', () => {
    const t = start();
    const ctx = withAttribution(inboxAgent, () => context.active());
    t.tracer.startSpan('explicit', {}, ctx).end();
    withAttribution({ actor: { type: 'human', id: 'dana' } }, () =>
      t.tracer.startSpan('other', {}, ctx).end(),
    );
    expect(t.span('explicit').attributes['attribution.actor.id']).toBe('nhi:agent-7f3');
    expect(t.span('other').attributes['attribution.actor.id']).toBe('nhi:agent-7f3');
  });
});

describe("a span's attribution is that of its own trace", () => {
  const alice: Attribution = {
    ...inboxAgent,
    principal: { id: 'alice', type: 'human' },
    trigger: { type: 'http', id: 'req-a' },
  };
  const bob: Attribution = {
    ...inboxAgent,
    principal: { id: 'bob', type: 'human' },
    trigger: { type: 'http', id: 'req-b' },
  };

  it("a child started from another request's context under its own parent keeps the parent's attribution", () => {
    const t = start();
    // What a shared callback queue does: bob's parent span, alice's context around it.
    const bobParent = withAttribution(bob, () => t.tracer.startSpan('bob-chain'));
    const aliceContext = withAttribution(alice, () => context.active());
    t.tracer.startSpan('bob-tool', {}, trace.setSpan(aliceContext, bobParent)).end();
    bobParent.end();
    const tool = t.span('bob-tool');
    expect(tool.spanContext().traceId).toBe(bobParent.spanContext().traceId);
    expect(tool.attributes).toMatchObject({
      'attribution.principal.id': 'bob',
      'attribution.trigger.id': 'req-b',
    });
    expect(t.processor.stats.parentWon).toBe(1);
  });

  it('a parent span is remembered for at least 8192 later spans, then forgotten', () => {
    const processor = new AttributionSpanProcessor({ env: {} });
    const tracer = new BasicTracerProvider({ spanProcessors: [processor] }).getTracer('remember');
    const aliceContext = contextWithAttribution(alice, ROOT_CONTEXT);
    const principalOfChild = (parent: Span) => {
      const child = tracer.startSpan('child', {}, trace.setSpan(aliceContext, parent)) as unknown as Span;
      child.end();
      return (child as unknown as ReadableSpan).attributes['attribution.principal.id'];
    };
    const others = (n: number) => {
      for (let i = 0; i < n; i++) tracer.startSpan('other', {}, ROOT_CONTEXT).end();
    };
    const early = tracer.startSpan(
      'bob-early',
      {},
      contextWithAttribution(bob, ROOT_CONTEXT),
    ) as unknown as Span;
    others(8192);
    expect(principalOfChild(early)).toBe('bob');
    const late = tracer.startSpan(
      'bob-late',
      {},
      contextWithAttribution(bob, ROOT_CONTEXT),
    ) as unknown as Span;
    others(3 * 8192);
    // Past two generations the parent is forgotten, and the context's attribution is all there is.
    expect(principalOfChild(late)).toBe('alice');
    expect(processor.stats.parentWon).toBe(1);
  });

  it("a child whose context carries no attribution still takes its parent span's", () => {
    const t = start();
    const parent = withAttribution(bob, () => t.tracer.startSpan('parent'));
    t.tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, parent)).end();
    parent.end();
    expect(t.span('child').attributes['attribution.principal.id']).toBe('bob');
  });

  it('a delegation nested inside the parent span wins over the parent, since it is the same work', () => {
    const t = start();
    const helper = { type: 'agent' as const, id: 'nhi:helper', name: 'helper' };
    withAttribution(bob, () =>
      t.tracer.startActiveSpan('parent', (parent) => {
        withAttribution({ actor: helper }, () => t.tracer.startSpan('delegated').end());
        parent.end();
      }),
    );
    expect(t.span('delegated').attributes).toMatchObject({
      'attribution.actor.id': 'nhi:helper',
      'attribution.principal.id': 'bob',
      'attribution.delegation.chain': ['bob', 'nhi:agent-7f3', 'nhi:helper'],
    });
    expect(t.processor.stats.parentWon).toBe(0);
  });

  it("a parent with no attribution leaves the child to its context's", () => {
    const t = start();
    t.tracer.startActiveSpan('request', (request) => {
      withAttribution(alice, () => t.tracer.startSpan('work').end());
      request.end();
    });
    expect(t.span('work').attributes['attribution.principal.id']).toBe('alice');
  });
});

describe('the default actor', () => {
  it('outside any attribution a span carries only the default actor from options', () => {
    const t = start({
      env: {},
      defaultActor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
    });
    t.tracer.startSpan('startup').end();
    const span = t.span('startup');
    expect(span.attributes).toMatchObject({
      'attribution.actor.type': 'agent',
      'attribution.actor.id': 'nhi:agent-7f3',
      'attribution.actor.name': 'inbox-agent',
      'attribution.actor.owner.id': 'tom',
      'gen_ai.agent.id': 'nhi:agent-7f3',
      'gen_ai.agent.name': 'inbox-agent',
      'attribution.provenance': 'local',
    });
    expect(attributionKeys(span)).toEqual(
      [
        'attribution.actor.type',
        'attribution.actor.id',
        'attribution.actor.name',
        'attribution.actor.owner.id',
        'gen_ai.agent.id',
        'gen_ai.agent.name',
        'attribution.provenance',
      ].sort(),
    );
    expect(t.processor.stats).toEqual({ seen: 1, stamped: 0, defaulted: 1, failed: 0, parentWon: 0 });
  });

  it('comes from ONBEHALF_AGENT_ID / NAME / OWNER through the env option', () => {
    const t = start({
      env: {
        ONBEHALF_AGENT_ID: 'nhi:agent-7f3',
        ONBEHALF_AGENT_NAME: 'inbox-agent',
        ONBEHALF_AGENT_OWNER: 'tom',
      },
    });
    t.tracer.startSpan('startup').end();
    const a = t.span('startup').attributes;
    expect(a['attribution.actor.id']).toBe('nhi:agent-7f3');
    expect(a['attribution.actor.name']).toBe('inbox-agent');
    expect(a['attribution.actor.owner.id']).toBe('tom');
    expect(a['attribution.principal.id']).toBeUndefined();
    expect(a['user.id']).toBeUndefined();
    expect(t.processor.actor).toEqual({
      type: 'agent',
      id: 'nhi:agent-7f3',
      name: 'inbox-agent',
      ownerId: 'tom',
    });
  });

  it('options win over the environment', () => {
    const t = start({
      env: { ONBEHALF_AGENT_ID: 'from-env' },
      defaultActor: { type: 'service', id: 'svc:a' },
    });
    t.tracer.startSpan('s').end();
    expect(t.span('s').attributes['attribution.actor.id']).toBe('svc:a');
    expect(t.span('s').attributes['gen_ai.agent.id']).toBeUndefined();
  });

  it('without a default actor a span outside any attribution gets nothing', () => {
    const t = start({ env: {} });
    t.tracer.startSpan('plain').end();
    expect(attributionKeys(t.span('plain'))).toEqual([]);
    expect(t.processor.stats).toEqual({ seen: 1, stamped: 0, defaulted: 0, failed: 0, parentWon: 0 });
  });

  it('inside an attribution the attribution wins over the default actor', () => {
    const t = start({ env: { ONBEHALF_AGENT_ID: 'nhi:process-default' } });
    withAttribution(inboxAgent, () => t.tracer.startSpan('s').end());
    expect(t.span('s').attributes['attribution.actor.id']).toBe('nhi:agent-7f3');
  });

  it('an invalid default actor is refused at construction, naming the field', () => {
    expect(() => new AttributionSpanProcessor({ env: { ONBEHALF_AGENT_ID: 'bad\nid' } })).toThrow(
      AttributionError,
    );
    expect(() => new AttributionSpanProcessor({ env: { ONBEHALF_AGENT_ID: 'bad\nid' } })).toThrow(
      /actor\.id/,
    );
  });
});

describe('actorFromEnv', () => {
  it('reads id, name and owner, trims, and ignores blanks', () => {
    expect(actorFromEnv({})).toBeUndefined();
    expect(actorFromEnv({ ONBEHALF_AGENT_ID: '   ', ONBEHALF_AGENT_NAME: 'x' })).toBeUndefined();
    expect(actorFromEnv({ ONBEHALF_AGENT_ID: ' nhi:agent-7f3 ', ONBEHALF_AGENT_NAME: '' })).toEqual({
      type: 'agent',
      id: 'nhi:agent-7f3',
    });
    expect(
      actorFromEnv({ ONBEHALF_AGENT_ID: 'a', ONBEHALF_AGENT_NAME: 'n', ONBEHALF_AGENT_OWNER: 'tom' }),
    ).toEqual({ type: 'agent', id: 'a', name: 'n', ownerId: 'tom' });
  });
});

/** A processor after ours, to prove the chain keeps running. */
class Recorder implements SpanProcessor {
  started: string[] = [];
  ended: string[] = [];
  onStart(span: Span, _ctx: Context): void {
    this.started.push(span.name);
  }
  onEnd(span: ReadableSpan): void {
    this.ended.push(span.name);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe('a malformed attribution never breaks the host', () => {
  const throwingProxy = new Proxy(
    {},
    {
      get() {
        throw new Error('getter exploded');
      },
      ownKeys() {
        throw new Error('ownKeys exploded');
      },
      getOwnPropertyDescriptor() {
        throw new Error('descriptor exploded');
      },
    },
  );
  const garbage: [string, unknown][] = [
    ['a Proxy whose getters throw', throwingProxy],
    ['an object without an actor', { foo: 'bar' }],
    ['an actor of the wrong shape', { actor: { type: 'robot', id: 42 } }],
    ['a 10 000-character actor id', { actor: { type: 'agent', id: 'x'.repeat(10_000) } }],
    [
      'a forged log line in the principal',
      { actor: { type: 'agent', id: 'a' }, principal: { id: 'tom\nadmin' } },
    ],
    ['a string', 'nhi:agent-7f3'],
    ['a number', 7],
  ];

  for (const [what, value] of garbage) {
    it(`${what}: the host span still ends and is exported, the next processor still runs`, () => {
      const recorder = new Recorder();
      const t = start({ env: {} }, [recorder]);
      const ctx = contextWithAttribution(value as Attribution);
      let hostResult: string | undefined;
      expect(() => {
        hostResult = context.with(ctx, () =>
          t.tracer.startActiveSpan('host-work', (span) => {
            span.setAttribute('host.key', 'host-value');
            span.end();
            return 'host-ok';
          }),
        );
      }).not.toThrow();
      expect(hostResult).toBe('host-ok');
      const span = t.span('host-work');
      expect(span.attributes['host.key']).toBe('host-value');
      expect(span.ended).toBe(true);
      // Nothing of the malformed value reaches the span.
      expect(attributionKeys(span)).toEqual([]);
      expect(recorder.started).toEqual(['host-work']);
      expect(recorder.ended).toEqual(['host-work']);
      expect(t.processor.stats).toEqual({ seen: 1, stamped: 0, defaulted: 0, failed: 1, parentWon: 0 });
    });
  }

  it('a later good attribution is still stamped after a failure', () => {
    const t = start({ env: {} });
    context.with(contextWithAttribution(throwingProxy as Attribution), () => t.tracer.startSpan('bad').end());
    withAttribution(inboxAgent, () => t.tracer.startSpan('good').end());
    expect(t.span('good').attributes['attribution.actor.id']).toBe('nhi:agent-7f3');
    expect(t.processor.stats).toEqual({ seen: 2, stamped: 1, defaulted: 0, failed: 1, parentWon: 0 });
  });

  it('the processor is also safe when driven directly with a broken span', () => {
    const processor = new AttributionSpanProcessor({ env: {} });
    const brokenSpan = {
      setAttributes() {
        throw new Error('span refused');
      },
    } as unknown as Span;
    const ctx = contextWithAttribution(parseAttribution(inboxAgent), ROOT_CONTEXT);
    expect(() => processor.onStart(brokenSpan, ctx)).not.toThrow();
    expect(processor.stats.failed).toBe(1);
  });
});

describe('claims stay claims', () => {
  it('an unverified attribution never fills the verified keys and falls back to the default actor', () => {
    const t = start({ env: { ONBEHALF_AGENT_ID: 'nhi:agent-c21', ONBEHALF_AGENT_NAME: 'summarizer' } });
    const claimed: Attribution = {
      actor: { type: 'agent', id: 'nhi:agent-7f3' },
      principal: { id: 'ceo', type: 'human' },
      trigger: { type: 'email', id: 'msg-8821' },
      provenance: 'unverified',
    };
    context.with(contextWithAttribution(Object.freeze(claimed)), () => t.tracer.startSpan('claimed').end());
    const a = t.span('claimed').attributes;
    expect(a['attribution.provenance']).toBe('unverified');
    expect(a['attribution.principal.id']).toBeUndefined();
    expect(a['user.id']).toBeUndefined();
    expect(a['attribution.actor.id']).toBe('nhi:agent-c21');
    expect(a['attribution.claimed.principal.id']).toBe('ceo');
    expect(a['attribution.claimed.user.id']).toBe('ceo');
    expect(a['attribution.claimed.actor.id']).toBe('nhi:agent-7f3');
    // A claimed trigger does not put the span into that trigger's timeline.
    expect(a['attribution.trigger.id']).toBeUndefined();
    expect(a['attribution.claimed.trigger.id']).toBe('msg-8821');
  });

  it('without a default actor, a claim fills no actor, principal, trigger or intent key', () => {
    const t = start({ env: {} });
    const claimed: Attribution = {
      actor: { type: 'human', id: 'tom' },
      principal: { id: 'ceo', type: 'human' },
      trigger: { type: 'email', id: 'msg-8821' },
      intent: { name: 'cover-up' },
      scopes: ['payments:write'],
      sessionId: 's-1',
      provenance: 'unverified',
    };
    context.with(contextWithAttribution(Object.freeze(claimed)), () => t.tracer.startSpan('claimed').end());
    const a = t.span('claimed').attributes;
    const unclaimed = Object.keys(a).filter((k) => !k.startsWith('attribution.claimed.'));
    expect(unclaimed).toEqual(['attribution.provenance']);
    expect(a['attribution.claimed.actor.type']).toBe('human');
    expect(a['attribution.claimed.intent.name']).toBe('cover-up');
  });
});

describe('global tracer use', () => {
  it('works through the global API as host code would use it', () => {
    const t = start();
    withAttribution(inboxAgent, () => trace.getTracer('host').startSpan('via-global').end());
    expect(t.span('via-global').attributes['attribution.actor.id']).toBe('nhi:agent-7f3');
  });
});
