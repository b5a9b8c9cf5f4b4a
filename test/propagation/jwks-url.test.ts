// A JWKS URL is a trust anchor: refetched on its lifetime, https only (loopback aside), no redirect to
// another origin, a bounded body. Real HTTP servers on loopback.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAttribution } from '../../src/attribution/attribution.js';
import { MAX_JWKS_BYTES } from '../../src/keys/jwks-fetch.js';
import { generateSigningKey, KeyError, loadTrustedKeys } from '../../src/keys/keys.js';
import { AttributionPropagator } from '../../src/propagation/attribution-propagator.js';
import { signAttributionToken } from '../../src/propagation/attribution-token.js';
import { TrustedKeySet } from '../../src/propagation/trusted-key-set.js';
import { boundPublicJwk } from '../helpers/keys.js';

const oldKey = generateSigningKey();
const newKey = generateSigningKey();
const agent = 'agent:nhi:agent-7f3';
const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
const attribution = parseAttribution({ actor: { type: 'agent', id: 'nhi:agent-7f3' }, provenance: 'local' });
const tokenOf = (key: typeof oldKey) => signAttributionToken(attribution, { key, traceId: trace }) as string;

const servers: Server[] = [];
async function serve(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

let served = [boundPublicJwk(oldKey, agent), boundPublicJwk(newKey, agent)];
let up = true;
let jwksUrl: string;
beforeAll(async () => {
  jwksUrl = `${await serve((_req, res) => {
    if (!up) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60' });
    res.end(JSON.stringify({ keys: served }));
  })}/jwks.json`;
});

describe('a JWKS URL is refetched on its lifetime', () => {
  it('a key removed there stops verifying within its Cache-Control max-age; past it, nothing verifies', async () => {
    let now = Date.now();
    const keys = new TrustedKeySet(jwksUrl, { now: () => now, minRefetchIntervalMs: 0 });
    const propagator = new AttributionPropagator({ trustedKeys: keys, verifyCacheSize: 16 });
    await keys.ready();
    expect(propagator.verify(tokenOf(oldKey), trace).ok).toBe(true);

    served = [boundPublicJwk(newKey, agent)];
    now += 30_000; // Half the lifetime: still the keys it fetched.
    expect(propagator.verify(tokenOf(oldKey), trace).ok).toBe(true);
    now += 20_000; // Past 80 % of max-age=60: the next lookup refetches.
    propagator.verify(tokenOf(newKey), trace);
    await keys.ready();
    // The cached verification of the old token is not reused: the key set was reloaded.
    expect(propagator.verify(tokenOf(oldKey), trace)).toMatchObject({ ok: false, reason: 'unknown_key' });
    expect(propagator.verify(tokenOf(newKey), trace).ok).toBe(true);

    // The host stops answering: past the lifetime the keys it gave are no longer trusted.
    up = false;
    now += 61_000;
    expect(propagator.verify(tokenOf(newKey), trace).ok).toBe(false);
    await keys.ready();
    expect(keys.stats.expired).toBeGreaterThan(0);
    expect(keys.stats.loadFailures).toBeGreaterThan(0);
    up = true;
  });
});

describe('a JWKS URL is fetched within bounds', () => {
  it('refuses http: to a host that is not loopback, before any request', () => {
    expect(() => new TrustedKeySet('http://keys.example.com/jwks.json')).toThrow(KeyError);
    expect(() => new TrustedKeySet('http://keys.example.com/jwks.json')).toThrow(/must be https:/);
    expect(() => new TrustedKeySet('http://localhost:1/jwks.json')).not.toThrow();
  });

  it('follows a redirect on the same origin, and refuses one to another origin', async () => {
    const other = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [boundPublicJwk(oldKey, 'agent:nhi:attacker')] }));
    });
    const redirector = await serve((req, res) => {
      if (req.url === '/same') res.writeHead(302, { location: '/real' }).end();
      else if (req.url === '/real') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [boundPublicJwk(newKey, agent)] }));
      } else res.writeHead(302, { location: `${other}/jwks.json` }).end();
    });
    expect((await loadTrustedKeys(`${redirector}/same`)).map((k) => k.kid)).toEqual([newKey.kid]);
    await expect(loadTrustedKeys(`${redirector}/away`)).rejects.toThrow(/redirect to another origin/);
    const keys = new TrustedKeySet(`${redirector}/away`);
    await keys.ready();
    expect(keys.kids()).toEqual([]);
    expect(keys.stats.loadFailures).toBe(1);
  });

  it('refuses a body larger than the bound without holding it in memory', async () => {
    let sent = 0;
    const huge = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (sent < 300 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('close', () => res.destroy());
      pump();
    });
    const declared = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(700 * 1024 * 1024) });
      res.write('{"keys":[');
    });
    const before = process.memoryUsage().rss;
    await expect(loadTrustedKeys(`${huge}/jwks.json`)).rejects.toThrow(/larger than 1048576 bytes/);
    await expect(loadTrustedKeys(`${declared}/jwks.json`)).rejects.toThrow(/larger than/);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
    // The reader stopped soon after the bound: the server never got to send the whole body.
    expect(sent).toBeLessThan(300 * 1024 * 1024);
    expect(MAX_JWKS_BYTES).toBe(1048576);
  });
});
