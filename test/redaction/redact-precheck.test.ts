// The default rules' one-pattern precheck and the key cache change what redaction costs, never what
// it finds: the same values redacted with a copy of the default rules (which every rule sees, each
// behind its own mayMatch) and with an equivalent secret-key pattern (which is not cached) must
// give the same JSON and kinds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REDACTION_RULES, redact, redactString } from '../../src/redaction/redact.js';

const FRAGMENTS = [
  'alice@example.com',
  'a@b.cc',
  'mail me at bob@@x',
  '4111 1111 1111 1111',
  '4111-1111-1111-1112',
  '5500005555555559',
  'order 1234567890123',
  'Bearer abcdefgh12345678',
  'BEARER abc',
  'eyJhbGciOi.eyJzdWIiOiJ4.sig_-',
  'EYJ lowercase',
  'sk-live-abcdefghijklmnop1234',
  'pk-test-x',
  'ghp_abcdefghijklmnopqrstuvwx',
  'github_pat_abcdefghijklmnopqrstuv',
  'xoxb-1234567890-abc',
  'AKIAABCDEFGHIJKLMNOP',
  'AIzaSyA-abcdefghijklmnopqrstuvwxyz12345',
  '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----',
  '-----BEGIN CERTIFICATE-----',
  'Your order shipped on Monday.',
  'naïve 😀 café',
  '',
];
const piece = fc.oneof(
  fc.constantFrom(...FRAGMENTS),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary' }),
);
const text = fc.array(piece, { maxLength: 5 }).map((parts) => parts.join(' '));
const KEYS = [
  'to',
  'password',
  'input_tokens',
  'token_count',
  'api_key',
  'usage',
  'apiKey',
  'Cookie',
  'note',
];
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    text,
    fc.integer(),
    fc.constant(4111111111111111),
    fc.boolean(),
    fc.constant(null),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  ),
  node: fc.oneof(
    { depthSize: 'small' },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), text), tie('node'), { maxKeys: 4 }),
  ),
})).node;

// The default secret-key pattern, as a different object: the same answers, never from the cache.
const SAME_SECRET_KEYS =
  /pass(word)?|secret|token|api[-_]?key|authorization|credential|private[-_]?key|cookie/i;

describe('redaction precheck', () => {
  it('redactString finds what every default rule on its own finds', () => {
    fc.assert(
      fc.property(text, (s) => {
        const fast = new Set<string>();
        const each = new Set<string>();
        expect(redactString(s, DEFAULT_REDACTION_RULES, fast)).toBe(
          redactString(s, [...DEFAULT_REDACTION_RULES], each),
        );
        expect([...fast].sort()).toEqual([...each].sort());
      }),
      { numRuns: 3000 },
    );
  });

  it('redact gives the same JSON and kinds with the precheck and cached keys as without', () => {
    fc.assert(
      fc.property(value, (v) => {
        const reference = redact(v, { rules: [...DEFAULT_REDACTION_RULES], secretKeys: SAME_SECRET_KEYS });
        expect(redact(v)).toEqual(reference);
        // Twice: the second time the keys come from the cache.
        expect(redact(v)).toEqual(reference);
      }),
      { numRuns: 1500 },
    );
  });

  it('still redacts each kind the precheck lets through', () => {
    for (const [input, kind] of [
      ['write to alice@example.com', 'email'],
      ['card 4111 1111 1111 1111', 'credit_card'],
      ['authorization: bearer abcdefgh12345678', 'secret'],
      ['AKIAABCDEFGHIJKLMNOP', 'secret'],
      ['-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----', 'private_key'],
    ] as const) {
      const found = new Set<string>();
      expect(redactString(input, DEFAULT_REDACTION_RULES, found)).toContain(`[REDACTED:${kind}]`);
      expect([...found]).toEqual([kind]);
    }
    expect(redact({ password: 'hunter2', input_tokens: 42, note: 'clean text here' })).toEqual({
      json: '{"password":"[REDACTED:secret]","input_tokens":42,"note":"clean text here"}',
      redactions: ['secret'],
    });
  });
});
