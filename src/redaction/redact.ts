/** A kind of sensitive content and how to find it in a string. */
export interface RedactionRule {
  /** Recorded in `attribution.content.redactions` / the `redactions` column, e.g. `email`. */
  kind: string;
  pattern: RegExp;
  /** Extra check on a match (e.g. the Luhn checksum of a card number); keep the match when it returns false. */
  accept?: (match: string) => boolean;
  /**
   * A cheap test that must hold for the pattern to match anywhere (e.g. an `@` for an email): every
   * string of every audited span passes through the rules, and most contain nothing to redact.
   */
  mayMatch?: (s: string) => boolean;
}

/** Options of {@link redact}. */
export interface RedactionOptions {
  /** Replaces the built-in rules; `[...DEFAULT_REDACTION_RULES, myRule]` adds to them. */
  rules?: readonly RedactionRule[];
  /** Object keys whose values are always secrets, whatever they look like (matched case-insensitively). */
  secretKeys?: RegExp;
  /** Longest serialized result kept; longer output is cut and `truncated` recorded. */
  maxLength?: number;
}

/** The result of {@link redact}: JSON text safe to store, and which kinds were removed from it. */
export interface Redacted {
  json: string | undefined;
  redactions: string[];
}

/** At least 13 digits: the shortest card number. */
const hasCardDigits = (s: string): boolean => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57 && ++n >= 13) return true;
  }
  return false;
};

const luhn = (digits: string): boolean => {
  const d = digits.replace(/\D/g, '');
  if (d.length < 13 || d.length > 19) return false;
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let n = d.charCodeAt(d.length - 1 - i) - 48;
    if (i % 2 === 1) {
      n *= 2;
      if (n > 9) n -= 9;
    }
    sum += n;
  }
  return sum % 10 === 0;
};

/** Emails, payment card numbers (Luhn-checked), bearer tokens, JWTs, private keys and common API keys. */
export const DEFAULT_REDACTION_RULES: readonly RedactionRule[] = Object.freeze([
  {
    kind: 'private_key',
    // Never scans past the next BEGIN: many BEGINs without an END would otherwise cost O(n²).
    pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----(?:(?!-----BEGIN )[\s\S])*?-----END [A-Z ]*PRIVATE KEY-----/g,
    mayMatch: (s) => s.includes('-----BEGIN '),
  },
  { kind: 'secret', pattern: /\bBearer\s+[A-Za-z0-9\-._~+/]{8,}=*/gi, mayMatch: (s) => /bearer/i.test(s) },
  // Matches start only where a run of token characters starts (not at every `\b` inside one, such as
  // each `eyJ` of `eyJ-eyJ-…`): one attempt per run keeps a hostile megabyte string linear.
  {
    kind: 'secret',
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
    mayMatch: (s) => s.includes('eyJ'),
  },
  {
    kind: 'secret',
    pattern:
      /\b(?:sk|pk|rk)-(?:live-|test-|proj-|ant-)?[A-Za-z0-9_-]{16,}|\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bAKIA[0-9A-Z]{16}\b|\bAIza[0-9A-Za-z_-]{35}\b/g,
    mayMatch: (s) => /k-|gh[oprsu]_|github_pat_|xox|AKIA|AIza/.test(s),
  },
  {
    kind: 'email',
    pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g,
    mayMatch: (s) => s.includes('@'),
  },
  { kind: 'credit_card', pattern: /\b(?:\d[ -]?){12,18}\d\b/g, accept: luhn, mayMatch: hasCardDigits },
]);

/**
 * What at least one default rule's `mayMatch` needs, in one case-insensitive pattern (a superset:
 * a match only sends the string on to the rules themselves), plus the card rule's digit count.
 */
const DEFAULT_RULES_MAY_MATCH = /-----BEGIN |bearer|eyJ|k-|gh[oprsu]_|github_pat_|xox|AKIA|AIza|@/i;
const cleanForDefaultRules = (s: string): boolean => !DEFAULT_RULES_MAY_MATCH.test(s) && !hasCardDigits(s);

const DEFAULT_SECRET_KEYS =
  /pass(word)?|secret|token|api[-_]?key|authorization|credential|private[-_]?key|cookie/i;
/**
 * Keys that name an amount, not a credential: `input_tokens`, `gen_ai.usage.output_tokens`,
 * `max_tokens`, `tokenUsage`, `token_count`. A number or a usage summary under them is kept (its
 * strings still scanned like any other).
 */
const AMOUNT_KEYS = /tokens$|token_?count|usage/i;

/**
 * Redaction by meaning, not by name alone: a boolean is never a credential, nor is a count of tokens
 * (`input_tokens: 42`). A number under `password` still is.
 */
function secretByKey(key: string, v: unknown, secretKeys: RegExp): boolean {
  if (!key || v === null || v === undefined || v === '' || typeof v === 'boolean') return false;
  const kind = secretKeys === DEFAULT_SECRET_KEYS ? defaultKeyKind(key) : keyKind(key, secretKeys);
  if (kind === KEY_PLAIN) return false;
  if (kind === KEY_SECRET) return true;
  // A secret-looking key that also names an amount: a secret unless the value is an amount.
  const amount = typeof v === 'number' || (typeof v === 'object' && !Array.isArray(v));
  return !amount;
}

