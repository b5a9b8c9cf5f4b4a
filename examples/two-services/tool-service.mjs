// The tool service: agents call it over HTTP. Its spans say who really acted and for whom, because the
// attribution arrives signed and is checked against the keys this service trusts (ONBEHALF_TRUSTED_KEYS).
// A caller that merely claims to act for someone (a plain `baggage: attribution.principal.id=…` header)
// is recorded as a claim, never as the principal.
//
//   ONBEHALF_TRUSTED_KEYS=keys/jwks.json node examples/two-services/tool-service.mjs
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { audited, getAttribution, startOnbehalf } from 'onbehalf';

/**
 * Starts onbehalf, then an HTTP server on `host:port` with one tool, `GET /orders/:id`.
 * `options` go to startOnbehalf (trustedKeys, spanProcessors, …).
 */
export async function startToolService({ port = 0, host = '127.0.0.1', log = () => {}, ...options } = {}) {
  const onbehalf = startOnbehalf({ serviceName: 'tool-service', ...options });
  // Loaded after startOnbehalf so the http instrumentation patches it; a static ESM import would be
  // bound before (`node --import onbehalf/register` takes care of that for apps you cannot change).
  const http = createRequire(import.meta.url)('node:http');
  const server = http.createServer((req, res) => {
    const match = /^\/orders\/([\w-]+)$/.exec(req.url ?? '');
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const orderId = match[1];
    audited('lookup_order', { target: orderId, riskTier: 0 }, () => ({ orderId, status: 'shipped' })).then(
      (order) => {
        const a = getAttribution();
        log(
          `tool-service: lookup_order ${orderId} actor=${a?.actor.id} on_behalf_of=${a?.principal?.id}` +
            ` trigger=${a?.trigger ? `${a.trigger.type}:${a.trigger.id}` : '-'}` +
            ` chain=${a?.delegationChain?.join('>') ?? '-'} provenance=${a?.provenance ?? '-'}`,
        );
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ order, attribution: a ?? null }));
      },
      (err) => {
        res.writeHead(500).end(String(err));
      },
    );
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const url = `http://${host}:${server.address().port}`;
  return {
    url,
    onbehalf,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await onbehalf.shutdown();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const service = await startToolService({ port: Number(process.env.PORT ?? 0), log: console.log });
  console.log(`tool-service listening on ${service.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'])
    process.once(signal, () => service.close().then(() => process.exit(0)));
}
