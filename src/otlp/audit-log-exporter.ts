import { reportProblem } from '../metrics/problem-channel.js';
import type {
  Logger,
  LoggerProvider,
  LogRecordExporter,
  ShutdownLoggerProvider,
} from '../otel/sdk-interfaces.js';
import { logsSdk, resourcesSdk } from '../otel/sdk-loader.js';
import type { StoredAuditEvent } from '../pipeline/event.js';
import type { AuditStore, StoredCheckpoint } from '../stores/audit-store.js';
import { createAuditOtlpLogExporter } from './log-exporter.js';
import { type AuditLogFormat, auditEventToLogRecord, checkpointToLogRecord } from './log-record.js';

/** Instrumentation scope of the audit log records. */
export const AUDIT_LOGGER_NAME = 'onbehalf.audit';

/** Options of {@link AuditLogExporter}. */
export interface AuditLogExporterOptions {
  /** Where the records go; e.g. {@link createAuditLoggerProvider}'s OTLP/HTTP provider. */
  loggerProvider: LoggerProvider;
  /** `text` (default): body is the one-line summary; `ocsf`: body is the OCSF API Activity object. */
  format?: AuditLogFormat;
}

/**
 * Sends what an audit store commits, and every checkpoint it signs, as OpenTelemetry log records, so
 * a Collector can forward them to a SIEM and a copy of each checkpoint lives off-host. The store stays
 * the record: the log stream is a best-effort copy (a full export queue drops records, never blocks).
 *
 * @example
 * const provider = createAuditLoggerProvider({ serviceName: 'inbox-agent' });
 * new AuditLogExporter({ loggerProvider: provider }).attach(store);
 */
export class AuditLogExporter {
  private readonly logger: Logger;
  private readonly format: AuditLogFormat;

  constructor(options: AuditLogExporterOptions) {
    this.logger = options.loggerProvider.getLogger(AUDIT_LOGGER_NAME);
    this.format = options.format ?? 'text';
  }

  /** Emits the store's appended rows and checkpoints from now on. */
  attach(store: AuditStore): this {
    if (store.onAppend) store.onAppend((rows) => this.emitEvents(rows));
    else
      reportProblem({
        code: 'otlp.emit_failed',
        component: 'audit-log-exporter',
        message: `store ${store.location} cannot report appends; only checkpoints go to OTLP logs`,
      });
    store.onCheckpoint((cp) => this.emitCheckpoint(cp));
    return this;
  }

  /** Emits one log record per stored row. Never throws. */
  emitEvents(rows: readonly StoredAuditEvent[]): void {
    for (const row of rows) {
      try {
        this.logger.emit(auditEventToLogRecord(row, this.format));
      } catch (err) {
        reportProblem({
          code: 'otlp.emit_failed',
          component: 'audit-log-exporter',
          message: 'could not emit an audit log record',
          cause: err,
          source: this,
        });
      }
    }
  }

  /** Emits a signed checkpoint. Never throws. */
  emitCheckpoint(cp: StoredCheckpoint): void {
    try {
      this.logger.emit(checkpointToLogRecord(cp));
    } catch (err) {
      reportProblem({
        code: 'otlp.emit_failed',
        component: 'audit-log-exporter',
        message: 'could not emit a checkpoint log record',
        cause: err,
        source: this,
      });
    }
  }
}

/** Options of {@link createAuditLoggerProvider}. */
export interface AuditLoggerProviderOptions {
  /**
   * Default: OTLP/HTTP protobuf to `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`,
   * double attributes always as `double_value`.
   */
  exporter?: LogRecordExporter;
  /** Explicit endpoint of the default exporter (a full URL ending in `/v1/logs`). */
  url?: string;
  /** Headers of the default exporter (e.g. the SIEM's or Collector's API key). */
  headers?: Record<string, string>;
  /** `service.name` of the records' resource. */
  serviceName?: string;
  /** The resource attributes; the SDK's default resource plus `serviceName` otherwise. */
  resourceAttributes?: Record<string, string>;
}

/**
 * A LoggerProvider of its own for audit records (the host's logging setup is left alone), with a
 * BatchLogRecordProcessor whose queue holds a burst of 10 000 records. Shut it down after the store is
 * closed, so the last checkpoint is sent too.
 */
export function createAuditLoggerProvider(options: AuditLoggerProviderOptions = {}): ShutdownLoggerProvider {
  const { LoggerProvider: SdkLoggerProvider, BatchLogRecordProcessor } = logsSdk();
  const { defaultResource, resourceFromAttributes } = resourcesSdk();
  // Not the SDK's OTLPLogExporter as is: it sends a whole-number double as int_value (log-exporter.ts).
  const exporter = (options.exporter ??
    createAuditOtlpLogExporter({ url: options.url, headers: options.headers })) as ConstructorParameters<
    typeof BatchLogRecordProcessor
  >[0]['exporter'];
  const attributes = {
    ...(options.serviceName ? { 'service.name': options.serviceName } : {}),
    ...options.resourceAttributes,
  };
  return new SdkLoggerProvider({
    resource: defaultResource().merge(resourceFromAttributes(attributes)),
    processors: [new BatchLogRecordProcessor({ exporter, maxQueueSize: 10_000, maxExportBatchSize: 512 })],
  });
}
