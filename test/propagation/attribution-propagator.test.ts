import {
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Attribution, getAttribution, withAttribution } from '../../src/attribution/attribution.js';
import { generateSigningKey, type SigningKey } from '../../src/keys/keys.js';
import {
  AttributionPropagator,
  type AttributionPropagatorOptions,
} from '../../src/propagation/attribution-propagator.js';
import { BAGGAGE_MAX_BYTES, BAGGAGE_MAX_ENTRIES } from '../../src/propagation/baggage-limits.js';
import { setupTracing, type Tracing } from '../fixtures/tracing.js';
import { trustedKey } from '../helpers/keys.js';

let t: Tracing;
beforeEach(() => {
  t = setupTracing({ env: {}, defaultActor: { type: 'service', id: 'svc:tool' } });
});
afterEach(() => t.teardown());

const agentKey = generateSigningKey();
const subAgentKey = generateSigningKey();
/** The receiver's view of a key: bound to the agents these tests sign as. */
const publicOf = (k: SigningKey) =>
  k === subAgentKey ? trustedKey(k, 'agent:nhi:agent-c21') : trustedKey(k, 'agent:nhi:agent-7f3');

/** One process's propagation: W3C trace context + baggage, then attribution (as startOnbehalf composes it). */
function processWith(options: AttributionPropagatorOptions) {
  const attribution = new AttributionPropagator(options);
  const composite = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator(), attribution],
  });
  return {
    attribution,
    inject(ctx: Context = context.active()): Record<string, string> {
      const headers: Record<string, string> = {};
      composite.inject(ctx, headers, defaultTextMapSetter);
      return headers;
    },
    extract(headers: Record<string, string | string[]>): Context {
      return composite.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    },
  };
}

const tom: Attribution = {
  actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
  principal: { id: 'tom', type: 'human' },
  trigger: { type: 'email', id: 'msg-8821' },
  intent: { name: 'answer_order_question' },
  scopes: ['orders:read'],
};

/** Headers of a call made inside a span under `attribution`. */
function callAs(
  sender: ReturnType<typeof processWith>,
  attribution: Attribution = tom,
): Record<string, string> {
  return withAttribution(attribution, () =>
    t.tracer.startActiveSpan('call', (span) => {
      const h = sender.inject();
      span.end();
      return h;
    }),
  );
}

/** Span attributes of work done in `ctx` on the receiving side. */
function spanIn(ctx: Context, name = 'work') {
  context.with(ctx, () => t.tracer.startSpan(name).end());
  return t.span(name).attributes;
}

const tokenOf = (h: Record<string, string>) =>
  /(?:^|,)attribution\.token=([^,;]+)/.exec(h.baggage ?? '')?.[1];

