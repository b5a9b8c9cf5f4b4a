// The OpenTelemetry metrics SDK as the tests load it: the copy `@opentelemetry/sdk-node` resolves, so
// the same test runs on both supported SDK lines (2.x and 3.x), and a MetricReader read on demand.
import { createRequire } from 'node:module';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');
const requireHere = createRequire(import.meta.url);
const sdkMetrics = createRequire(requireHere.resolve('@opentelemetry/sdk-node'))(
  '@opentelemetry/sdk-metrics',
) as SdkMetrics;

/** A real MeterProvider with a reader the test collects from, and its points as `name{attrs}` → value. */
export function meterProviderWithReader() {
  class OnDemandReader extends sdkMetrics.MetricReader {
    protected override onShutdown(): Promise<void> {
      return Promise.resolve();
    }
    protected override onForceFlush(): Promise<void> {
      return Promise.resolve();
    }
  }
  const reader = new OnDemandReader();
  const provider = new sdkMetrics.MeterProvider({ readers: [reader] });
  return {
    provider,
    /** Every data point of every metric, keyed `name` or `name{k=v,…}`. */
    async read(): Promise<Map<string, number>> {
      const { resourceMetrics } = await reader.collect();
      const points = new Map<string, number>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          for (const point of metric.dataPoints as {
            attributes: Record<string, unknown>;
            value: unknown;
          }[]) {
            const attrs = Object.entries(point.attributes)
              .map(([k, v]) => `${k}=${String(v)}`)
              .sort()
              .join(',');
            points.set(
              attrs ? `${metric.descriptor.name}{${attrs}}` : metric.descriptor.name,
              Number(point.value),
            );
          }
        }
      }
      return points;
    },
  };
}
