// Differential fuzzing of inbound baggage: whatever header a caller sends, onbehalf acts on exactly the
// attribution.* entries OpenTelemetry core's W3CBaggagePropagator reads from it, and nothing under
// attribution.* survives into the baggage the app (or a BaggageSpanProcessor) sees.
import { type Context, context, defaultTextMapGetter, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { BaggageSpanProcessor } from '@opentelemetry/baggage-span-processor';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAttribution } from '../../src/attribution/attribution.js';
import { generateSigningKey } from '../../src/keys/keys.js';
import { AttributionPropagator } from '../../src/propagation/attribution-propagator.js';
import { inboundAttributionEntries } from '../../src/propagation/inbound-baggage.js';
import { InboundBaggagePropagator } from '../../src/propagation/inbound-baggage-propagator.js';
import { setupTracing, type Tracing } from '../fixtures/tracing.js';

let t: Tracing;
beforeAll(() => {
  // Copies every baggage entry onto every span, as a BaggageSpanProcessor installed beside onbehalf does.
  t = setupTracing({ env: {} }, [new BaggageSpanProcessor(() => true)]);
});
afterAll(() => t.teardown());

const key = generateSigningKey();
const attribution = new AttributionPropagator({
  trustedKeys: [{ kid: key.kid, publicKey: key.publicKey, jwk: key.publicJwk }],
});
const composite = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator(), attribution],
});
// As onbehalf composes it: the header read once for baggage and attribution alike.
const onbehalfComposite = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new InboundBaggagePropagator(), attribution],
});
const core = new W3CBaggagePropagator();

const attributionKeys = [
  'attribution.token',
  'attribution.actor.id',
  'attribution.actor.type',
  'attribution.principal.id',
  'attribution.provenance',
  'attribution.trigger.id',
  'attribution.trigger.type',
  'attribution.intent.name',
];
/** The spellings core decodes to an attribution.* key, and near misses it does not. */
const keyArb = fc.oneof(
  fc.constantFrom(...attributionKeys),
  fc.constantFrom(...attributionKeys).map((k) => k.replace('.', '%2E')),
  fc.constantFrom(...attributionKeys).map((k) => `%61${k.slice(1)}`),
  fc
    .constantFrom(...attributionKeys)
    .map((k) => encodeURIComponent(k).replace(/[a-z]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)),
  fc.constantFrom(...attributionKeys).map((k) => ` ${k}\t`),
  fc.constantFrom('ATTRIBUTION.actor.id', 'attribution%2', 'attribution.%zz', 'xattribution.actor.id'),
  fc.integer({ min: 0, max: 40 }).map((i) => `filler${i}`),
  fc.string({ maxLength: 12 }),
);
const valueArb = fc.oneof(
  fc.constantFrom('human', 'tom', 'ceo', 'verified', 'msg-8821', 'cover-up', '', '%E0%A4%A', '%20', 'a%2Cb'),
  fc.string({ maxLength: 40 }),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.integer({ min: 3000, max: 5000 }).map((n) => 'x'.repeat(n)),
);
const memberArb = fc
  .tuple(
    keyArb,
    fc.constantFrom('=', ' = ', '', '=='),
    valueArb,
    fc.option(fc.constantFrom(';p', ';p=1', ';', ';;x=%41')),
  )
  .map(([k, eq, v, meta]) => `${k}${eq}${v}${meta ?? ''}`);
const headerStringArb = fc
  .tuple(
    fc.array(memberArb, { maxLength: 40 }),
    fc.nat({ max: 200 }),
    fc.array(memberArb, { maxLength: 6 }),
    fc.constantFrom(',', ', ', ' ,', ',,'),
  )
  // Filler entries before the interesting ones push them past any limit a parser might stop at.
  .map(([head, fillers, tail, sep]) =>
    [...head, ...Array.from({ length: fillers }, (_, i) => `f${i}=v`), ...tail].join(sep),
  );
const headerArb = fc.oneof(
  headerStringArb,
  fc.array(headerStringArb, { minLength: 1, maxLength: 3 }),
  fc.string({ maxLength: 300 }),
);

function coreEntries(carrier: Record<string, unknown>): Map<string, string> {
  const baggage = propagation.getBaggage(core.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter));
  return new Map((baggage?.getAllEntries() ?? []).map(([k, e]) => [k, e.value]));
}

function spanIn(ctx: Context, name: string) {
  context.with(ctx, () => t.tracer.startSpan(name).end());
  return t.span(name).attributes;
}

describe('inbound baggage, differentially against W3CBaggagePropagator', () => {
  it.each([
    ['after W3CBaggagePropagator', composite],
    ['after InboundBaggagePropagator', onbehalfComposite],
  ])(
    'onbehalf reads the attribution.* entries core reads, and the app keeps none of them (%s)',
    (_name, composite) => {
      let run = 0;
      fc.assert(
        fc.property(headerArb, (baggage) => {
          const carrier = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', baggage };
          const fromCore = coreEntries(carrier);
          const expected = new Map([...fromCore].filter(([k]) => k.startsWith('attribution.')));
          expect(inboundAttributionEntries(carrier, defaultTextMapGetter).entries).toEqual(expected);

          const ctx = composite.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
          const seen = new Map(
            (propagation.getBaggage(ctx)?.getAllEntries() ?? []).map(([k, e]) => [k, e.value]),
          );
          expect(seen).toEqual(new Map([...fromCore].filter(([k]) => !k.startsWith('attribution.'))));
          // Without a token signed by a trusted key, nothing is verified, and no claim fills a column.
          expect(getAttribution(ctx)?.provenance ?? 'none').not.toBe('verified');
          const attrs = spanIn(ctx, `fuzz-${_name}-${run++}`);
          const filled = Object.keys(attrs).filter(
            (k) => k.startsWith('attribution.') && !k.startsWith('attribution.claimed.'),
          );
          expect(filled.filter((k) => k !== 'attribution.provenance')).toEqual([]);
          expect([undefined, 'unverified']).toContain(attrs['attribution.provenance']);
        }),
        { numRuns: 400 },
      );
      expect(attribution.stats.failed).toBe(0);
    },
  );

  it('percent-encoded keys and entries after 64 fillers are read, and removed, as core reads them', () => {
    const fillers = Array.from({ length: 64 }, (_, i) => `f${i}=v`).join(',');
    for (const baggage of [
      'attribution%2Eprovenance=verified,attribution%2Eactor%2Etype=human,attribution.actor.id=tom',
      `${fillers},attribution.provenance=verified,attribution.principal.id=ceo,attribution.actor.type=human`,
    ]) {
      const carrier = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', baggage };
      expect(inboundAttributionEntries(carrier, defaultTextMapGetter).entries.size).toBeGreaterThan(0);
      const ctx = composite.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
      const attrs = spanIn(ctx, `named-${baggage.length}`);
      expect(attrs['attribution.provenance']).toBe('unverified');
      expect(attrs['attribution.actor.type']).toBeUndefined();
      expect(attrs['attribution.principal.id']).toBeUndefined();
    }
  });
});
