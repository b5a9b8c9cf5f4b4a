// The Jaeger and SIEM examples need a container engine, which the tests do not have: what can be checked
// here is that their YAML parses and wires the right receivers, exporters and pipelines.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const examples = join(import.meta.dirname, '../../examples');
type Doc = Record<string, unknown>;
const load = (path: string) => parse(readFileSync(join(examples, path), 'utf8')) as Doc;

interface Compose {
  services: Record<string, { image: string; ports?: string[]; volumes?: string[]; command?: string[] }>;
}
interface CollectorConfig {
  receivers: Record<string, { protocols: Record<string, { endpoint: string }> }>;
  processors: Record<string, { logs?: { log_record: string[] } }>;
  exporters: Record<string, Doc>;
  service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
}

describe('examples/jaeger', () => {
  it('runs Jaeger v2 with OTLP/HTTP on 4318 and the UI on 16686', () => {
    const compose = load('jaeger/compose.yaml') as unknown as Compose;
    const jaeger = compose.services.jaeger!;
    expect(jaeger.image).toMatch(/^jaegertracing\/jaeger:2\./);
    expect(jaeger.ports).toEqual(expect.arrayContaining(['4318:4318', '16686:16686']));
    expect(compose.services.postgres?.image).toMatch(/^postgres:/);
    const readme = readFileSync(join(examples, 'jaeger/README.md'), 'utf8');
    expect(readme).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318');
    expect(readme).toMatch(/cannot run in the project's own test environment/);
  });
});

describe('examples/siem', () => {
  const config = load('siem/collector.yaml') as unknown as CollectorConfig;

  it('receives OTLP over HTTP on 4318 (what the agents send) and gRPC', () => {
    expect(config.receivers.otlp?.protocols.http?.endpoint).toBe('0.0.0.0:4318');
    expect(config.receivers.otlp?.protocols.grpc).toBeDefined();
  });

  it('sends traces to Jaeger and only the audit log records to the SIEM', () => {
    const { traces, 'logs/audit': logs } = config.service.pipelines;
    expect(traces).toEqual({ receivers: ['otlp'], processors: ['batch'], exporters: ['otlp/jaeger'] });
    expect(config.exporters['otlp/jaeger']).toMatchObject({ endpoint: 'jaeger:4317' });
    expect(logs?.receivers).toEqual(['otlp']);
    expect(logs?.exporters).toEqual(expect.arrayContaining(['splunk_hec/siem', 'file/checkpoints']));
    expect(logs?.processors[0]).toBe('filter/audit_only');
    // Every component a pipeline names is defined.
    for (const pipeline of Object.values(config.service.pipelines)) {
      for (const r of pipeline.receivers) expect(config.receivers[r], r).toBeDefined();
      for (const p of pipeline.processors) expect(config.processors[p], p).toBeDefined();
      for (const e of pipeline.exporters) expect(config.exporters[e], e).toBeDefined();
    }
  });

  it('filters on the event names onbehalf writes', async () => {
    const { AUDIT_EVENT_NAME, AUDIT_CHECKPOINT_NAME } = await import('../../src/otlp/log-record.js');
    const [condition] = config.processors['filter/audit_only']!.logs!.log_record;
    // The filter drops what does NOT match: the pattern must match both names and nothing else.
    const pattern = /IsMatch\(attributes\["event\.name"\], "(.+)"\)/
      .exec(condition!)![1]!
      .replace(/\\\\/g, '\\');
    const re = new RegExp(pattern);
    expect(re.test(AUDIT_EVENT_NAME)).toBe(true);
    expect(re.test(AUDIT_CHECKPOINT_NAME)).toBe(true);
    expect(re.test('app.login')).toBe(false);
  });

  it('mounts the collector config into the contrib Collector next to Jaeger v2', () => {
    const compose = load('siem/compose.yaml') as unknown as Compose;
    expect(compose.services.collector?.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
    expect(compose.services.collector?.volumes).toContain('./collector.yaml:/etc/otelcol/collector.yaml:ro');
    expect(compose.services.jaeger?.image).toMatch(/^jaegertracing\/jaeger:2\./);
  });
});
