// One side of the loopback HTTP benchmark, in its own process so each flavour has its own global
// OpenTelemetry state. Usage (from http.bench.mjs, over IPC):
//   node bench/http-child.mjs server <onbehalf|otel> <dir>
//   node bench/http-child.mjs client <onbehalf|otel> <dir> <port> <requests> <concurrency> <perTrace>
// `onbehalf` is startOnbehalf (attribution processor, audit store committing per event, signed
// propagation, http instrumentation), `onbehalf-group` the same with group commit; `otel` is the same NodeSDK and HttpInstrumentation with none of it.
// Neither exports spans: the comparison is the in-process cost, not an exporter's.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { audited, startOnbehalf, withAttribution } from '../dist/index.js';
import { ATTRIBUTION } from './fixtures.mjs';

const [role, flavour, dir, port, requests, concurrency, perTrace] = process.argv.slice(2);
const onbehalf = flavour === 'onbehalf' || flavour === 'onbehalf-group';

function start() {
  const instrumentations = [new HttpInstrumentation()];
  if (onbehalf) {
    return startOnbehalf({
      serviceName: `bench-${role}`,
      store: join(dir, `${role}.db`),
      signingKey: role === 'client' ? join(dir, 'keys', 'signing-key.jwk') : undefined,
      trustedKeys: role === 'server' ? join(dir, 'keys', 'jwks.json') : undefined,
      traceExporter: false,
      // onbehalf-group: the audit store commits in groups every few ms instead of once per event.
      audit: flavour === 'onbehalf-group' ? { commit: 'group' } : undefined,
      instrumentations,
      env: {},
    });
  }
  const sdk = new NodeSDK({
    serviceName: `bench-${role}`,
    instrumentations,
    spanProcessors: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown(), store: undefined };
}

const telemetry = start();
// Required after the SDK started, so the instrumentation has patched it.
const http = createRequire(import.meta.url)('node:http');
const tracer = trace.getTracer('onbehalf-bench');

/** What each request does on the server: one tool call, audited under onbehalf, a plain span otherwise. */
function lookupOrder(id) {
  const body = JSON.stringify({ order: id, status: 'shipped' });
  if (onbehalf) return audited('lookup_order', { target: `order-${id}`, riskTier: 0 }, () => body);
  return tracer.startActiveSpan(
    'execute_tool lookup_order',
    { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup_order' } },
    (span) => {
      span.end();
      return Promise.resolve(body);
    },
  );
}

if (role === 'server') {
  let handled = 0;
  let unattributed = 0;
  const server = http.createServer((req, res) => {
    if (!trace.getActiveSpan()) unattributed++;
    req.resume();
    req.on('end', () => {
      lookupOrder(handled++).then(
        (body) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(body);
        },
        (err) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', async (m) => {
    if (m !== 'stop') return;
    server.close();
    let stored;
    if (telemetry.auditProcessor) {
      await telemetry.auditProcessor.forceFlush();
      stored = telemetry.auditProcessor.stats.stored;
    }
    const verified = telemetry.attributionPropagator?.stats;
    await telemetry.shutdown();
    process.send({ handled, unattributed, stored, verified });
    process.exit(0);
  });
} else {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
  const get = (i) =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: Number(port), path: `/orders/${i}`, agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      });
      req.on('error', reject);
    });
  /** `total` requests over `concurrency` workers; every `perTrace` requests of a worker share one trace. */
  const drive = async (total) => {
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const group = Math.min(Number(perTrace), total - next);
        const first = next;
        next += group;
        await tracer.startActiveSpan('invoke_agent inbox-agent', async (span) => {
          for (let i = 0; i < group; i++) await get(first + i);
          span.end();
        });
      }
    };
    await Promise.all(Array.from({ length: Number(concurrency) }, worker));
  };
  const body = async () => {
    await drive(Math.min(200, Number(requests))); // warm-up: JIT, sockets, key caches
    const t0 = process.hrtime.bigint();
    await drive(Number(requests));
    return Number(requests) / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  const rps = await (onbehalf ? withAttribution(ATTRIBUTION, body) : body());
  agent.destroy();
  await telemetry.shutdown();
  process.send({ rps });
  process.exit(0);
}