const KEY_PLAIN = 0;
const KEY_SECRET = 1;
const KEY_SECRET_OR_AMOUNT = 2;
function keyKind(key: string, secretKeys: RegExp): number {
  if (!secretKeys.test(key)) return KEY_PLAIN;
  return AMOUNT_KEYS.test(key) ? KEY_SECRET_OR_AMOUNT : KEY_SECRET;
}

/**
 * Attribute and argument keys repeat from span to span, so what the default secret-key pattern says
 * of each is kept (up to a bound: keys made of data, a map keyed by email, must not grow it forever).
 */
const defaultKeyKinds = new Map<string, number>();
function defaultKeyKind(key: string): number {
  let kind = defaultKeyKinds.get(key);
  if (kind === undefined) {
    kind = keyKind(key, DEFAULT_SECRET_KEYS);
    if (defaultKeyKinds.size >= 4096) defaultKeyKinds.clear();
    defaultKeyKinds.set(key, kind);
  }
  return kind;
}
const DEFAULT_MAX_LENGTH = 8192;

/**
 * Serializes `value` to JSON with sensitive content replaced by `[REDACTED:kind]`, and lists the
 * kinds replaced. Never throws: a value that cannot be serialized becomes `"[unserializable]"`.
 */
export function redact(value: unknown, options: RedactionOptions = {}): Redacted {
  if (value === undefined) return { json: undefined, redactions: [] };
  const rules = options.rules ?? DEFAULT_REDACTION_RULES;
  const secretKeys = options.secretKeys ?? DEFAULT_SECRET_KEYS;
  const found = new Set<string>();
  const scrub = (s: string) => redactString(s, rules, found);
  let json: string;
  try {
    // The objects from the root to the value being serialized (as JSON.stringify sees them, and as
    // given): only a value among its own ancestors is a cycle; one shared by two fields is not.
    const holders: unknown[] = [];
    const originals: object[] = [];
    json =
      JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
        if (secretByKey(key, v, secretKeys)) {
          found.add('secret');
          return '[REDACTED:secret]';
        }
        if (typeof v === 'string') return scrub(v);
        // A card number can arrive as a number; it is redacted like its digits.
        if (typeof v === 'number' && Number.isInteger(v)) {
          const digits = String(v);
          const clean = scrub(digits);
          return clean === digits ? v : clean;
        }
        if (typeof v === 'bigint') return scrub(v.toString());
        if (v && typeof v === 'object') {
          while (holders.length && holders[holders.length - 1] !== this) {
            holders.pop();
            originals.pop();
          }
          if (originals.includes(v)) return '[circular]';
          const out = Array.isArray(v) ? v : withScrubbedKeys(v as Record<string, unknown>, scrub);
          holders.push(out);
          originals.push(v);
          return out;
        }
        return v;
      }) ?? 'null';
  } catch {
    json = '"[unserializable]"';
  }
  const max = options.maxLength ?? DEFAULT_MAX_LENGTH;
  if (json.length > max) {
    // The head is escaped again inside the wrapper, so shrink it until the whole fits.
    let keep = Math.max(0, max - 64);
    let cut = truncated(json, keep);
    while (cut.length > max && keep > 0) {
      keep = Math.floor(keep / 2);
      cut = truncated(json, keep);
    }
    json = cut;
    found.add('truncated');
  }
  return { json, redactions: [...found].sort() };
}

const truncated = (json: string, keep: number) =>
  JSON.stringify({ truncated: true, length: json.length, head: json.slice(0, keep) });

/** Object keys can carry content too (a map keyed by email): copy the object only when a key changes. */
function withScrubbedKeys(o: Record<string, unknown>, scrub: (s: string) => string): Record<string, unknown> {
  const keys = Object.keys(o);
  if (keys.every((k) => scrub(k) === k)) return o;
  // No prototype: a `__proto__` key is then copied as data instead of silently replacing the prototype.
  const copy = Object.create(null) as Record<string, unknown>;
  for (const k of keys) copy[scrub(k)] = o[k];
  return copy;
}

/** Redacts one string; adds the kinds found to `found`. */
export function redactString(s: string, rules: readonly RedactionRule[], found: Set<string>): string {
  // Shorter than the shortest thing any default rule finds (`a@b.cc`), or without anything every
  // default rule needs: one test, and the common clean string never reaches a rule.
  if (rules === DEFAULT_REDACTION_RULES && (s.length < 6 || cleanForDefaultRules(s))) return s;
  let out = s;
  for (const rule of rules) {
    if (rule.mayMatch && !rule.mayMatch(out)) continue;
    rule.pattern.lastIndex = 0;
    out = out.replace(rule.pattern, (m) => {
      if (rule.accept && !rule.accept(m)) return m;
      found.add(rule.kind);
      return `[REDACTED:${rule.kind}]`;
    });
  }
  return out;
}

/** Arguments arrive as JSON text (most frameworks) or as values; both are redacted as values. */
export function redactValue(value: unknown, options: RedactionOptions | undefined) {
  if (typeof value === 'string') {
    try {
      return redact(JSON.parse(value), options);
    } catch {
      return redact(value, options);
    }
  }
  return redact(value, options);
}
