// Sampling never hides an audit-relevant span: with AuditAwareSampler every audited action reaches the
// store, while an exporter behind a SimpleSpanProcessor still gets only what the delegate sampled.
import { context, SpanKind, TraceFlags } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { withAttribution } from '../../src/attribution/attribution.js';
import { audited } from '../../src/attribution/audited.js';
import { AuditAwareSampler } from '../../src/pipeline/audit-aware-sampler.js';
import { inboxAgent } from '../fixtures/seed.js';
import { type AuditPipeline, setupAuditPipeline } from '../helpers/audit.js';
import { AlwaysOffSampler, SamplingDecision, TraceIdRatioBasedSampler } from '../helpers/trace-sdk.js';

let p: AuditPipeline | undefined;
afterEach(async () => {
  await p?.teardown();
  p = undefined;
});

async function runActions(n: number): Promise<void> {
  await withAttribution(inboxAgent, async () => {
    for (let i = 0; i < n; i++) {
      // Each a root span, so each gets its own trace id and its own sampling decision.
      await audited('label_mail', { target: `msg-${i}`, riskTier: 1 }, () => i);
    }
  });
}

describe('AuditAwareSampler', () => {
  it('keeps every audited action under AlwaysOff, and exports none', async () => {
    p = setupAuditPipeline({ sampler: new AuditAwareSampler(new AlwaysOffSampler()) });
    await runActions(20);
    // A plain span is recorded too (relevance is only known at its end) but neither stored nor exported.
    p.tracer.startSpan('plain').end();
    expect(p.rows().map((r) => r.target)).toEqual(Array.from({ length: 20 }, (_, i) => `msg-${i}`));
    expect(p.exporter.getFinishedSpans()).toEqual([]);
  });

  it('without it, AlwaysOff records no audited action: the test above can fail, and a gap says so', async () => {
    p = setupAuditPipeline({ sampler: new AlwaysOffSampler() });
    await runActions(5);
    await p.auditProcessor.forceFlush();
    const rows = p.rows();
    expect(rows.filter((r) => r.record_type !== 'gap')).toEqual([]);
    const lost = rows.map((r) => JSON.parse(r.attributes ?? '{}').lost as number);
    expect(lost.reduce((a, b) => a + b, 0)).toBe(5);
    expect(rows[0]?.attributes).toContain('not sampled');
  });

  it('keeps all 200 actions under a 1% ratio sampler; the exporter gets exactly the sampled ones', async () => {
    const ratio = new TraceIdRatioBasedSampler(0.01);
    p = setupAuditPipeline({ sampler: new AuditAwareSampler(ratio) });
    await runActions(200);
    const rows = p.rows();
    expect(rows).toHaveLength(200);
    expect(new Set(rows.map((r) => r.target)).size).toBe(200);
    expect(p.auditProcessor.stats).toMatchObject({ stored: 200, lost: 0, pending: 0 });

    // Ask the delegate itself which of these traces it samples: that set, and only it, is exported.
    const sampledByDelegate = rows
      .filter(
        (r) =>
          ratio.shouldSample(context.active(), r.trace_id!).decision === SamplingDecision.RECORD_AND_SAMPLED,
      )
      .map((r) => r.span_id)
      .sort();
    const exported = p.exporter.getFinishedSpans();
    expect(exported.map((s) => s.spanContext().spanId).sort()).toEqual(sampledByDelegate);
    expect(exported.length).toBeLessThan(200 / 4);
    for (const s of exported)
      expect(s.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(TraceFlags.SAMPLED);
  });

  it('passes the delegate decision through when it samples', () => {
    const sampler = new AuditAwareSampler(new TraceIdRatioBasedSampler(1));
    const r = sampler.shouldSample(context.active(), 'a'.repeat(32), 'x', SpanKind.INTERNAL, {}, []);
    expect(r.decision).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    const off = new AuditAwareSampler(new AlwaysOffSampler());
    expect(off.shouldSample(context.active(), 'a'.repeat(32), 'x', SpanKind.INTERNAL, {}, []).decision).toBe(
      SamplingDecision.RECORD,
    );
    expect(off.toString()).toContain('AlwaysOff');
  });
});
