import { generateKeyPairSync, sign } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { parseAttribution } from '../../src/attribution/attribution.js';
import { generateSigningKey, type SigningKey, type TrustedKey } from '../../src/keys/keys.js';
import {
  ATTRIBUTION_TOKEN_TYPE,
  attributionToClaims,
  MAX_ATTRIBUTION_TOKEN_BYTES,
  signAttributionToken,
  verifyAttributionToken,
} from '../../src/propagation/attribution-token.js';
import { trustedKey } from '../helpers/keys.js';

const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
const otherTrace = '0af7651916cd43dd8448eb211c80319c';
const attribution = parseAttribution({
  actor: { type: 'agent', id: 'nhi:agent-c21', name: 'calendar-agent', ownerId: 'tom' },
  principal: { id: 'tom', type: 'human', roles: ['sales'] },
  trigger: { type: 'email', id: 'msg-8821' },
  intent: { id: 'task-1', name: 'answer_order_question' },
  scopes: ['calendar:write'],
  sessionId: 's-1',
  delegationChain: ['tom', 'nhi:agent-7f3', 'nhi:agent-c21'],
  provenance: 'local',
});

/** Every actor these tests sign for: the key is bound to each of them. */
const ACTORS = ['agent:nhi:agent-c21', 'human:tom', `agent:${'a'.repeat(256)}`];
const trusted = (...keys: SigningKey[]) => {
  const map = new Map<string, TrustedKey>(keys.map((k) => [k.kid, trustedKey(k, ...ACTORS)]));
  return (kid: string) => map.get(kid);
};
const key = generateSigningKey();
const keyFor = trusted(key);

/** Builds a token by hand: header and claims as given, signed with `signWith` (or a fixed signature). */
function handmade(header: object, claims: object, signWith: SigningKey | null = key): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = signWith ? sign(null, Buffer.from(`${h}.${p}`), signWith.privateKey).toString('base64url') : '';
  return `${h}.${p}.${sig}`;
}
const now = () => Math.floor(Date.now() / 1000);
const claimsNow = () => attributionToClaims(attribution, trace, now());
const header = { alg: 'EdDSA', typ: ATTRIBUTION_TOKEN_TYPE, kid: key.kid };

