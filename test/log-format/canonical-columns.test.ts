// The writer's one-walk path from an event to its canonical text and bind array, against the
// reference: canonicalJson (and RFC 8785 itself, via canonicalize) of the same event, and a log
// chained by LogState.append after the store's own prepare step, over varied events: any UTF-16
// (lone surrogates, NUL, astral pairs), empty text, missing columns, odd numbers, redacted values,
// and values in another form than their column's (numbers as text, bigints).
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/log-format/canonical.js';
import {
  canonicalColumns,
  ONE_WALK_MATCHES_SCHEMA,
  type StorableForm,
  WELL_FORMED_UTF8,
} from '../../src/log-format/canonical-columns.js';
import { LogState } from '../../src/log-format/chain.js';
import { type AuditEvent, EVENT_COLUMNS } from '../../src/pipeline/event.js';
import { LogWriterCore } from '../../src/stores/log-writer-core.js';
import { POSTGRES_TEXT } from '../../src/stores/postgres-values.js';
import { TABLE_COLUMNS } from '../../src/stores/query-sql.js';

const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string;

const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));
const text = fc.oneof(
  fc.string({ unit: codeUnit, maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom(
    '',
    '\\ud800 as text',
    '\u0000',
    '\ud83d',
    '\ude00x',
    '😀',
    'naïve café',
    '[REDACTED:email]',
    '{"to":"[REDACTED:email]"}',
    '"quoted"\n\t\\',
  ),
);
const column = (values: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 4, arbitrary: values }, fc.constant(null), fc.constant(undefined));
const unusual = fc.constantFrom<unknown>('3', 2n, '1.5', '0x3', 1.5, Number.NaN, true);

function eventArbitrary(odd: boolean): fc.Arbitrary<AuditEvent> {
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const c of EVENT_COLUMNS) shape[c] = column(text);
  shape.risk_tier = column(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer()));
  shape.duration_ms = column(
    fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(-0, 0, 1e21, 5e-324, 0.1 + 0.2, 123.456),
    ),
  );
  if (odd) {
    for (const c of ['risk_tier', 'duration_ms', 'target'] as const) shape[c] = fc.oneof(shape[c]!, unusual);
  }
  return fc.record(shape, { requiredKeys: [] }) as unknown as fc.Arbitrary<AuditEvent>;
}

const ORIGINS = fc.constantFrom('onbehalf/host-1/3f9a', 'o', 'ünï/😀');

describe('canonicalColumns', () => {
  it('lists every canonical key from its own column', () => {
    expect(ONE_WALK_MATCHES_SCHEMA).toBe(true);
  });

  it('gives canonicalJson and RFC 8785 of the same columns, and the bind values in column order', () => {
    fc.assert(
      fc.property(eventArbitrary(false), ORIGINS, (event, origin) => {
        const values: unknown[] = ['before', 'before'];
        const fast = canonicalColumns(event, origin, values, 2);
        expect(fast).toBe(canonicalJson(event, origin));
        const all: Record<string, unknown> = { origin };
        for (const c of EVENT_COLUMNS) all[c] = event[c] ?? null;
        expect(fast).toBe(canonicalize(all));
        expect(values.slice(0, 2)).toEqual(['before', 'before']);
        expect(values.slice(2)).toEqual(EVENT_COLUMNS.map((c) => event[c] ?? null));
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves values in another form than their column’s to the general path', () => {
    const base = { event_id: 'e', record_type: 'action', timestamp: 't', action: 'a' } as AuditEvent;
    for (const [column, value] of [
      ['risk_tier', '3'],
      ['risk_tier', 2n],
      ['risk_tier', 1.5],
      ['duration_ms', Number.POSITIVE_INFINITY],
      ['duration_ms', '1.5'],
      ['target', 7],
      ['target', true],
    ] as const) {
      expect(canonicalColumns({ ...base, [column]: value } as AuditEvent, 'o', [], 0)).toBeUndefined();
    }
  });
});

/** What the writer did before the one walk: prepare, canonicalJson, LogState.append, the row copied column by column. */
function referenceChain(events: readonly AuditEvent[], origin: string, storable: StorableForm) {
  const state = new LogState(origin);
  return events.map((given) => {
    const event = storable.prepare(given);
    const { integrity } = state.append(event);
    const row: Record<string, unknown> = {};
    for (const c of EVENT_COLUMNS) row[c] = event[c] ?? null;
    Object.assign(row, integrity);
    return row;
  });
}

describe('LogWriterCore.chain', () => {
  it.each([
    ['SQLite (lone surrogates replaced)', WELL_FORMED_UTF8],
    ['PostgreSQL (NUL and lone surrogates replaced)', POSTGRES_TEXT],
  ] as const)('%s: the rows, hashes and binds of the reference path', (_name, storable) => {
    fc.assert(
      fc.property(fc.array(eventArbitrary(true), { maxLength: 6 }), ORIGINS, (events, origin) => {
        const outcome = <T>(fn: () => T): { value?: T; error?: string } => {
          try {
            return { value: fn() };
          } catch (err) {
            return { error: (err as Error).message };
          }
        };
        const reference = outcome(() => referenceChain(events, origin, storable));
        const writer = new LogWriterCore({ location: 'test', origin, checkpointEvery: 1000 });
        const chained = outcome(() => writer.chain(events, storable));
        // A value canonical JSON cannot carry is refused by both, with the same message.
        expect(chained.error).toBe(reference.error);
        if (reference.error !== undefined) return;
        const expected = reference.value!;
        const { rows, binds } = chained.value!;
        expect(rows).toEqual(expected);
        expect(binds).toEqual(expected.map((r) => TABLE_COLUMNS.map((c) => r[c])));
      }),
      { numRuns: 500 },
    );
  });

  it('replaces what the store cannot hold before hashing, and only then', () => {
    const event = {
      event_id: 'e',
      record_type: 'action',
      timestamp: 't',
      action: 'a\ud800b',
      target: 'nul\u0000',
    } as AuditEvent;
    const sqlite = new LogWriterCore({ location: 't', origin: 'o', checkpointEvery: 1000 }).chain(
      [event],
      WELL_FORMED_UTF8,
    );
    expect(sqlite.rows[0]!.action).toBe('a\ufffdb');
    expect(sqlite.rows[0]!.target).toBe('nul\u0000');
    const pg = new LogWriterCore({ location: 't', origin: 'o', checkpointEvery: 1000 }).chain(
      [event],
      POSTGRES_TEXT,
    );
    expect(pg.rows[0]!.action).toBe('a\ufffdb');
    expect(pg.rows[0]!.target).toBe('nul\ufffd');
    expect(pg.rows[0]!.hash).not.toBe(sqlite.rows[0]!.hash);
  });
});
