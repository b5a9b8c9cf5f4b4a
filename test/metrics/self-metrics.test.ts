// onbehalf's own health as OpenTelemetry metrics, read from a real MeterProvider of the SDK: events
// stored and lost, gap records, store errors, and inbound tokens by verification result. Every value
// must equal what the `stats` objects say, since the metrics are read from them.
import {
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  metrics,
  ROOT_CONTEXT,
} from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Attribution, withAttribution } from '../../src/attribution/attribution.js';
import { generateSigningKey } from '../../src/keys/keys.js';
import {
  METRIC_EVENTS_LOST,
  METRIC_EVENTS_STORED,
  METRIC_GAP_RECORDS,
  METRIC_PROBLEMS,
  METRIC_STORE_ERRORS,
  METRIC_TOKENS,
  observeOnbehalfMetrics,
} from '../../src/metrics/self-metrics.js';
import { AttributionPropagator } from '../../src/propagation/attribution-propagator.js';
import { setupTracing } from '../fixtures/tracing.js';
import { pipelineWithGap } from '../helpers/audit.js';
import { trustedKey } from '../helpers/keys.js';
import { meterProviderWithReader } from '../helpers/metrics-sdk.js';

const sdk = meterProviderWithReader();
beforeAll(() => {
  // Registered after onbehalf's module loaded, as an app would: observeOnbehalfMetrics picks it up.
  metrics.setGlobalMeterProvider(sdk.provider);
  observeOnbehalfMetrics();
});
afterAll(async () => {
  await sdk.provider.shutdown();
  metrics.disable();
});

/** How much each point grew between two reads. */
function growth(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of after) if (v !== (before.get(k) ?? 0)) out[k] = v - (before.get(k) ?? 0);
  return out;
}

describe('audit metrics through the global MeterProvider', () => {
  it('count events stored and lost, gap records and store errors, as the processor’s stats do', async () => {
    const before = await sdk.read();
    // 5 tool calls into a queue of 2: 3 lost, recorded by one gap record, so 2 events + 1 gap stored.
    const pl = await pipelineWithGap(5, 2);
    try {
      const afterGap = await sdk.read();
      expect(growth(before, afterGap)).toEqual({
        [METRIC_EVENTS_STORED]: 3,
        [METRIC_EVENTS_LOST]: 3,
        [METRIC_GAP_RECORDS]: 1,
        // Each lost event is also a problem reported through the problem channel.
        [`${METRIC_PROBLEMS}{onbehalf.problem.code=audit.events_lost}`]: 3,
      });
      expect(pl.auditProcessor.stats).toMatchObject({ stored: 3, lost: 3, gapRecords: 1, storeErrors: 0 });

      // The store goes away under the writer: the next write fails and is counted as a store error.
      await pl.store.close();
      pl.tracer
        .startSpan('execute_tool after_close', {
          attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'after_close' },
        })
        .end();
      await pl.auditProcessor.forceFlush();
      const afterError = await sdk.read();
      expect(growth(afterGap, afterError)).toEqual({
        [METRIC_STORE_ERRORS]: pl.auditProcessor.stats.storeErrors,
        [`${METRIC_PROBLEMS}{onbehalf.problem.code=store.unwritable}`]: pl.auditProcessor.stats.storeErrors,
      });
      expect(pl.auditProcessor.stats.storeErrors).toBeGreaterThan(0);
    } finally {
      await pl.teardown().catch(() => undefined);
    }
  });
});

describe('token metrics', () => {
  it('count inbound tokens by verification result, rejections by reason', async () => {
    const t = setupTracing({ env: {}, defaultActor: { type: 'service', id: 'svc:tool' } });
    try {
      const agentKey = generateSigningKey();
      const agent = new AttributionPropagator({ signingKey: agentKey });
      const tool = new AttributionPropagator({ trustedKeys: [trustedKey(agentKey, 'agent:nhi:agent-7f3')] });
      const stranger = new AttributionPropagator({
        trustedKeys: [trustedKey(generateSigningKey(), 'agent:x')],
      });
      const tom: Attribution = { actor: { type: 'agent', id: 'nhi:agent-7f3' }, principal: { id: 'tom' } };
      const call = () =>
        withAttribution(tom, () =>
          t.tracer.startActiveSpan('call', (span) => {
            const headers: Record<string, string> = {
              traceparent: `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
            };
            agent.inject(context.active(), headers, defaultTextMapSetter);
            span.end();
            return headers;
          }),
        );
      const extract = (p: AttributionPropagator, h: Record<string, string>): Context =>
        p.extract(ROOT_CONTEXT, h, defaultTextMapGetter);

      const before = await sdk.read();
      const first = call();
      extract(tool, first);
      extract(tool, call());
      extract(tool, { ...first }); // the same request again: a replay
      extract(stranger, call()); // signed by a key this receiver does not know
      const after = await sdk.read();
      const grew = growth(before, after);
      expect(grew[`${METRIC_TOKENS}{onbehalf.attribution.token.result=verified}`]).toBe(2);
      expect(
        grew[
          `${METRIC_TOKENS}{onbehalf.attribution.token.reason=replay,onbehalf.attribution.token.result=rejected}`
        ],
      ).toBe(1);
      const unknown = Object.entries(stranger.stats.rejected);
      expect(unknown).toHaveLength(1);
      expect(
        grew[
          `${METRIC_TOKENS}{onbehalf.attribution.token.reason=${unknown[0]![0]},onbehalf.attribution.token.result=rejected}`
        ],
      ).toBe(1);
      expect(tool.stats).toMatchObject({ verified: 2, rejected: { replay: 1 } });
    } finally {
      t.teardown();
    }
  });
});
