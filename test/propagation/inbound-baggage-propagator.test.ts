// onbehalf's baggage propagator reads an inbound header once for the app's baggage and the
// attribution alike: the same header gives the same (immutable) baggage object, the app's entries
// as core reads them, and a signed token still verifies after it.
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import {
  contextWithAttribution,
  getAttribution,
  parseAttribution,
} from '../../src/attribution/attribution.js';
import { generateSigningKey } from '../../src/keys/keys.js';
import { AttributionPropagator } from '../../src/propagation/attribution-propagator.js';
import { InboundBaggagePropagator } from '../../src/propagation/inbound-baggage-propagator.js';

const key = generateSigningKey();
const spanContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
};
const entries = (ctx: ReturnType<typeof propagation.setBaggage>) =>
  Object.fromEntries((propagation.getBaggage(ctx)?.getAllEntries() ?? []).map(([k, e]) => [k, e.value]));

function signedHeaders(): Record<string, string> {
  const signer = new CompositePropagator({
    propagators: [
      new W3CTraceContextPropagator(),
      new W3CBaggagePropagator(),
      new AttributionPropagator({ signingKey: key }),
    ],
  });
  const attribution = parseAttribution({
    actor: { type: 'agent', id: 'nhi:agent-7f3' },
    principal: { id: 'tom', type: 'human' },
  });
  let ctx = trace.setSpanContext(ROOT_CONTEXT, spanContext);
  ctx = propagation.setBaggage(ctx, propagation.createBaggage({ 'app.tenant': { value: 'acme, inc' } }));
  ctx = contextWithAttribution(attribution, ctx);
  const headers: Record<string, string> = {};
  signer.inject(ctx, headers, defaultTextMapSetter);
  return headers;
}

// The receiver's key is bound to the agent it speaks for (docs/trust-model.md).
const boundJwk = { ...key.publicJwk, onbehalf_actors: ['agent:nhi:agent-7f3'] };

describe('InboundBaggagePropagator', () => {
  const receiver = () =>
    new CompositePropagator({
      propagators: [
        new W3CTraceContextPropagator(),
        new InboundBaggagePropagator(),
        new AttributionPropagator({
          trustedKeys: [
            {
              kid: key.kid,
              publicKey: key.publicKey,
              jwk: boundJwk,
            },
          ],
        }),
      ],
    });

  it('hands the app core’s baggage without attribution.*, and the token verifies', () => {
    const headers = signedHeaders();
    expect(headers.baggage).toContain('attribution.token=');
    const ctx = receiver().extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    expect(entries(ctx)).toEqual({ 'app.tenant': 'acme, inc' });
    expect(getAttribution(ctx)?.provenance).toBe('verified');
    expect(getAttribution(ctx)?.principal?.id).toBe('tom');
    // What core alone makes of the header, less attribution.*, is exactly what the app got.
    const fromCore = entries(new W3CBaggagePropagator().extract(ROOT_CONTEXT, headers, defaultTextMapGetter));
    expect(Object.keys(fromCore).some((k) => k.startsWith('attribution.'))).toBe(true);
    expect(
      Object.fromEntries(Object.entries(fromCore).filter(([k]) => !k.startsWith('attribution.'))),
    ).toEqual(entries(ctx));
  });

  it('reads a header once: the same header gives the same baggage object on the next request', () => {
    const headers = signedHeaders();
    const propagator = new InboundBaggagePropagator();
    const first = propagation.getBaggage(
      propagator.extract(ROOT_CONTEXT, { ...headers }, defaultTextMapGetter),
    );
    const second = propagation.getBaggage(
      propagator.extract(ROOT_CONTEXT, { ...headers }, defaultTextMapGetter),
    );
    expect(first).toBeDefined();
    expect(second).toBe(first);
    expect(() => first!.setEntry('x', { value: 'y' })).not.toThrow();
    // Baggage is immutable: setEntry made a new one, the shared one is unchanged.
    expect(first!.getEntry('x')).toBeUndefined();
  });

  it('leaves the context alone without a header, or with one core reads nothing from', () => {
    const base = propagation.setBaggage(ROOT_CONTEXT, propagation.createBaggage({ k: { value: 'v' } }));
    const p = new InboundBaggagePropagator();
    expect(p.extract(base, {}, defaultTextMapGetter)).toBe(base);
    expect(p.extract(base, { baggage: ',,;' }, defaultTextMapGetter)).toBe(base);
    expect(p.fields()).toEqual(new W3CBaggagePropagator().fields());
  });
});
