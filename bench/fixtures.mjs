// The audited span every audit benchmark feeds in: what `audited('send_mail', …)` under the seed
// scenario's attribution leaves behind, stamped by the real AttributionSpanProcessor.
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider as BasicTracerProvider } from '@opentelemetry/sdk-trace';
import { AttributionSpanProcessor, withAttribution } from '../dist/index.js';

export const ATTRIBUTION = {
  actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
  principal: { id: 'tom', type: 'human', roles: ['customer'] },
  trigger: { type: 'email', id: 'msg-8821' },
  intent: { id: 'task-41', name: 'answer_order_question' },
  sessionId: 'sess-5521',
  scopes: ['orders:read', 'mail:send'],
};

/** The attributes `audited()` sets on its span (see src/attribution/audited.ts), for a tool call of tier `riskTier`. */
export function auditedAttributes(i = 0, riskTier = 1) {
  return {
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': 'send_mail',
    'gen_ai.tool.call.id': `call-${i}`,
    'attribution.action': 'send_mail',
    'attribution.target': `customer-${i % 97}@acme.example`,
    'attribution.risk_tier': riskTier,
    'attribution.policy.decision': 'allow',
    'attribution.policy.rule': 'mail.send.customers',
    'attribution.approval.state': 'not_required',
    'gen_ai.tool.call.arguments': JSON.stringify({
      to: `customer-${i % 97}@acme.example`,
      subject: `Re: order #${10_000 + i}`,
      body: 'Your order shipped on Monday and should arrive within three working days.',
    }),
    'attribution.result': 'ok',
  };
}

/** A context carrying the attribution, as a span inside withAttribution sees it. */
export function attributedContext() {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  try {
    return withAttribution(ATTRIBUTION, () => context.active());
  } finally {
    context.disable();
  }
}

/** `n` ended, audit-relevant spans, each with its own target and arguments, as the audit processor sees them. */
export function auditedSpans(n = 16) {
  const ctx = attributedContext() ?? ROOT_CONTEXT;
  const tracer = new BasicTracerProvider({
    spanProcessors: [new AttributionSpanProcessor({ env: {} })],
  }).getTracer('onbehalf-bench');
  return Array.from({ length: n }, (_, i) => {
    const span = tracer.startSpan('execute_tool send_mail', { attributes: auditedAttributes(i) }, ctx);
    span.end();
    return span;
  });
}

/**
 * The audit event `audited('lookup_order', { target, riskTier: 0 })` leaves under the seed
 * scenario's attribution, mapped as the audit processor maps it: the row the HTTP floor inserts.
 */
export async function lookupOrderEvent() {
  const { recognizeToolCall, spanToAuditEvent } = await import('../dist/sdk/index.js');
  const ctx = attributedContext() ?? ROOT_CONTEXT;
  const tracer = new BasicTracerProvider({
    spanProcessors: [new AttributionSpanProcessor({ env: {} })],
  }).getTracer('onbehalf-bench');
  const span = tracer.startSpan(
    'execute_tool lookup_order',
    {
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'lookup_order',
        'attribution.action': 'lookup_order',
        'attribution.target': 'order-1',
        'attribution.risk_tier': 0,
        'attribution.result': 'ok',
      },
    },
    ctx,
  );
  span.end();
  return spanToAuditEvent(span, recognizeToolCall(span), 'action');
}
