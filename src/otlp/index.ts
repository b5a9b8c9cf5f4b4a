// onbehalf/otlp: audit events and checkpoints as OpenTelemetry log records (and OCSF), for a SIEM.

export {
  AUDIT_LOGGER_NAME,
  AuditLogExporter,
  type AuditLogExporterOptions,
  type AuditLoggerProviderOptions,
  createAuditLoggerProvider,
} from './audit-log-exporter.js';
export {
  AUDIT_CHECKPOINT_NAME,
  AUDIT_EVENT_NAME,
  type AuditLogFormat,
  auditEventAttributes,
  auditEventToLogRecord,
  checkpointToLogRecord,
} from './log-record.js';
export { OCSF_API_ACTIVITY_CLASS, OCSF_VERSION, toOcsfApiActivity } from './ocsf.js';