describe('AttributionPropagator', () => {
  it('a signed call arrives verified, with the delegation chain, on the spans of the receiver', () => {
    const agent = processWith({ signingKey: agentKey });
    const tool = processWith({ trustedKeys: [publicOf(agentKey)] });
    const headers = callAs(agent);
    expect(headers.traceparent).toBeDefined();
    expect(headers.baggage).toMatch(/^attribution\.token=/);
    expect(headers.baggage).toContain('attribution.principal.id=tom');
    const ctx = tool.extract(headers);
    const a = getAttribution(ctx);
    expect(a?.provenance).toBe('verified');
    expect(a?.actor).toEqual(tom.actor);
    expect(a?.principal?.id).toBe('tom');
    expect(a?.delegationChain).toEqual(['tom', 'nhi:agent-7f3']);
    expect(tool.attribution.stats.verified).toBe(1);
    const attrs = spanIn(ctx);
    expect(attrs['attribution.principal.id']).toBe('tom');
    expect(attrs['attribution.actor.id']).toBe('nhi:agent-7f3');
    expect(attrs['attribution.trigger.id']).toBe('msg-8821');
    expect(attrs['attribution.provenance']).toBe('verified');
  });

  it('signs once per attribution and trace, and verifies once per token', () => {
    const agent = processWith({ signingKey: agentKey });
    const tool = processWith({ trustedKeys: [publicOf(agentKey)] });
    // One request per client span, as HTTP instrumentation makes them: same trace, new parent span each.
    const many = withAttribution(tom, () =>
      t.tracer.startActiveSpan('task', (task) => {
        const all = Array.from({ length: 50 }, () =>
          t.tracer.startActiveSpan('request', (span) => {
            const h = agent.inject();
            span.end();
            return h;
          }),
        );
        task.end();
        return all;
      }),
    );
    expect(new Set(many.map((h) => h.baggage)).size).toBe(1);
    expect(agent.attribution.stats.signed).toBe(1);
    callAs(agent);
    expect(agent.attribution.stats.signed).toBe(2);
    for (const h of many.slice(0, 10)) expect(getAttribution(tool.extract(h))?.provenance).toBe('verified');
    expect(tool.attribution.stats.verifyCacheHits).toBe(9);

    const uncached = processWith({ trustedKeys: [publicOf(agentKey)], verifyCacheSize: 0 });
    for (const h of many.slice(0, 3))
      expect(getAttribution(uncached.extract(h))?.provenance).toBe('verified');
    expect(uncached.attribution.stats.verifyCacheHits).toBe(0);
  });

  it('refuses a captured request sent again, but not a second read of the same request', () => {
    const agent = processWith({ signingKey: agentKey });
    const tool = processWith({ trustedKeys: [publicOf(agentKey)] });
    const captured = callAs(agent);
    expect(getAttribution(tool.extract(captured))?.provenance).toBe('verified');
    // The same headers object read twice (instrumentation, then the app) is one request.
    expect(getAttribution(tool.extract(captured))?.provenance).toBe('verified');
    // The same bytes sent again are a new carrier with the same token and caller span: a replay.
    const replayed = { ...captured };
    expect(getAttribution(tool.extract(replayed))?.provenance).toBe('unverified');
    expect(tool.attribution.stats.rejected.replay).toBe(1);
    // A new request in the same trace (a new caller span) is still accepted: what a captured token allows.
    const again = {
      ...captured,
      traceparent: captured.traceparent!.replace(/-[0-9a-f]{16}-/, '-00f067aa0ba902b7-'),
    };
    expect(getAttribution(tool.extract(again))?.provenance).toBe('verified');
  });

  it('tokens carry the audience the sender names, and a receiver accepts only its own', () => {
    const agent = processWith({ signingKey: agentKey, tokenAudience: 'tool-service' });
    const own = processWith({ trustedKeys: [publicOf(agentKey)], audience: 'tool-service' });
    const other = processWith({ trustedKeys: [publicOf(agentKey)], audience: 'billing' });
    const none = processWith({ trustedKeys: [publicOf(agentKey)] });
    const headers = callAs(agent);
    expect(getAttribution(own.extract(headers))?.provenance).toBe('verified');
    expect(getAttribution(other.extract({ ...headers }))?.provenance).toBe('unverified');
    expect(other.attribution.stats.rejected.audience).toBe(1);
    // RFC 7519 §4.1.3: a receiver that is not named in aud refuses the token.
    expect(getAttribution(none.extract({ ...headers }))?.provenance).toBe('unverified');
    expect(none.attribution.stats.rejected.audience).toBe(1);
    // A receiver with an audience refuses tokens that name no one.
    const plain = callAs(processWith({ signingKey: agentKey }));
    expect(getAttribution(own.extract(plain))?.provenance).toBe('unverified');
    expect(own.attribution.stats.rejected.audience).toBe(1);
  });

  it('a plain `attribution.principal.id=ceo` from an outside caller never makes ceo the principal', () => {
    const tool = processWith({ trustedKeys: [publicOf(agentKey)] });
    const ctx = tool.extract({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      baggage: 'attribution.principal.id=ceo,attribution.actor.id=nhi:agent-7f3,userland=kept',
    });
    const a = getAttribution(ctx);
    expect(a?.provenance).toBe('unverified');
    const attrs = spanIn(ctx);
    expect(attrs['attribution.principal.id']).toBeUndefined();
    expect(attrs['user.id']).toBeUndefined();
    expect(attrs['attribution.claimed.principal.id']).toBe('ceo');
    expect(attrs['attribution.actor.id']).toBe('svc:tool');
    expect(attrs['attribution.provenance']).toBe('unverified');
    // The claim is gone from the app's baggage (a BaggageSpanProcessor cannot copy it as a fact); the rest stays.
    const baggage = propagation.getBaggage(ctx);
    expect(baggage?.getEntry('attribution.principal.id')).toBeUndefined();
    expect(baggage?.getEntry('userland')?.value).toBe('kept');
    expect(tool.attribution.stats.unverified).toBe(1);
  });

  it('without a signing key only claims go out, and they arrive unverified', () => {
    const agent = processWith({});
    const tool = processWith({ trustedKeys: [publicOf(agentKey)] });
    const headers = callAs(agent);
    expect(tokenOf(headers)).toBeUndefined();
    expect(agent.attribution.stats.unsigned).toBe(1);
    const a = getAttribution(tool.extract(headers));
    expect(a?.provenance).toBe('unverified');
    expect(a?.principal?.id).toBe('tom');
  });

  it('a forged token with matching claims arrives unverified, and is counted', () => {
    const forger = processWith({ signingKey: generateSigningKey() });
    const tool = processWith({ trustedKeys: [publicOf(agentKey)] });
    const headers = callAs(forger);
    const a = getAttribution(tool.extract(headers));
    expect(a?.provenance).toBe('unverified');
    expect(tool.attribution.stats.rejected.unknown_key).toBe(1);
    // Two tokens in one header: neither is believed.
    const good = callAs(processWith({ signingKey: agentKey }));
    const doubled = { ...good, baggage: `${good.baggage},attribution.token=${tokenOf(good)}` };
    expect(getAttribution(tool.extract(doubled))?.provenance).toBe('unverified');
    expect(tool.attribution.stats.rejected.duplicate).toBe(1);
  });

  it('forwards a verified token unchanged, and a sub-agent continues the chain with its own key', () => {
    const agent = processWith({ signingKey: agentKey });
    const middle = processWith({ signingKey: subAgentKey, trustedKeys: [publicOf(agentKey)] });
    const last = processWith({ trustedKeys: [publicOf(agentKey), publicOf(subAgentKey)] });
    const inbound = callAs(agent);
    const ctx = middle.extract(inbound);
    const forwarded = context.with(ctx, () =>
      t.tracer.startActiveSpan('forward', (span) => {
        const h = middle.inject();
        span.end();
        return h;
      }),
    );
    expect(tokenOf(forwarded)).toBe(tokenOf(inbound));
    expect(middle.attribution.stats.signed).toBe(0);
    const delegated = context.with(ctx, () =>
      withAttribution({ actor: { type: 'agent', id: 'nhi:agent-c21', name: 'calendar-agent' } }, () =>
        t.tracer.startActiveSpan('delegate', (span) => {
          const h = middle.inject();
          span.end();
          return h;
        }),
      ),
    );
    expect(middle.attribution.stats.signed).toBe(1);
    const a = getAttribution(last.extract(delegated));
    expect(a?.provenance).toBe('verified');
    expect(a?.actor.id).toBe('nhi:agent-c21');
    expect(a?.delegationChain).toEqual(['tom', 'nhi:agent-7f3', 'nhi:agent-c21']);
    expect(a?.trigger).toEqual(tom.trigger);
  });

  it('never signs or repeats an unverified claim', () => {
    const middle = processWith({ signingKey: subAgentKey });
    const ctx = middle.extract({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      baggage: 'attribution.principal.id=ceo',
    });
    const out = context.with(ctx, () =>
      t.tracer.startActiveSpan('forward', (span) => {
        const h = middle.inject();
        span.end();
        return h;
      }),
    );
    expect(out.baggage ?? '').not.toContain('attribution.');
    expect(middle.attribution.stats.signed).toBe(0);
  });

  it('puts no credential in baggage', () => {
    const agent = processWith({ signingKey: agentKey });
    const secret = 'sk-live-abcdefghijklmnopqrstuvwxyz123456';
    const headers = callAs(agent, { ...tom, intent: { name: `use ${secret}` }, sessionId: secret });
    const token = tokenOf(headers) as string;
    const decoded = Buffer.from(token.split('.')[1] as string, 'base64url').toString();
    expect(headers.baggage).not.toContain(secret);
    expect(decoded).not.toContain(secret);
    expect(decoded).toContain('[REDACTED:secret]');
    expect(agent.attribution.stats.redacted).toBe(1);
  });

  it('keeps the header within the W3C limits whatever the attribution and the app baggage hold', () => {
    const agent = processWith({ signingKey: agentKey });
    const str = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 256 })
      .filter((s) => !Array.from(s).some((ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === '\u007f'));
    fc.assert(
      fc.property(
        str,
        str,
        fc.array(str, { maxLength: 32 }),
        fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_]{0,30}$/), fc.string({ maxLength: 500 })), {
          maxLength: 120,
        }),
        (actorId, principalId, scopes, app) => {
          let bag = propagation.createBaggage();
          for (const [k, v] of app) bag = bag.setEntry(k, { value: v });
          const headers = context.with(propagation.setBaggage(context.active(), bag), () =>
            callAs(agent, { actor: { type: 'agent', id: actorId }, principal: { id: principalId }, scopes }),
          );
          const header = headers.baggage ?? '';
          expect(Buffer.byteLength(header)).toBeLessThanOrEqual(BAGGAGE_MAX_BYTES);
          expect(header.split(',').length).toBeLessThanOrEqual(BAGGAGE_MAX_ENTRIES);
          const receiver = processWith({ trustedKeys: [trustedKey(agentKey, `agent:${actorId}`)] });
          const a = getAttribution(receiver.extract(headers));
          expect(a?.provenance).toBe('verified');
          expect(a?.actor.id).toBe(actorId);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('survives malformed, oversized and hostile baggage, counting it', () => {
    const tool = processWith({ trustedKeys: [publicOf(agentKey)] });
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const hostile: (string | string[])[] = [
      `attribution.token=${'a'.repeat(20_000)}`,
      Array.from({ length: 500 }, (_, i) => `k${i}=v`).join(','),
      'attribution.principal.id=%E0%A4%A,=,;;;,attribution.actor.id',
      ['attribution.token=x.y.z', 'attribution.token=a.b.c'],
      'attribution.token=e30.e30.,attribution.principal.id=ceo',
      `attribution.principal.id=${'x'.repeat(300)}`,
      '\u0000\uffff,attribution.actor.id=%00',
    ];
    for (const [i, baggage] of hostile.entries()) {
      const ctx = tool.extract({ traceparent: tp, baggage });
      expect(getAttribution(ctx)?.provenance ?? 'none').not.toBe('verified');
      const attrs = spanIn(ctx, `hostile-${i}`);
      expect(attrs['attribution.principal.id']).toBeUndefined();
      expect(attrs['user.id']).toBeUndefined();
    }
    expect(tool.attribution.stats.malformed.oversized).toBeGreaterThan(0);
    expect(tool.attribution.stats.malformed.too_many_entries).toBe(1);
    expect(tool.attribution.stats.malformed.malformed_entry).toBeGreaterThan(0);
    expect(tool.attribution.stats.failed).toBe(0);
    fc.assert(
      fc.property(fc.string({ maxLength: 3000 }), fc.string({ maxLength: 60 }), (baggage, traceparent) => {
        const ctx = tool.extract({ traceparent, baggage: `attribution.token=${baggage},${baggage}` });
        expect(getAttribution(ctx)?.provenance).not.toBe('verified');
      }),
      { numRuns: 300 },
    );
    expect(tool.attribution.stats.failed).toBe(0);
  });
});
