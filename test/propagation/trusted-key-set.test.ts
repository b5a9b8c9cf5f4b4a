import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAttribution } from '../../src/attribution/attribution.js';
import { generateSigningKey, KeyError, writeKeyPair } from '../../src/keys/keys.js';
import { AttributionPropagator } from '../../src/propagation/attribution-propagator.js';
import { signAttributionToken } from '../../src/propagation/attribution-token.js';
import { TrustedKeySet } from '../../src/propagation/trusted-key-set.js';
import { startOnbehalf } from '../../src/sdk/start.js';
import { boundPublicJwk } from '../helpers/keys.js';

const oldKey = generateSigningKey();
const newKey = generateSigningKey();
let served = [boundPublicJwk(oldKey, 'agent:nhi:agent-7f3')];
let fetches = 0;
let server: Server;
let url: string;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'onbehalf-keys-'));
  server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: served }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
const agent = parseAttribution({
  actor: { type: 'agent', id: 'nhi:agent-7f3' },
  principal: { id: 'tom' },
  provenance: 'local',
});

describe('TrustedKeySet', () => {
  it('loads a JWKS URL in the background and picks up a rotated key on its first unknown kid', async () => {
    const keys = new TrustedKeySet(url, { minRefetchIntervalMs: 0 });
    const propagator = new AttributionPropagator({ trustedKeys: keys });
    const oldToken = signAttributionToken(agent, { key: oldKey, traceId: trace }) as string;
    // Before the first load finishes nothing verifies, and that is counted.
    expect(propagator.verify(oldToken, trace).ok).toBe(false);
    expect(keys.stats.notLoaded).toBe(1);
    await keys.ready();
    const before = propagator.verify(oldToken, trace);
    expect(before.ok && before.attribution.actor.id).toBe('nhi:agent-7f3');

    // Rotation: the new key speaks for the same agent as the old one.
    served = [boundPublicJwk(oldKey, 'agent:nhi:agent-7f3'), boundPublicJwk(newKey, 'agent:nhi:agent-7f3')];
    const newToken = signAttributionToken(agent, { key: newKey, traceId: trace }) as string;
    expect(propagator.verify(newToken, trace)).toMatchObject({ ok: false, reason: 'unknown_key' });
    await keys.ready();
    const after = propagator.verify(newToken, trace);
    expect(after.ok && after.attribution.actor.id).toBe('nhi:agent-7f3');
  });

  it('rate-limits refetches caused by unknown kids', async () => {
    const keys = new TrustedKeySet(url);
    await keys.ready();
    const start = fetches;
    for (let i = 0; i < 20; i++) keys.get(`made-up-${i}`);
    await keys.ready();
    expect(fetches).toBe(start);
    expect(keys.stats.unknownKid).toBe(20);
  });

  it('a JWKS URL that fails leaves tokens unverified and is counted, not thrown', async () => {
    const keys = new TrustedKeySet('http://127.0.0.1:1/jwks.json');
    await keys.ready();
    expect(keys.stats.loadFailures).toBe(1);
    expect(keys.get(oldKey.kid)).toBeUndefined();
  });

  it('startOnbehalf fails with a KeyError on a broken key file instead of running unsigned', () => {
    const broken = join(tmp, 'broken.jwk');
    writeFileSync(broken, '{"kty":"OKP"');
    expect(() => startOnbehalf({ signingKey: broken, env: {} })).toThrow(KeyError);
    expect(() => startOnbehalf({ env: { ONBEHALF_SIGNING_KEY: broken } })).toThrow(
      /broken\.jwk: not valid JSON/,
    );
    expect(() => startOnbehalf({ env: { ONBEHALF_TRUSTED_KEYS: join(tmp, 'missing.json') } })).toThrow(
      KeyError,
    );
    const { privatePath, publicPath } = writeKeyPair(join(tmp, 'ok'), generateSigningKey());
    expect(() => startOnbehalf({ signingKey: publicPath, env: {} })).toThrow(/not a private Ed25519 JWK/);
    expect(privatePath).toContain('signing-key.jwk');
  });
});
