import type pg from 'pg';
import { replaceInStringColumns } from '../log-format/canonical.js';
import type { StorableForm } from '../log-format/canonical-columns.js';
import type { AuditEvent } from '../pipeline/event.js';
import { pgDriver } from './pg-driver.js';
import { TABLE_COLUMNS } from './query-sql.js';

/** How audit rows map to PostgreSQL values and back, so a row reads back with the bytes it was hashed over. */

const INT8_OID = 20;
/** Reads int8 (seq, counts) as numbers, as the SQLite store's rows have them. */
export const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID && format !== 'binary') {
      return (text: string) => {
        const n = Number(text);
        return Number.isSafeInteger(n) ? n : text;
      };
    }
    return format === 'binary'
      ? pgDriver().types.getTypeParser(oid, 'binary')
      : pgDriver().types.getTypeParser(oid);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const COLUMN_TYPES: Record<string, string> = { seq: 'int8', risk_tier: 'int4', duration_ms: 'float8' };
/** One statement inserting a whole batch, one array parameter per column. */
export const INSERT_EVENTS = `INSERT INTO audit_events (${TABLE_COLUMNS.join(', ')}) SELECT * FROM unnest(${TABLE_COLUMNS.map(
  (c, i) => `$${i + 1}::${COLUMN_TYPES[c] ?? 'text'}[]`,
).join(', ')})`;
// PostgreSQL text holds neither NUL nor unpaired surrogates: what is hashed must be what reads back.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what must be found
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what must be replaced
const UNSTORABLE_ALL = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The event with what PostgreSQL text cannot hold replaced by U+FFFD, so its hash survives a read-back. */
export function storableEvent(event: AuditEvent): AuditEvent {
  return replaceInStringColumns(event, UNSTORABLE, UNSTORABLE_ALL);
}

/**
 * {@link storableEvent} as the writer applies it: JSON.stringify writes NUL as `\u0000` and a lone
 * surrogate, and only a lone one, as `\udXXX`, so the event's canonical text shows either.
 */
export const POSTGRES_TEXT: StorableForm = { prepare: storableEvent, suspect: /\\u(?:0000|d[89a-f])/ };
