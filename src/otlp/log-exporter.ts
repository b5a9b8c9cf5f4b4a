// The OTLP/HTTP protobuf log exporter of the audit stream: OpenTelemetry's own, assembled from the
// same public parts its `OTLPLogExporter` is (the HTTP export delegate of `otlp-exporter-base`, and
// `otlp-transformer`'s protobuf serializer), with one change: attributes the conventions declare
// double are sent as `double_value` even when the number is whole (see double-attributes.ts).
import { ATTR_ONBEHALF_AUDIT_DURATION_MS } from '../conventions/generated.js';
import type { LogRecordExporter } from '../otel/sdk-interfaces.js';
import { otlpLogExporterRequire } from '../otel/sdk-loader.js';
import { logAttributesAsDouble } from './double-attributes.js';

/** Log record attributes of type double in onbehalf's conventions (conventions/registry.yaml). */
export const DOUBLE_LOG_ATTRIBUTES: ReadonlySet<string> = new Set([ATTR_ONBEHALF_AUDIT_DURATION_MS]);

/** Options of {@link createAuditOtlpLogExporter}, as `OTLPLogExporter` takes them. */
export interface AuditOtlpLogExporterOptions {
  url?: string;
  headers?: Record<string, string>;
}

interface Serializer {
  serializeRequest(request: unknown): Uint8Array | undefined;
  deserializeResponse(response: Uint8Array): unknown;
}

interface ExporterParts {
  base: { OTLPExporterBase: new (delegate: unknown) => LogRecordExporter };
  http: {
    convertLegacyHttpOptions(
      config: AuditOtlpLogExporterOptions,
      signal: string,
      path: string,
      headers: Record<string, string>,
    ): unknown;
    createOtlpHttpExportDelegate(
      options: unknown,
      serializer: Serializer,
      componentType: string,
      metricsHelper: unknown,
      meterProvider: undefined,
    ): unknown;
  };
  transformer: { ProtobufLogsSerializer: Serializer; LogsExporterMetricsHelper: unknown };
}

/**
 * An OTLP/HTTP (protobuf) log exporter: endpoint, headers, retries, timeouts, compression and the
 * `OTEL_EXPORTER_OTLP_*` variables exactly as `OTLPLogExporter`'s, the attributes in
 * {@link DOUBLE_LOG_ATTRIBUTES} always as `double_value`.
 */
export function createAuditOtlpLogExporter(config: AuditOtlpLogExporterOptions = {}): LogRecordExporter {
  const load = otlpLogExporterRequire();
  const parts: ExporterParts = {
    base: load('@opentelemetry/otlp-exporter-base'),
    http: load('@opentelemetry/otlp-exporter-base/node-http'),
    transformer: load('@opentelemetry/otlp-transformer'),
  };
  const sdkSerializer = parts.transformer.ProtobufLogsSerializer;
  const serializer: Serializer = {
    serializeRequest: (request) => {
      const bytes = sdkSerializer.serializeRequest(request);
      return bytes && logAttributesAsDouble(bytes, DOUBLE_LOG_ATTRIBUTES);
    },
    deserializeResponse: (response) => sdkSerializer.deserializeResponse(response),
  };
  const options = parts.http.convertLegacyHttpOptions(config, 'LOGS', 'v1/logs', {
    'Content-Type': 'application/x-protobuf',
  });
  const delegate = parts.http.createOtlpHttpExportDelegate(
    options,
    serializer,
    'otlp_http_log_exporter',
    parts.transformer.LogsExporterMetricsHelper,
    undefined,
  );
  return new parts.base.OTLPExporterBase(delegate);
}
