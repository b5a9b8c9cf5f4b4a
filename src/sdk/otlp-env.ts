import { coreSdk } from '../otel/sdk-loader.js';

/**
 * Where an OTLP/HTTP exporter sends one signal, read from the given environment rather than
 * `process.env` (which the OpenTelemetry exporters read by themselves), so `startOnbehalf({ env })`
 * configures the trace and audit log exporters alike. Follows the OTLP exporter specification: the
 * signal's own endpoint is used as is, the general one gets `/v1/<signal>` appended, and the signal's
 * headers are merged over the general ones.
 */

/** Where one signal's OTLP/HTTP exporter sends, and with which headers. */
export interface OtlpHttpTarget {
  url: string;
  headers?: Record<string, string>;
}

/** The target of `signal`, or undefined when neither endpoint variable is set. */
export function otlpTargetFromEnv(
  env: Record<string, string | undefined>,
  signal: 'traces' | 'logs',
): OtlpHttpTarget | undefined {
  const upper = signal.toUpperCase();
  const specific = env[`OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`]?.trim();
  const general = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = specific || (general ? `${general.replace(/\/+$/, '')}/v1/${signal}` : undefined);
  if (!url) return undefined;
  const headers = {
    ...coreSdk().parseKeyPairsIntoRecord(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...coreSdk().parseKeyPairsIntoRecord(env[`OTEL_EXPORTER_OTLP_${upper}_HEADERS`]),
  };
  return Object.keys(headers).length ? { url, headers } : { url };
}
