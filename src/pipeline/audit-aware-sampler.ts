import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import { type Sampler, SamplingDecision, type SamplingResult } from '../otel/sdk-interfaces.js';
import { STARTUP_CHECK_ATTRIBUTE } from '../otel/startup-check-attribute.js';

/**
 * Never lets sampling hide an audit-relevant span. Whatever the delegate samples is sampled as
 * before; what it drops is still recorded (`RECORD`, not sampled), so span processors see it and the
 * {@link AuditSpanProcessor} can write it to the audit store, while exporters (which only export
 * sampled spans) send exactly what the delegate chose.
 *
 * Whether a span is audit-relevant is only known at its end (frameworks add their tool attributes
 * late), so every dropped span is recorded; the cost is recording, never exporting.
 *
 * @example
 * new NodeSDK({ sampler: new AuditAwareSampler(new TraceIdRatioBasedSampler(0.01)), ... })
 */
export class AuditAwareSampler implements Sampler {
  constructor(private readonly delegate: Sampler) {}

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    // onbehalf's start-up check: recorded so processors see it, never sampled, so never exported.
    if (attributes[STARTUP_CHECK_ATTRIBUTE] === true) return { decision: SamplingDecision.RECORD };
    const result = this.delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    if (result.decision !== SamplingDecision.NOT_RECORD) return result;
    return { ...result, decision: SamplingDecision.RECORD };
  }

  toString(): string {
    return `AuditAwareSampler{${this.delegate.toString()}}`;
  }
}
