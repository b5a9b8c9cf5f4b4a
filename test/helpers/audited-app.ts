// Runs an app as a child process the way a user would (node, only the variables given, a SQLite store
// of its own, traces to a loopback OTLP receiver), then reads back the audit rows it stored.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { StoredAuditEvent } from '../../src/pipeline/event.js';
import { openAuditStore } from '../../src/stores/open.js';

const run = promisify(execFile);

/** How to run one app. */
export interface AuditedAppRun {
  /** Node's arguments: `--import`s, then the app file. */
  args: string[];
  cwd: string;
  /** The SQLite file the app's audit store goes to (`ONBEHALF_STORE`). */
  store: string;
  /** Where the app's OTLP exporters send (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
  otlpEndpoint: string;
  /** More variables; nothing else of this process's environment is passed on. */
  env?: Record<string, string>;
}

/** What the app printed and the `action` rows its store holds. Rejects when the app fails. */
export async function runAuditedApp(options: AuditedAppRun): Promise<{
  stdout: string;
  stderr: string;
  rows: StoredAuditEvent[];
}> {
  const { stdout, stderr } = await run(process.execPath, options.args, {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? options.cwd,
      OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpEndpoint,
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      ONBEHALF_STORE: options.store,
      ...options.env,
    },
  });
  const opened = await openAuditStore(options.store);
  try {
    return { stdout, stderr, rows: await opened.query({ recordTypes: ['action'] }) };
  } finally {
    await opened.close();
  }
}
