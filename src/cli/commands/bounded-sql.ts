import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { StoreError } from '../../stores/audit-store.js';
import { CliError } from '../errors.js';

/** How long `onbehalf sql` lets a statement run by default. */
export const DEFAULT_SQL_TIMEOUT_SECONDS = 30;
/** Output past this is a statement no terminal or file wants: it is stopped like a slow one. */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

const CHILD = fileURLToPath(new URL('./sql-child.js', import.meta.url));

/**
 * Runs one read-only statement on a store in a child process and kills it after `timeoutSeconds`:
 * an ad-hoc query (`pg_sleep`, a recursive CTE) must not hang the terminal, a cron job or the host.
 * The store checks the statement is read-only and that the database is sound before running it.
 */
export function boundedSql(
  location: string,
  text: string,
  timeoutSeconds: number,
): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, location, text], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stopped: string | undefined;
    const stop = (why: string) => {
      stopped ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => stop(`the statement ran longer than ${timeoutSeconds} s and was stopped (--timeout SECONDS)`),
      timeoutSeconds * 1000,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES)
        stop(`the result is larger than ${MAX_OUTPUT_BYTES >> 20} MiB; add a LIMIT`);
      else chunks.push(chunk);
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8').slice(0, 4096);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CliError(`sql: cannot run the statement: ${e.message}`, undefined, { cause: e }));
    });
    child.on('close', () => {
      clearTimeout(timer);
      if (stopped) return reject(new CliError(`sql: ${stopped}`));
      let reply: { rows?: Record<string, unknown>[]; error?: string; kind?: StoreError['kind'] };
      try {
        reply = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return reject(new CliError(`sql: the statement failed: ${stderr.trim() || 'no result'}`));
      }
      if (reply.error !== undefined) return reject(new StoreError(reply.error, reply.kind ?? 'unusable'));
      resolve(reply.rows ?? []);
    });
  });
}