describe('attribution tokens', () => {
  it('round-trips the full delegation chain as nested RFC 8693 act claims, verified', () => {
    const token = signAttributionToken(attribution, { key, traceId: trace });
    expect(token).toBeDefined();
    const claims = decodeJwt(token as string);
    expect(claims.sub).toBe('tom');
    expect(claims.act).toMatchObject({ sub: 'nhi:agent-c21', act: { sub: 'nhi:agent-7f3' } });
    expect((claims.act as { act: { act?: unknown } }).act.act).toBeUndefined();
    expect(decodeProtectedHeader(token as string)).toEqual(header);
    const r = verifyAttributionToken(token as string, { keyFor, traceId: trace });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.attribution).toEqual({ ...attribution, provenance: 'verified' });
  });

  it('a human acting directly keeps a one-entry chain', () => {
    const human = parseAttribution({
      actor: { type: 'human', id: 'tom' },
      principal: { id: 'tom' },
      delegationChain: ['tom'],
    });
    const r = verifyAttributionToken(signAttributionToken(human, { key, traceId: trace }) as string, {
      keyFor,
      traceId: trace,
    });
    expect(r.ok && r.attribution.delegationChain).toEqual(['tom']);
  });

  it.each([
    ['alg none', () => handmade({ ...header, alg: 'none' }, claimsNow(), null), 'algorithm'],
    ['alg HS256', () => handmade({ ...header, alg: 'HS256' }, claimsNow()), 'algorithm'],
    ['another typ', () => handmade({ ...header, typ: 'JWT' }, claimsNow()), 'type'],
    ['an unknown kid', () => handmade({ ...header, kid: 'nope' }, claimsNow()), 'unknown_key'],
    ['a crit header', () => handmade({ ...header, crit: ['b64'] }, claimsNow()), 'malformed'],
    [
      'an expired token',
      () => handmade(header, attributionToClaims(attribution, trace, now() - 400)),
      'expired',
    ],
    [
      'a token from the future',
      () => handmade(header, attributionToClaims(attribution, trace, now() + 400)),
      'not_yet_valid',
    ],
    [
      'a day-long lifetime',
      () => handmade(header, attributionToClaims(attribution, trace, now(), 86_400)),
      'lifetime',
    ],
    [
      'another trace',
      () => handmade(header, attributionToClaims(attribution, otherTrace, now())),
      'trace_mismatch',
    ],
    ['bad claims', () => handmade(header, { ...claimsNow(), act: { sub: 'x' } }), 'claims'],
    ['garbage', () => 'not.a.token!', 'malformed'],
    ['two parts', () => 'abc.def', 'malformed'],
    ['an oversized token', () => 'a'.repeat(MAX_ATTRIBUTION_TOKEN_BYTES + 1), 'oversized'],
  ])('refuses %s', (_name, make, reason) => {
    const r = verifyAttributionToken(make(), { keyFor, traceId: trace });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      // The same as a verification fault: code token.<reason>, and a sentence saying what is wrong.
      expect(r.fault.code).toBe(`token.${reason}`);
      expect(r.fault.message.length).toBeGreaterThan(0);
    }
  });

  it('refuses a token signed by a key it does not trust, and a tampered payload', () => {
    const stranger = generateSigningKey();
    const forged = handmade({ ...header, kid: key.kid }, claimsNow(), stranger);
    expect(verifyAttributionToken(forged, { keyFor, traceId: trace })).toMatchObject({
      ok: false,
      reason: 'signature',
    });
    const good = signAttributionToken(attribution, { key, traceId: trace }) as string;
    const [h, , s] = good.split('.');
    const evil = Buffer.from(JSON.stringify({ ...claimsNow(), sub: 'ceo' })).toString('base64url');
    expect(verifyAttributionToken(`${h}.${evil}.${s}`, { keyFor, traceId: trace })).toMatchObject({
      ok: false,
      reason: 'signature',
    });
  });

  it('refuses act nested deeper than the longest chain allowed', () => {
    let act: Record<string, unknown> = { sub: 'a0' };
    for (let i = 1; i < 40; i++) act = { sub: `a${i}`, act };
    const token = handmade(header, { ...claimsNow(), act: { ...act, actor_type: 'agent' } });
    expect(verifyAttributionToken(token, { keyFor, traceId: trace })).toMatchObject({
      ok: false,
      reason: 'chain_too_deep',
    });
    expect(
      verifyAttributionToken(signAttributionToken(attribution, { key, traceId: trace }) as string, {
        keyFor,
        traceId: trace,
        maxChain: 2,
      }),
    ).toMatchObject({ ok: false, reason: 'chain_too_deep' });
  });

  it('drops optional claims, then gives up, rather than exceed the size limit', () => {
    const long = (c: string) => c.repeat(256);
    const big = parseAttribution({
      actor: { type: 'agent', id: long('a') },
      principal: { id: long('p'), roles: Array.from({ length: 32 }, (_, i) => `${long('r').slice(3)}${i}`) },
      scopes: Array.from({ length: 32 }, (_, i) => `${long('s').slice(3)}${i}`),
    });
    const token = signAttributionToken(big, { key, traceId: trace });
    expect(token).toBeDefined();
    expect((token as string).length).toBeLessThanOrEqual(MAX_ATTRIBUTION_TOKEN_BYTES);
    const r = verifyAttributionToken(token as string, { keyFor, traceId: trace });
    expect(r.ok && r.attribution.principal?.id).toBe(long('p'));
    expect(r.ok && r.attribution.scopes).toBeUndefined();
    const chain = Array.from({ length: 32 }, (_, i) => `${'€'.repeat(250)}${i}`);
    const huge = parseAttribution({ actor: { type: 'agent', id: chain[31] }, delegationChain: chain });
    expect(signAttributionToken(huge, { key, traceId: trace })).toBeUndefined();
  });

  it('interoperates with jose: SignJWT tokens verify here, and these verify with jwtVerify', async () => {
    const privateKey = await importJWK(
      { ...(key.privateKey.export({ format: 'jwk' }) as object), alg: 'EdDSA' },
      'EdDSA',
    );
    const fromJose = await new SignJWT(claimsNow())
      .setProtectedHeader({ alg: 'EdDSA', typ: ATTRIBUTION_TOKEN_TYPE, kid: key.kid })
      .sign(privateKey);
    const r = verifyAttributionToken(fromJose, { keyFor, traceId: trace });
    expect(r.ok && r.attribution.actor.id).toBe('nhi:agent-c21');

    const ours = signAttributionToken(attribution, { key, traceId: trace }) as string;
    const publicKey = await importJWK(key.publicJwk, 'EdDSA');
    const verified = await jwtVerify(ours, publicKey, { typ: ATTRIBUTION_TOKEN_TYPE, algorithms: ['EdDSA'] });
    expect(verified.payload.sub).toBe('tom');
    expect(verified.payload.trace_id).toBe(trace);
    // And jose refuses what ours refuses: a tampered token.
    await expect(jwtVerify(`${ours.slice(0, -4)}AAAA`, publicKey)).rejects.toThrow();
  });

  it('accepts only Ed25519 public keys for the signature', () => {
    // An Ed448 key under a trusted kid cannot verify an Ed25519 signature: refused, not thrown.
    const ed448 = generateKeyPairSync('ed448');
    const bogus = (kid: string) =>
      kid === key.kid ? { kid, publicKey: ed448.publicKey, jwk: {} } : undefined;
    const token = signAttributionToken(attribution, { key, traceId: trace }) as string;
    expect(verifyAttributionToken(token, { keyFor: bogus, traceId: trace })).toMatchObject({
      ok: false,
      reason: 'signature',
    });
  });
});

