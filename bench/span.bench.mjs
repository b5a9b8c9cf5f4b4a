// Section 1: what stamping attribution costs per span. Start+end of one span under a realistic
// attribution, against the bare SDK (no processor) and against the contrib BaggageSpanProcessor
// copying as many entries from baggage.
import { pathToFileURL } from 'node:url';
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { BaggageSpanProcessor } from '@opentelemetry/baggage-span-processor';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider as BasicTracerProvider } from '@opentelemetry/sdk-trace';
import { do_not_optimize, measure } from 'mitata';
import { AttributionSpanProcessor, getAttribution, withAttribution } from '../dist/index.js';
import { attributionToAttributes } from '../dist/sdk/index.js';
import { ATTRIBUTION } from './fixtures.mjs';
import { atMost, below, row, settings } from './lib.mjs';

export async function run({ mode = 'quick', print = false } = {}) {
  const opts = settings(mode).mitata;
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  try {
    // The context a span inside withAttribution sees as its parent; captured once so the measured
    // loop pays for the span, not for AsyncLocalStorage.
    const attributed = withAttribution(ATTRIBUTION, () => context.active());
    const stamped = attributionToAttributes(getAttribution(attributed));
    const entries = Object.entries(stamped).map(([k, v]) => [
      k,
      { value: Array.isArray(v) ? v.join(',') : String(v) },
    ]);
    const withBaggage = propagation.setBaggage(
      ROOT_CONTEXT,
      propagation.createBaggage(Object.fromEntries(entries)),
    );

    const tracer = (processors) => new BasicTracerProvider({ spanProcessors: processors }).getTracer('bench');
    const bare = tracer([]);
    const attribution = tracer([new AttributionSpanProcessor({ env: {} })]);
    const baggage = tracer([new BaggageSpanProcessor(() => true)]);

    const cases = [
      [
        'span start+end, bare SDK (no processor)',
        () => bare.startSpan('execute_tool send_mail', undefined, attributed).end(),
      ],
      [
        `span start+end, AttributionSpanProcessor (${entries.length} attributes)`,
        () => attribution.startSpan('execute_tool send_mail', undefined, attributed).end(),
      ],
      [
        `span start+end, BaggageSpanProcessor (${entries.length} entries)`,
        () => baggage.startSpan('execute_tool send_mail', undefined, withBaggage).end(),
      ],
      [
        `span start+end, bare SDK + the same ${entries.length} attributes set by hand`,
        () => bare.startSpan('execute_tool send_mail', undefined, attributed).setAttributes(stamped).end(),
      ],
    ];
    const us = [];
    for (const [, fn] of cases) us.push((await measure(() => do_not_optimize(fn()), { ...opts })).p50 / 1000);
    const span = (i, extra = {}) =>
      row({ section: 'span', name: cases[i][0], value: us[i], unit: 'µs', better: 'lower', ...extra });
    const bareRow = span(0);
    const baggageRow = span(2, { baseline: bareRow });
    const rows = [
      bareRow,
      span(1, { baseline: bareRow, goal: atMost(1.1) }),
      baggageRow,
      span(1, { baseline: baggageRow, goal: below(1) }),
      // The floor: what the SDK itself charges for writing these attributes, whoever writes them.
      span(3, { baseline: bareRow }),
      span(1, { baseline: span(3) }),
    ];
    if (print) console.table(rows.map(({ name, value, ratio }) => ({ name, value, ratio })));
    return rows;
  } finally {
    context.disable();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run({ print: true });
