import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { afterEach, describe, expect, it } from 'vitest';
import { withAttribution } from '../../src/attribution/attribution.js';
import { audited } from '../../src/attribution/audited.js';
import { type OnbehalfHandle, startOnbehalf } from '../../src/sdk/start.js';
import { type ReadableSpan, SimpleSpanProcessor, type SpanExporter } from '../helpers/trace-sdk.js';

let handle: OnbehalfHandle | undefined;
afterEach(async () => {
  await handle?.shutdown();
  handle = undefined;
  // NodeSDK registers globals; clear them so the next test starts from nothing.
  trace.disable();
  context.disable();
  propagation.disable();
});

/**
 * Keeps what it was given even after shutdown (the in-memory exporter forgets then), since the NodeSDK's
 * resource detection makes export asynchronous and shutdown is the reliable flush.
 */
class CapturingExporter implements SpanExporter {
  readonly spans: ReadableSpan[] = [];
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.spans.push(...spans);
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function start(env: Record<string, string>) {
  const exporter = new CapturingExporter();
  handle = startOnbehalf({
    env,
    store: join(mkdtempSync(join(tmpdir(), 'onbehalf-start-')), 'audit.db'),
    traceExporter: false,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    instrumentations: [],
  });
  return { exporter, handle };
}

describe('startOnbehalf', () => {
  it('wires the attribution processor first, with the default actor from the given env', async () => {
    const { exporter, handle } = start({
      ONBEHALF_AGENT_ID: 'nhi:agent-7f3',
      ONBEHALF_AGENT_NAME: 'inbox-agent',
      ONBEHALF_AGENT_OWNER: 'tom',
    });
    expect(handle.attributionProcessor.actor).toEqual({
      type: 'agent',
      id: 'nhi:agent-7f3',
      name: 'inbox-agent',
      ownerId: 'tom',
    });
    trace.getTracer('app').startSpan('outside').end();
    await withAttribution(
      { actor: { type: 'agent', id: 'nhi:agent-c21' }, principal: { id: 'tom', type: 'human' } },
      () => audited('send_mail', { policy: { decision: 'allow' } }, () => undefined),
    );
    await handle.shutdown();
    const spans = exporter.spans;
    const outside = spans.find((s) => s.name === 'outside');
    const tool = spans.find((s) => s.name === 'execute_tool send_mail');
    expect(outside?.attributes['attribution.actor.id']).toBe('nhi:agent-7f3');
    expect(outside?.attributes['attribution.principal.id']).toBeUndefined();
    expect(tool?.attributes['attribution.actor.id']).toBe('nhi:agent-c21');
    expect(tool?.attributes['attribution.principal.id']).toBe('tom');
    expect(tool?.attributes['attribution.result']).toBe('ok');
    // The service name defaults to the agent's name when OTEL_SERVICE_NAME is not set.
    expect(outside?.resource.attributes['service.name']).toBe('inbox-agent');
  });

  it('propagates W3C trace context and baggage', () => {
    start({});
    const tracer = trace.getTracer('app');
    const carrier: Record<string, string> = {};
    tracer.startActiveSpan('outbound', (span) => {
      const ctx = propagation.setBaggage(context.active(), propagation.createBaggage({ k: { value: 'v' } }));
      propagation.inject(ctx, carrier);
      span.end();
    });
    expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(carrier.baggage).toBe('k=v');
    const extracted = propagation.extract(ROOT_CONTEXT, carrier);
    expect(trace.getSpanContext(extracted)?.traceId).toBe(carrier.traceparent?.split('-')[1]);
  });

  it('shutdown can be called twice', async () => {
    const { handle } = start({});
    await handle.shutdown();
    await expect(handle.shutdown()).resolves.toBeUndefined();
  });
});
