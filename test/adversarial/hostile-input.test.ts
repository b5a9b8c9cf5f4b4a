// Hostile input: fuzzed inbound baggage and tokens, hostile values through withAttribution / audited /
// the processors, and broken configuration. Never a crash of the host, never provenance=verified for
// anything not validly signed, and a clear error for the operator.
import { sign } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Context, context, ROOT_CONTEXT, type TextMapGetter, trace } from '@opentelemetry/api';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Attribution,
  AttributionError,
  AttributionSchema,
  getAttribution,
  withAttribution,
} from '../../src/attribution/attribution.js';
import { audited } from '../../src/attribution/audited.js';
import { generateSigningKey, KeyError, privateJwk } from '../../src/keys/keys.js';
import { AttributionPropagator } from '../../src/propagation/attribution-propagator.js';
import { ATTRIBUTION_TOKEN_TYPE, signAttributionToken } from '../../src/propagation/attribution-token.js';
import { startOnbehalf } from '../../src/sdk/start.js';
import { StoreError } from '../../src/stores/audit-store.js';
import { type AuditPipeline, setupAuditPipeline } from '../helpers/audit.js';
import { trustedKey } from '../helpers/keys.js';
import { pinnedKeys, scratchDir, verifyPath } from './support.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const OTHER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const trusted = generateSigningKey();
const untrusted = generateSigningKey();

type Carrier = Record<string, string | string[] | undefined>;
const getter: TextMapGetter<Carrier> = {
  keys: (c) => Object.keys(c),
  get: (c, k) => c[k],
};

function extract(propagator: AttributionPropagator, baggage: string | string[]): Context {
  const carrier: Carrier = { baggage, traceparent: `00-${TRACE}-00f067aa0ba902b7-01` };
  return propagator.extract(ROOT_CONTEXT, carrier, getter);
}

const seed: Attribution = {
  actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
  principal: { id: 'tom', type: 'human' },
};

