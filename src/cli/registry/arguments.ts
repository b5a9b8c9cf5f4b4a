import { existsSync } from 'node:fs';
import { AuditEventSchema } from '../../pipeline/event.js';
import type { AuditQuery, AuditStore } from '../../stores/audit-store.js';
import { isPostgresUrl, openAuditStore } from '../../stores/open.js';
import { CliError } from '../errors.js';
import type { OutputFormat } from '../format.js';

/** Opens a store read-only for one command; a missing file is unusable input, not a new store. */
export async function withStore(
  location: string,
  fn: (store: AuditStore) => Promise<number>,
): Promise<number> {
  requireStore(location);
  const store = await openAuditStore(location, { readonly: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Refuses a SQLite path that does not exist, before anything would create it. */
export function requireStore(location: string): void {
  if (!isPostgresUrl(location) && !existsSync(location))
    throw new CliError(`store ${location}: no such file`);
}

/** `--format`. */
export function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined) return 'table';
  if (value === 'table' || value === 'json' || value === 'ndjson') return value;
  throw new CliError(`--format: expected table, json or ndjson, got ${value}`);
}

/** `--timeout`. */
export function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new CliError(`--timeout: expected a number of seconds, got ${value}`);
  return n;
}

/** `--actor-type`. */
export function actorType(value: string | undefined): AuditQuery['actorType'] {
  if (value === undefined || value === 'agent' || value === 'human' || value === 'service') return value;
  throw new CliError(`--actor-type: expected agent, human or service, got ${value}`);
}

const RECORD_TYPES: readonly string[] = AuditEventSchema.shape.record_type.options;

/** `--record-type`, comma-separated. */
export function recordTypes(value: string | undefined): AuditQuery['recordTypes'] {
  if (value === undefined) return undefined;
  const types = value.split(',').map((t) => t.trim());
  for (const t of types) {
    if (!RECORD_TYPES.includes(t))
      throw new CliError(`--record-type: expected ${RECORD_TYPES.join(', ')} (comma-separated), got ${t}`);
  }
  return types as AuditQuery['recordTypes'];
}

/** `--provenance`. */
export function provenance(value: string | undefined): AuditQuery['provenance'] {
  if (value === undefined || value === 'local' || value === 'verified' || value === 'unverified')
    return value;
  throw new CliError(`--provenance: expected local, verified or unverified, got ${value}`);
}

/** The approval states `audited()` records. */
export const APPROVAL_STATES = ['not_required', 'pending', 'approved', 'rejected', 'expired'] as const;

/** `--approval`. */
export function approval(value: string | undefined): string | undefined {
  if (value === undefined || (APPROVAL_STATES as readonly string[]).includes(value)) return value;
  throw new CliError(`--approval: expected ${APPROVAL_STATES.join(', ')}, got ${value}`);
}

/** `--limit`. */
export function wholeNumber(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${name}: expected a whole number, got ${value}`);
  return n;
}
