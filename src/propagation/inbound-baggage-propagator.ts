import {
  type Context,
  propagation,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { coreSdk } from '../otel/sdk-loader.js';
import { BAGGAGE_HEADER } from './baggage-limits.js';
import { inboundAttributionEntries } from './inbound-baggage.js';

/**
 * Core's W3C baggage propagator with its extract read once per header: the baggage the
 * `AttributionPropagator` after it reads is the same read (`inboundAttributionEntries`, cached by
 * header text), so a request's header, token and all, is parsed once, not once as plain baggage and
 * again for attribution. The app's baggage is what core extracts with the `attribution.*` entries
 * taken out, which the attribution propagator would remove anyway; inject is core's own.
 */
export class InboundBaggagePropagator implements TextMapPropagator {
  readonly #core: TextMapPropagator = new (coreSdk().W3CBaggagePropagator)();

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    this.#core.inject(ctx, carrier, setter);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    // Core leaves the context as it is without a header, or when the header has no entry it reads.
    if (getter.get(carrier, BAGGAGE_HEADER) === undefined) return ctx;
    const { appBaggage } = inboundAttributionEntries(carrier, getter);
    return appBaggage ? propagation.setBaggage(ctx, appBaggage) : ctx;
  }

  fields(): string[] {
    return this.#core.fields();
  }
}
