import { writeFileSync } from 'node:fs';
import { loadTrustedKeys } from '../../keys/keys.js';
import { collectReport } from '../../report/collect.js';
import { isHttpUrl } from '../../report/escape.js';
import { renderReport } from '../../report/html-report.js';
import type { ReportScope } from '../../report/model.js';
import type { AuditStore } from '../../stores/audit-store.js';
import { oneLine } from '../../text/safe-text.js';
import { CliError, verdictExit } from '../errors.js';
import { readCheckpointNotes } from './checkpoints.js';

/** Where `onbehalf report` writes when `--out` is not given. */
export const DEFAULT_REPORT_FILE = 'onbehalf-report.html';

/** Options of {@link report}. */
export interface ReportCommandOptions {
  /** Output file; {@link DEFAULT_REPORT_FILE} by default. */
  out?: string;
  /** Base URL of a Jaeger UI (http or https); rows then link to `<url>/trace/<trace_id>`. */
  jaegerUrl?: string;
  /** When the report is made; now by default. */
  now?: Date;
  /** JWKS file or URL of the keys trusted to sign checkpoints (`--trusted-keys`). */
  trustedKeys?: string;
  /** Checkpoint notes kept off-host: files or directories of `*.note` (`--checkpoint`). */
  checkpoints?: string[];
}

/**
 * `onbehalf report STORE [--trigger ID] [--actor ID] [--on-behalf-of ID] [--since ISO] [--until ISO]
 * [--jaeger-url URL] [--trusted-keys JWKS] [--checkpoint FILE|DIR]... [--out FILE]`: one self-contained HTML page a reviewer can read, print or attach
 * to a ticket. The file is written even for a tampered store (the page then says so at the top, and
 * the command on stderr); the exit code is the one `verify` gives for the same store and options.
 */
export async function report(
  store: AuditStore,
  scope: ReportScope,
  options: ReportCommandOptions,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  if (options.jaegerUrl !== undefined && !isHttpUrl(options.jaegerUrl)) {
    throw new CliError(`--jaeger-url: expected an http(s) URL, got ${options.jaegerUrl}`);
  }
  for (const [flag, value] of [
    ['--since', scope.since],
    ['--until', scope.until],
  ] as const) {
    if (value !== undefined && Number.isNaN(Date.parse(value))) {
      throw new CliError(`${flag}: expected an ISO 8601 date or time, got ${value}`);
    }
  }
  const file = options.out ?? DEFAULT_REPORT_FILE;
  const input = await collectReport(store, scope, {
    jaegerUrl: options.jaegerUrl,
    now: options.now,
    trustedKeys: options.trustedKeys ? await loadTrustedKeys(options.trustedKeys) : undefined,
    externalCheckpoints: readCheckpointNotes(options.checkpoints ?? []),
  });
  try {
    writeFileSync(file, renderReport(input));
  } catch (e) {
    throw new CliError(`--out ${file}: cannot write: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  const v = input.verification;
  const word = v.verdict === 'intact' ? 'intact' : v.verdict === 'tampered' ? 'TAMPERED' : 'UNVOUCHED';
  out(
    `wrote ${oneLine(file)}: ${input.rows.length} record(s); store ${word}, ${v.count} event(s) verified\n`,
  );
  if (v.verdict === 'tampered') {
    const where = v.origin === undefined ? 'the database' : `log ${oneLine(v.origin)}`;
    err(
      `onbehalf: warning: store TAMPERED: ${where} breaks at seq ${v.firstBadSeq ?? '?'}: ${oneLine(v.reason)}\n`,
    );
  } else if (v.verdict === 'unvouched') {
    err(`onbehalf: warning: store not vouched for: log ${oneLine(v.origin)}: ${oneLine(v.reason)}\n`);
  }
  if (v.gaps.records > 0) {
    err(
      `onbehalf: warning: the store holds ${v.gaps.records} gap record(s): ${v.gaps.lost} event(s) were not recorded\n`,
    );
  }
  return verdictExit(v.verdict);
}