describe('JOSE rules other tools rely on (RFC 7515, 7519, 7797)', () => {
  const verify = (token: string, audience?: string) =>
    verifyAttributionToken(token, { keyFor, traceId: trace, audience });

  it('honors nbf and aud', () => {
    expect(verify(handmade(header, { ...claimsNow(), nbf: now() + 600 }))).toMatchObject({
      reason: 'not_yet_valid',
    });
    expect(verify(handmade(header, { ...claimsNow(), nbf: now() - 5 })).ok).toBe(true);
    const forTools = handmade(header, { ...claimsNow(), aud: ['tool-service', 'billing'] });
    expect(verify(forTools, 'tool-service').ok).toBe(true);
    expect(verify(forTools, 'calendar')).toMatchObject({ reason: 'audience' });
    expect(verify(forTools)).toMatchObject({ reason: 'audience' });
    expect(verify(handmade(header, claimsNow()), 'tool-service')).toMatchObject({ reason: 'audience' });
  });

  it('compares typ as a media type, and accepts fractional NumericDates', () => {
    for (const typ of ['application/onbehalf-attribution+jwt', 'ONBEHALF-Attribution+JWT'])
      expect(verify(handmade({ ...header, typ }, claimsNow())).ok).toBe(true);
    expect(verify(handmade({ ...header, typ: 'application/jwt' }, claimsNow()))).toMatchObject({
      reason: 'type',
    });
    const c = claimsNow();
    expect(verify(handmade(header, { ...c, iat: c.iat + 0.25, exp: c.exp + 0.5 })).ok).toBe(true);
    expect(verify(handmade(header, { ...c, exp: Number.NaN }))).toMatchObject({ reason: 'claims' });
  });

  it('refuses b64 with or without crit: an unencoded payload never passes as an ordinary JWS', () => {
    expect(verify(handmade({ ...header, b64: false }, claimsNow()))).toMatchObject({ reason: 'malformed' });
    expect(verify(handmade({ ...header, b64: false, crit: ['b64'] }, claimsNow()))).toMatchObject({
      reason: 'malformed',
    });
  });
});
