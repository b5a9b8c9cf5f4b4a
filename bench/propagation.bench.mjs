// Cost of carrying attribution across processes: inject and extract of the AttributionPropagator (with
// and without its caches) against the plain W3C baggage propagator carrying the same readable entries.
//
//   npm run build && node bench/propagation.bench.mjs
import { sign, verify } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import { do_not_optimize, measure } from 'mitata';
import { AttributionPropagator, contextWithAttribution, parseAttribution } from '../dist/index.js';
import { generateSigningKey } from '../dist/keys/index.js';
import { signAttributionToken, verifyAttributionToken } from '../dist/propagation/index.js';

const hex = (n, i) => i.toString(16).padStart(n, '0');
const spanContext = (i) => ({
  traceId: hex(32, i + 1),
  spanId: hex(16, i + 1),
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
});
const attribution = parseAttribution({
  actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
  principal: { id: 'tom', type: 'human' },
  trigger: { type: 'email', id: 'msg-8821' },
  intent: { name: 'answer_order_question' },
  scopes: ['orders:read', 'calendar:write'],
  delegationChain: ['tom', 'nhi:agent-7f3'],
  provenance: 'local',
});

/** Rows of {@link run}: median ns per call, and the ratio to the baseline it is compared with. */
export async function run({ print = true } = {}) {
  const key = generateSigningKey();
  // The receiver's key is bound to the agent it speaks for (docs/trust-model.md).
  const jwk = { ...key.publicJwk, onbehalf_actors: ['agent:nhi:agent-7f3'] };
  const trusted = [{ kid: key.kid, publicKey: key.publicKey, jwk }];
  const signer = new AttributionPropagator({ signingKey: key });
  const cached = new AttributionPropagator({ trustedKeys: trusted });
  const uncached = new AttributionPropagator({ trustedKeys: trusted, verifyCacheSize: 0 });
  const w3c = new W3CBaggagePropagator();

  const ctx = contextWithAttribution(attribution, trace.setSpanContext(ROOT_CONTEXT, spanContext(0)));
  // One context per trace, more than the signer remembers per attribution: every call signs anew.
  const fresh = Array.from({ length: 1024 }, (_, i) =>
    contextWithAttribution(attribution, trace.setSpanContext(ROOT_CONTEXT, spanContext(i + 1))),
  );
  // The baseline carries the same readable entries as plain baggage.
  const plainBaggage = propagation.createBaggage({
    'attribution.actor.id': { value: 'nhi:agent-7f3' },
    'attribution.actor.type': { value: 'agent' },
    'attribution.principal.id': { value: 'tom' },
    'attribution.trigger.type': { value: 'email' },
    'attribution.trigger.id': { value: 'msg-8821' },
    'attribution.intent.name': { value: 'answer_order_question' },
  });
  const plainCtx = propagation.setBaggage(ctx, plainBaggage);

  const signed = {};
  signer.inject(ctx, signed, defaultTextMapSetter);
  const plainHeaders = {};
  w3c.inject(plainCtx, plainHeaders, defaultTextMapSetter);
  const remote = trace.setSpanContext(ROOT_CONTEXT, spanContext(0));
  const check = cached.extract(remote, signed, defaultTextMapGetter);
  if (check === remote) throw new Error('benchmark setup: the signed header did not verify');

  // The token alone, against raw Ed25519 over the same signing input (header.payload).
  const token = signAttributionToken(attribution, { key, traceId: spanContext(0).traceId });
  const input = Buffer.from(token.slice(0, token.lastIndexOf('.')));
  const signature = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
  const trustedKey = trusted[0];
  const verifyOptions = {
    keyFor: (kid) => (kid === key.kid ? trustedKey : undefined),
    traceId: spanContext(0).traceId,
  };
  if (!verifyAttributionToken(token, verifyOptions).ok)
    throw new Error('benchmark setup: token did not verify');
  let i = 0;
  let t = 0;
  const cases = [
    [
      'W3CBaggagePropagator.inject (6 plain entries)',
      () => w3c.inject(plainCtx, {}, defaultTextMapSetter),
      null,
    ],
    ['AttributionPropagator.inject (token cached)', () => signer.inject(ctx, {}, defaultTextMapSetter), 0],
    [
      'AttributionPropagator.inject (signs every call)',
      () => signer.inject(fresh[i++ & 1023], {}, defaultTextMapSetter),
      0,
    ],
    [
      'W3CBaggagePropagator.extract (6 plain entries)',
      () => w3c.extract(remote, plainHeaders, defaultTextMapGetter),
      null,
    ],
    [
      'AttributionPropagator.extract (verify cache hit)',
      () => cached.extract(remote, signed, defaultTextMapGetter),
      3,
    ],
    [
      'AttributionPropagator.extract (no cache)',
      () => uncached.extract(remote, signed, defaultTextMapGetter),
      3,
    ],
    [
      'raw Ed25519 sign of a token’s signing input (node:crypto)',
      () => sign(null, input, key.privateKey),
      null,
    ],
    [
      'signAttributionToken (claims, JSON, base64url, Ed25519)',
      () => signAttributionToken(attribution, { key, traceId: spanContext(t++ & 1023).traceId }),
      6,
    ],
    [
      'raw Ed25519 verify of the same bytes (node:crypto)',
      () => verify(null, input, key.publicKey, signature),
      null,
    ],
    ['verifyAttributionToken (uncached)', () => verifyAttributionToken(token, verifyOptions), 8],
  ];
  const rows = [];
  for (const [name, fn, baselineIndex] of cases) {
    const stats = await measure(() => do_not_optimize(fn()));
    const baseline = baselineIndex === null ? undefined : rows[baselineIndex];
    rows.push({
      name,
      medianNs: stats.p50,
      baselineName: baseline?.name ?? null,
      ratio: baseline ? stats.p50 / baseline.medianNs : null,
    });
  }
  if (print) {
    for (const r of rows) {
      const vs = r.baselineName ? `  ${r.ratio.toFixed(1)}x ${r.baselineName.split(' ')[0]}` : '';
      console.log(`${r.name.padEnd(50)} ${(r.medianNs / 1000).toFixed(2).padStart(8)} µs${vs}`);
    }
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
