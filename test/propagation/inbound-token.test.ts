import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAttribution } from '../../src/attribution/attribution.js';
import { generateSigningKey, privateJwk } from '../../src/keys/keys.js';
import { AccessTokenVerifier, InboundTokenError } from '../../src/propagation/inbound-token.js';

const idpKey = generateSigningKey();
const otherKey = generateSigningKey();
let jwksServer: Server;
let jwksUrl: string;
let fetches = 0;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  jwksServer = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [idpKey.publicJwk] }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
});
afterAll(async () => {
  context.disable();
  await new Promise((r) => jwksServer.close(r));
});

async function token(
  claims: Record<string, unknown>,
  key = idpKey,
  opts: { aud?: string; exp?: string } = {},
) {
  const pk = await importJWK(privateJwk(key), 'EdDSA');
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'at+jwt' })
    .setIssuer('https://idp.example')
    .setAudience(opts.aud ?? 'tools')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(pk);
}
const verifier = () =>
  new AccessTokenVerifier({ jwks: jwksUrl, issuer: 'https://idp.example', audience: 'tools', typ: 'at+jwt' });

describe('AccessTokenVerifier', () => {
  it('maps sub, nested act and scope to a verified attribution (keys from a JWKS URL)', async () => {
    const v = verifier();
    const jwt = await token({
      sub: 'tom',
      scope: 'orders:read calendar:write',
      act: { sub: 'nhi:agent-c21', act: { sub: 'nhi:agent-7f3' } },
    });
    const a = await v.attributionOf(`Bearer ${jwt}`);
    expect(a).toMatchObject({
      actor: { type: 'agent', id: 'nhi:agent-c21' },
      principal: { id: 'tom', type: 'human' },
      scopes: ['orders:read', 'calendar:write'],
      delegationChain: ['tom', 'nhi:agent-7f3', 'nhi:agent-c21'],
      provenance: 'verified',
    });
    const before = fetches;
    expect(await v.attributionOf(jwt)).toBe(a);
    expect(fetches).toBe(before);
  });

  it('without act, the subject acts itself; scp arrays are scopes', async () => {
    const a = await verifier().attributionOf(await token({ sub: 'tom', scp: ['mail:read'] }));
    expect(a.actor).toEqual({ type: 'human', id: 'tom' });
    expect(a.scopes).toEqual(['mail:read']);
  });

  it.each([
    ['missing', async () => undefined, 'missing'],
    ['another audience', async () => token({ sub: 'tom' }, idpKey, { aud: 'billing' }), 'invalid'],
    ['expired', async () => token({ sub: 'tom' }, idpKey, { exp: '-10m' }), 'invalid'],
    ['an untrusted key', async () => token({ sub: 'tom' }, otherKey), 'invalid'],
    [
      'alg none',
      async () =>
        `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from(
          JSON.stringify({ sub: 'tom', iss: 'https://idp.example', aud: 'tools', exp: 9e9 }),
        ).toString('base64url')}.`,
      'invalid',
    ],
    ['a malformed act', async () => token({ sub: 'tom', act: { name: 'x' } }), 'claims'],
    [
      'act nested too deep',
      async () => {
        let act: Record<string, unknown> = { sub: 'a0' };
        for (let i = 1; i < 40; i++) act = { sub: `a${i}`, act };
        return token({ sub: 'tom', act });
      },
      'chain_too_deep',
    ],
  ])('refuses %s', async (_name, make, reason) => {
    const err = await verifier()
      .attributionOf(await make())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InboundTokenError);
    expect((err as InboundTokenError).reason).toBe(reason);
  });

  it('run() puts the attribution in context for the handler, and refuses before it runs', async () => {
    const v = new AccessTokenVerifier({
      jwks: [{ kid: idpKey.kid, publicKey: idpKey.publicKey, jwk: idpKey.publicJwk }],
      issuer: 'https://idp.example',
      audience: 'tools',
    });
    const seen = await v.run(
      `Bearer ${await token({ sub: 'tom', act: { sub: 'nhi:agent-7f3' } })}`,
      async () => {
        await new Promise((r) => setImmediate(r));
        return getAttribution();
      },
    );
    expect(seen?.actor.id).toBe('nhi:agent-7f3');
    let ran = false;
    await expect(
      v.run('Bearer nope', () => {
        ran = true;
      }),
    ).rejects.toBeInstanceOf(InboundTokenError);
    expect(ran).toBe(false);
  });

  it('needs an issuer and an audience', () => {
    expect(() => new AccessTokenVerifier({ jwks: jwksUrl, issuer: '', audience: 'tools' })).toThrow(
      /issuer is required/,
    );
    expect(() => new AccessTokenVerifier({ jwks: jwksUrl, issuer: 'x', audience: [] })).toThrow(
      /audience is required/,
    );
  });
});

describe('AccessTokenVerifier and human actors', () => {
  it('a human actor comes only from a token with no act: actorType human is refused', async () => {
    expect(
      () =>
        new AccessTokenVerifier({
          jwks: jwksUrl,
          issuer: 'https://idp.example',
          audience: 'tools',
          actorType: 'human' as 'agent',
        }),
    ).toThrow(/actorType human/);
    // With act, the actor is an agent whatever the act claim says about itself.
    const jwt = await token({ sub: 'tom', act: { sub: 'tom', actor_type: 'human' } });
    const a = await verifier().attributionOf(jwt);
    expect(a.actor).toEqual({ type: 'agent', id: 'tom' });
    // Without act, the authenticated subject acts itself, as a human.
    const direct = await verifier().attributionOf(await token({ sub: 'tom' }));
    expect(direct.actor).toEqual({ type: 'human', id: 'tom' });
  });
});