/** A token with arbitrary claims and header, signed by `key` (trusted or not). */
function rawToken(header: object, claims: object, key = trusted): string {
  const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${enc(header)}.${enc(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), key.privateKey).toString('base64url')}`;
}

function nestedAct(depth: number): object {
  let act: Record<string, unknown> = { sub: `agent-${depth}` };
  for (let i = depth - 1; i > 0; i--) act = { sub: `agent-${i}`, act };
  return { ...act, actor_type: 'agent' };
}

const now = () => Math.floor(Date.now() / 1000);

/** Tokens that must never verify here: wrong key, wrong trace, too deep, tampered, or not JWS at all. */
const hostileToken = fc.oneof(
  fc.constant(signAttributionToken(seed, { key: untrusted, traceId: TRACE })!),
  fc.constant(signAttributionToken(seed, { key: trusted, traceId: OTHER_TRACE })!),
  fc
    .integer({ min: 33, max: 200 })
    .map((depth) =>
      rawToken(
        { alg: 'EdDSA', typ: ATTRIBUTION_TOKEN_TYPE, kid: trusted.kid },
        { act: nestedAct(depth), trace_id: TRACE, iat: now(), exp: now() + 60, jti: 'x' },
      ),
    ),
  fc
    .constantFrom('none', 'HS256', 'RS256', 'EdDSA')
    .map((alg) =>
      rawToken({ alg, typ: 'JWT', kid: trusted.kid }, { sub: 'tom', act: { sub: 'a', actor_type: 'agent' } }),
    ),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
    const t = signAttributionToken(seed, { key: trusted, traceId: TRACE })!;
    const i = at % t.length;
    const c = String.fromCharCode((t.charCodeAt(i) ^ x) & 0x7f);
    return c === t[i] ? `${t}x` : t.slice(0, i) + c + t.slice(i + 1);
  }),
  fc.string({ maxLength: 200 }),
  fc
    .array(fc.base64String({ maxLength: 300 }), { minLength: 1, maxLength: 4 })
    .map((p) => p.join('.').replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '')),
);

/** Baggage header values: random text and bytes, percent-encoding tricks, duplicates, huge values. */
const hostileBaggage = fc.oneof(
  fc.string({ maxLength: 500 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b).toString('utf8')),
  fc
    .tuple(
      fc.array(
        fc.tuple(
          fc.constantFrom(
            'attribution.token',
            'attribution.actor.id',
            'attribution.principal.id',
            'attribution.provenance',
            'attribution.actor.type',
            'Attribution.Token',
            ' attribution.token ',
            '__proto__',
            'constructor',
            'attribution.__proto__',
          ),
          fc.oneof(
            hostileToken.map(encodeURIComponent),
            hostileToken,
            fc.constantFrom(
              '%',
              '%zz',
              '%C3%28',
              '%ED%A0%80',
              '%00',
              '%0A%0D',
              '%25',
              'verified',
              '%F0%9F',
              ';;;',
              '==',
            ),
            fc.string({ maxLength: 80 }),
          ),
          fc.constantFrom('', ';p=1', ';;', ';a=%ZZ'),
        ),
        { maxLength: 12 },
      ),
      fc.constantFrom(',', ', ', ',,'),
    )
    .map(([entries, sep]) => entries.map(([k, v, m]) => `${k}=${v}${m}`).join(sep)),
  fc.constantFrom(
    'x'.repeat(1 << 20),
    `attribution.token=${'A'.repeat(1 << 20)}`,
    `${'attribution.actor.id=a,'.repeat(50_000)}`,
    `attribution.token=${'%41'.repeat(100_000)}`,
  ),
);

describe('fuzzed inbound baggage and tokens', () => {
  it('never throws, never yields provenance=verified, and only well-formed attributions', () => {
    const propagator = new AttributionPropagator({
      trustedKeys: [trustedKey(trusted, 'agent:nhi:agent-7f3')],
    });
    let claims = 0;
    fc.assert(
      fc.property(fc.oneof(hostileBaggage, fc.array(hostileBaggage, { maxLength: 3 })), (baggage) => {
        const out = extract(propagator, baggage);
        const a = getAttribution(out);
        if (a) {
          claims++;
          expect(a.provenance).toBe('unverified');
          expect(AttributionSchema.safeParse(a).success).toBe(true);
        }
      }),
      { numRuns: 600 },
    );
    expect(propagator.stats.verified).toBe(0);
    expect(propagator.stats.failed).toBe(0);
    expect(claims).toBeGreaterThan(0);
    // Control: the same propagator does verify a genuine token for this trace.
    const genuine = signAttributionToken(seed, { key: trusted, traceId: TRACE })!;
    expect(getAttribution(extract(propagator, `attribution.token=${genuine}`))?.provenance).toBe('verified');
    // Duplicate tokens (one genuine) are believed by nobody.
    const dup = extract(propagator, `attribution.token=${genuine},attribution.token=${hostileTokenSample()}`);
    expect(getAttribution(dup)?.provenance).not.toBe('verified');
  });

  it('a getter that throws or returns junk is absorbed', () => {
    const propagator = new AttributionPropagator({ trustedKeys: [] });
    const bad: TextMapGetter<unknown>[] = [
      {
        keys: () => [],
        get: () => {
          throw new Error('boom');
        },
      },
      { keys: () => [], get: () => 42 as unknown as string },
      { keys: () => [], get: () => [null, 7, {}] as unknown as string[] },
      {
        keys: () => [],
        get: () =>
          ({
            toString: () => {
              throw new Error('x');
            },
          }) as unknown as string,
      },
    ];
    for (const g of bad) expect(getAttribution(propagator.extract(ROOT_CONTEXT, {}, g))).toBeUndefined();
  });
});

function hostileTokenSample(): string {
  return signAttributionToken(seed, { key: untrusted, traceId: TRACE })!;
}

describe('hostile values through withAttribution, audited and the processors', () => {
  let pipeline: AuditPipeline;
  afterEach(async () => {
    await pipeline?.teardown();
  });

  it('withAttribution refuses oversized, control-character and foreign fields with a named field', () => {
    pipeline = setupAuditPipeline();
    const mega = 'm'.repeat(1 << 20);
    const cases: unknown[] = [
      { actor: { type: 'agent', id: mega } },
      { actor: { type: 'agent', id: 'a\nuser=tom action=ok' } },
      { actor: { type: 'agent', id: 'a' }, principal: { id: 'tom\u0000' } },
      JSON.parse('{"actor":{"type":"agent","id":"a"},"__proto__":{"polluted":true}}'),
      JSON.parse('{"actor":{"type":"agent","id":"a","__proto__":{"polluted":true}}}'),
      { actor: { type: 'agent', id: 'a' }, constructor: { prototype: { polluted: true } } },
      { actor: { type: 'agent', id: 'a' }, scopes: Array.from({ length: 10_000 }, (_, i) => `s${i}`) },
      { actor: { type: 'robot', id: 'a' } },
      null,
      'tom',
    ];
    for (const c of cases) {
      expect(() => withAttribution(c as Attribution, () => 1)).toThrow(AttributionError);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('audited() stores hostile arguments and targets, the host keeps its result, and the store verifies', async () => {
    pipeline = setupAuditPipeline();
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    let deep: unknown = 'bottom';
    for (let i = 0; i < 50_000; i++) deep = [deep];
    const throwing = {
      get boom() {
        throw new Error('getter');
      },
    };
    const hostileArgs = fc.oneof(
      fc.anything({
        withBigInt: true,
        withBoxedValues: true,
        withMap: true,
        withSet: true,
        withTypedArray: true,
        withSparseArray: true,
        withNullPrototype: true,
        withObjectString: true,
      }),
      fc.constantFrom<unknown>(
        JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
        { constructor: { prototype: { polluted: true } }, toJSON: 'not a function' },
        circular,
        deep,
        throwing,
        'x'.repeat(1 << 20),
        '\u0000\u0007\u001b[31mred\u001b[0m\r\nuser=tom result=ok',
        '\ud800 lone \udfff',
        Symbol('s'),
        () => 1,
        10n ** 400n,
        new Proxy(
          {},
          {
            ownKeys: () => {
              throw new Error('proxy');
            },
          },
        ),
      ),
    );
    const hostileText = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.constantFrom(
        '\ud83d',
        'a\udc00b',
        'x'.repeat(1 << 20),
        '\u0000\n\r\t\u2028',
        '__proto__',
        'constructor',
      ),
    );
    let ran = 0;
    await withAttribution(seed, () =>
      fc.assert(
        fc.asyncProperty(hostileText, hostileText, hostileArgs, async (action, target, args) => {
          const value = await audited(action || 'a', { target, arguments: args, riskTier: 2 }, () => 'kept');
          expect(value).toBe('kept');
          ran++;
        }),
        { numRuns: 150 },
      ),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A `__proto__` key is kept as data in the record, next to a key that redaction rewrote.
    await audited('proto', { arguments: JSON.parse('{"__proto__":{"x":1},"tom@acme.example":2}') }, () => 0);
    ran++;
    expect(pipeline.rows("action = 'proto'")[0]?.tool_arguments).toBe(
      '{"__proto__":{"x":1},"[REDACTED:email]":2}',
    );
    await pipeline.auditProcessor.forceFlush();
    expect(pipeline.auditProcessor.stats).toMatchObject({ lost: 0, storeErrors: 0, mappingErrors: 0 });
    // Every tier-2 action leaves a started and a completed record; the `proto` one only the latter.
    expect(pipeline.rows().length).toBe(ran * 2 - 1);
    const path = pipeline.path;
    await pipeline.store.close();
    const result = await verifyPath(path, { trustedKeys: pinnedKeys });
    expect(result.ok, result.reason).toBe(true);
  });

  it('a lone UTF-16 surrogate is stored as U+FFFD, so the untouched store still verifies', async () => {
    pipeline = setupAuditPipeline();
    await withAttribution(seed, () => audited('send', { target: 'a\ud800b\udfff' }, () => 0));
    expect(pipeline.rows()[0]?.target).toBe('a\ufffdb\ufffd');
    const path = pipeline.path;
    await pipeline.store.close();
    const result = await verifyPath(path, { trustedKeys: pinnedKeys });
    expect(result.ok, result.reason).toBe(true);
  });

  it('hostile attributes set directly on spans are mapped without harming the span or the store', async () => {
    pipeline = setupAuditPipeline();
    const tracer = trace.getTracer('hostile');
    const mega = 'z'.repeat(1 << 20);
    for (const value of [
      mega,
      '\ud800',
      '\u0000',
      [mega, '\udfff'],
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -0,
      1e308,
    ]) {
      const span = tracer.startSpan('execute_tool x', {
        attributes: {
          'gen_ai.operation.name': 'execute_tool',
          'attribution.action': typeof value === 'string' ? value : 'x',
          'attribution.risk_tier': typeof value === 'number' ? value : 1,
          'gen_ai.tool.call.arguments': typeof value === 'string' ? value : 'x',
          'attribution.delegation.chain': Array.isArray(value) ? value : ['a'],
          ['__proto__']: 'x',
          constructor: typeof value === 'string' ? value : 'y',
        },
      });
      context.with(trace.setSpan(context.active(), span), () => span.end());
    }
    await pipeline.auditProcessor.forceFlush();
    expect(pipeline.auditProcessor.stats).toMatchObject({ lost: 0, storeErrors: 0 });
    // Eight actions; those whose hostile tier reads as ≥ 2 also left a `started` record.
    expect(pipeline.rows("record_type = 'action'").length).toBe(8);
    const path = pipeline.path;
    await pipeline.store.close();
    const result = await verifyPath(path, { trustedKeys: pinnedKeys });
    expect(result.ok, result.reason).toBe(true);
  });
});

describe('malformed configuration gives the operator a clear error', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchDir('config');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const base = { traceExporter: false as const, instrumentations: [] };

  it('ONBEHALF_SIGNING_KEY and ONBEHALF_TRUSTED_KEYS pointing at garbage fail start-up naming the file', () => {
    const files: Record<string, string> = {
      'not-json.jwk': 'garbage \u0000\u00ff',
      'array.jwk': '[1,2,3]',
      'public-only.jwk': JSON.stringify(trusted.publicJwk),
      'wrong-d.jwk': JSON.stringify({ ...privateJwk(trusted), d: 'AAAA' }),
      'rsa.jwk': JSON.stringify({ kty: 'RSA', n: 'x', e: 'AQAB', d: 'y' }),
      'proto.jwk': '{"__proto__":{"kty":"OKP","crv":"Ed25519","d":"x"}}',
      'empty.jwk': '',
    };
    const paths = Object.entries(files).map(([name, text]) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    });
    mkdirSync(join(dir, 'a-dir'), { recursive: true });
    paths.push(join(dir, 'a-dir'), join(dir, 'missing.jwk'));
    for (const path of paths) {
      for (const variable of ['ONBEHALF_SIGNING_KEY', 'ONBEHALF_TRUSTED_KEYS']) {
        let thrown: unknown;
        try {
          startOnbehalf({ ...base, store: false, env: { [variable]: path } });
        } catch (err) {
          thrown = err;
        }
        expect(thrown, `${variable}=${path}`).toBeInstanceOf(KeyError);
        expect((thrown as Error).message).toContain(path);
      }
    }
    expect(({} as Record<string, unknown>).kty).toBeUndefined();
  });

  it('ONBEHALF_STORE pointing at a directory or a non-database file fails naming the store', () => {
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'SQLite format 2\u0000 but not really '.repeat(100));
    const folder = join(dir, 'store-dir');
    mkdirSync(folder, { recursive: true });
    for (const location of [folder, junk, join(dir, 'no-such-dir', 'x.db')]) {
      let thrown: unknown;
      try {
        startOnbehalf({ ...base, env: { ONBEHALF_STORE: location } });
      } catch (err) {
        thrown = err;
      }
      expect(thrown, location).toBeInstanceOf(StoreError);
      expect((thrown as Error).message).toContain(location);
    }
  });
});
