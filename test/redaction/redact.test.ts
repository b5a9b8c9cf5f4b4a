import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACTION_RULES, type RedactionRule, redact } from '../../src/redaction/redact.js';

/** Redacts `value`, checks `secret` is gone from the output, and returns the parsed result. */
function scrubbed(value: unknown, secret: string, kind: string) {
  const out = redact(value);
  expect(out.json).toBeDefined();
  expect(out.json).not.toContain(secret);
  expect(out.redactions).toContain(kind);
  return { ...out, parsed: JSON.parse(out.json as string) as unknown };
}

describe('redact: kinds of content', () => {
  it('emails', () => {
    const r = scrubbed({ to: 'Write to dana.k+inv@acme.example today' }, 'dana.k+inv@acme.example', 'email');
    expect(r.parsed).toEqual({ to: 'Write to [REDACTED:email] today' });
    expect(r.redactions).toEqual(['email']);
  });

  it('Luhn-valid card numbers, with and without separators', () => {
    scrubbed({ card: '4111111111111111' }, '4111111111111111', 'credit_card');
    scrubbed({ card: 'pay with 4111 1111 1111 1111 now' }, '4111 1111 1111 1111', 'credit_card');
    scrubbed({ card: '5500-0000-0000-0004' }, '5500-0000-0000-0004', 'credit_card');
  });

  it('a Luhn-invalid 16-digit number is NOT redacted', () => {
    const out = redact({ order: '4111111111111112' });
    expect(out.json).toContain('4111111111111112');
    expect(out.redactions).toEqual([]);
  });

  it('a card number given as a JSON number', () => {
    scrubbed({ card: 4111111111111111 }, '4111111111111111', 'credit_card');
    expect(redact({ count: 1234 }).json).toBe('{"count":1234}');
  });

  it('bearer tokens', () => {
    const r = scrubbed(
      { header: 'Bearer abcdefghijklmnopqrstuvwxyz0123456789' },
      'abcdefghijklmnopqrstuvwxyz0123456789',
      'secret',
    );
    expect(r.parsed).toEqual({ header: '[REDACTED:secret]' });
  });

  it('JWTs', () => {
    const jwt =
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ0b20iLCJuYW1lIjoiVG9tIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
    scrubbed({ note: `token ${jwt} here` }, 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c', 'secret');
  });

  it('sk-, ghp_ and AKIA keys', () => {
    scrubbed({ k: 'sk-proj-abcdefghijklmnop1234' }, 'abcdefghijklmnop1234', 'secret');
    scrubbed(
      { k: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' },
      'abcdefghijklmnopqrstuvwxyz0123456789',
      'secret',
    );
    scrubbed({ k: 'aws AKIAIOSFODNN7EXAMPLE used' }, 'AKIAIOSFODNN7EXAMPLE', 'secret');
  });

  it('PEM private keys', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    scrubbed({ key_material: pem, other: pem }, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'private_key');
  });

  it('values under secret-named keys, whatever they look like', () => {
    const r = scrubbed(
      { password: 'hunter2', apiKey: 'short', Authorization: 'x', nested: { client_secret: 'plain' } },
      'hunter2',
      'secret',
    );
    expect(r.parsed).toEqual({
      password: '[REDACTED:secret]',
      apiKey: '[REDACTED:secret]',
      Authorization: '[REDACTED:secret]',
      nested: { client_secret: '[REDACTED:secret]' },
    });
    expect(r.json).not.toContain('plain');
  });

  it('token counts and usage summaries are amounts, not secrets; a numeric password still is', () => {
    const usage = {
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 7,
      max_tokens: 1024,
      tokenUsage: { promptTokens: 12, completionTokens: 7, note: 'Bearer abcdefghijklmnop' },
      stream_token_valid: true,
      refresh_tokens: ['r1-opaque'],
      password: 123456,
    };
    const out = redact(usage);
    expect(JSON.parse(out.json as string)).toEqual({
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 7,
      max_tokens: 1024,
      tokenUsage: { promptTokens: 12, completionTokens: 7, note: '[REDACTED:secret]' },
      stream_token_valid: true,
      refresh_tokens: '[REDACTED:secret]',
      password: '[REDACTED:secret]',
    });
  });

  it('sensitive content in object keys does not leak', () => {
    const out = redact({ byRecipient: { 'dana@acme.example': 3 } });
    expect(out.json).not.toContain('dana@acme.example');
    expect(out.redactions).toEqual(['email']);
    expect(JSON.parse(out.json as string)).toEqual({ byRecipient: { '[REDACTED:email]': 3 } });
  });

  it('several kinds are listed once each, sorted', () => {
    const out = redact(['a@b.example', 'c@d.example', 'Bearer zzzzzzzzzzzzzzzz', '4111111111111111']);
    expect(out.redactions).toEqual(['credit_card', 'email', 'secret']);
  });

  it('strings inside arrays and deep nesting', () => {
    scrubbed({ a: [{ b: [{ c: 'x@y.example' }] }] }, 'x@y.example', 'email');
  });
});

describe('redact: shapes of values', () => {
  it('undefined gives no json; null and primitives serialize', () => {
    expect(redact(undefined)).toEqual({ json: undefined, redactions: [] });
    expect(redact(null).json).toBe('null');
    expect(redact('plain').json).toBe('"plain"');
    expect(redact(12n).json).toBe('"12"');
  });

  it('circular objects do not throw and are marked', () => {
    const a: Record<string, unknown> = { name: 'a', mail: 'x@y.example' };
    a.self = a;
    const out = redact(a);
    expect(JSON.parse(out.json as string)).toEqual({
      name: 'a',
      mail: '[REDACTED:email]',
      self: '[circular]',
    });
  });

  it('a value shared by two fields is not mistaken for a cycle', () => {
    const shared = { id: 1 };
    const out = redact({ first: shared, second: shared, list: [shared, shared] });
    expect(JSON.parse(out.json as string)).toEqual({
      first: { id: 1 },
      second: { id: 1 },
      list: [{ id: 1 }, { id: 1 }],
    });
  });

  it('a getter that throws gives "[unserializable]" instead of throwing', () => {
    const hostile = {
      get x(): string {
        throw new Error('nope');
      },
    };
    expect(redact(hostile).json).toBe('"[unserializable]"');
  });

  it('huge values are truncated within maxLength, and the truncation is recorded', () => {
    const huge = { blob: 'a'.repeat(100_000) };
    const out = redact(huge);
    expect(out.json?.length).toBeLessThanOrEqual(8192);
    expect(out.redactions).toEqual(['truncated']);
    const parsed = JSON.parse(out.json as string) as { truncated: boolean; length: number; head: string };
    expect(parsed.truncated).toBe(true);
    expect(parsed.length).toBeGreaterThan(100_000);
    expect(parsed.head.startsWith('{"blob":"aaa')).toBe(true);
  });

  it('truncation stays within maxLength even when the kept head needs escaping', () => {
    const out = redact({ q: '"'.repeat(5_000) }, { maxLength: 1000 });
    expect(out.json?.length).toBeLessThanOrEqual(1000);
    expect(out.redactions).toEqual(['truncated']);
  });

  it('secrets are removed before truncation, so a cut can never expose one', () => {
    const out = redact(
      { k: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', pad: 'b'.repeat(5000) },
      { maxLength: 200 },
    );
    expect(out.json).not.toContain('abcdefghijklmnopqrstuvwxyz');
    expect(out.redactions).toEqual(['secret', 'truncated']);
  });
});

describe('redact: options', () => {
  it('custom rules extend the defaults', () => {
    const ssn: RedactionRule = { kind: 'ssn', pattern: /\b\d{3}-\d{2}-\d{4}\b/g };
    const out = redact({ s: '123-45-6789', m: 'a@b.example' }, { rules: [...DEFAULT_REDACTION_RULES, ssn] });
    expect(out.json).not.toContain('123-45-6789');
    expect(out.redactions).toEqual(['email', 'ssn']);
  });

  it('custom secret keys replace the defaults', () => {
    const out = redact({ password: 'kept', pin: '1234' }, { secretKeys: /^pin$/ });
    expect(JSON.parse(out.json as string)).toEqual({ password: 'kept', pin: '[REDACTED:secret]' });
  });

  it('is repeatable: global regexes keep no state between calls', () => {
    const first = redact({ a: 'x@y.example' });
    const second = redact({ a: 'x@y.example' });
    expect(second).toEqual(first);
  });
});
