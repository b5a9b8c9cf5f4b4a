import { describe, expect, it } from 'vitest';
import { AttributionError, parseAttribution } from '../../src/attribution/attribution.js';
import { ActionDeniedError } from '../../src/attribution/audited.js';
import { CliError, EXIT, exitCodeOf } from '../../src/cli/errors.js';
import { OnbehalfError } from '../../src/errors/onbehalf-error.js';
import { generateSigningKey, KeyError, signingKeyFromJwk } from '../../src/keys/keys.js';
import { ChainError } from '../../src/log-format/chain.js';
import { CheckpointError, parseCheckpoint } from '../../src/log-format/checkpoint.js';
import { InboundTokenError } from '../../src/propagation/inbound-token.js';
import { StoreError } from '../../src/stores/audit-store.js';
import { SqliteAuditStore } from '../../src/stores/sqlite-store.js';

describe('one error hierarchy', () => {
  it('every error onbehalf throws is an OnbehalfError with a stable code, and keeps its own fields', () => {
    const cases: [OnbehalfError, string][] = [
      [new AttributionError('bad', 'actor.id'), 'attribution.invalid'],
      [new ActionDeniedError('send_mail', 'policy'), 'action.denied'],
      [new InboundTokenError('expired', 'invalid'), 'inbound_token.invalid'],
      [new InboundTokenError('no header', 'missing'), 'inbound_token.missing'],
      [new KeyError('bad key'), 'key.unusable'],
      [new StoreError('broken', 'tampered'), 'store.tampered'],
      [new StoreError('gone'), 'store.unusable'],
      [new ChainError('bad row', 7), 'chain.invalid'],
      [new CheckpointError('bad note'), 'checkpoint.malformed'],
      [new CliError('usage'), 'cli.usage'],
    ];
    for (const [error, code] of cases) {
      expect(error).toBeInstanceOf(OnbehalfError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
    }
    expect((cases[0]![0] as AttributionError).field).toBe('actor.id');
    expect((cases[7]![0] as ChainError).seq).toBe(7);
    expect(cases[0]![0].name).toBe('AttributionError');
  });

  it('what the library throws carries the code', () => {
    expect(() => parseAttribution({ actor: { type: 'agent', id: '' } })).toThrow(
      expect.objectContaining({ code: 'attribution.invalid', field: 'actor.id' }),
    );
    expect(() => parseCheckpoint('not a note')).toThrow(
      expect.objectContaining({ code: 'checkpoint.malformed' }),
    );
    expect(() => signingKeyFromJwk({ kty: 'RSA' })).toThrow(
      expect.objectContaining({ code: 'key.unusable' }),
    );
    expect(generateSigningKey().kid).toBeTruthy();
  });

  it('a wrapped failure is kept as the cause', () => {
    let thrown: unknown;
    try {
      new SqliteAuditStore('/proc/onbehalf-cannot-create/audit.db');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StoreError);
    expect((thrown as StoreError).code).toBe('store.unwritable');
    expect((thrown as StoreError).cause).toBeInstanceOf(Error);
  });

  it('the CLI maps codes to exit codes: a tampered store is 1, anything else unusable is 2', () => {
    expect(exitCodeOf('store.tampered')).toBe(EXIT.tampered);
    expect(exitCodeOf('store.unusable')).toBe(EXIT.unusable);
    expect(exitCodeOf('key.unusable')).toBe(EXIT.unusable);
  });
});
