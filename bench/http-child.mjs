// One side of the loopback HTTP benchmark, in its own process so each flavour has its own global
// OpenTelemetry state. Usage (from http.bench.mjs, over IPC):
//   node bench/http-child.mjs server <flavour> <dir> <marks>
//   node bench/http-child.mjs client <flavour> <dir> <port> <marks> <concurrency> <perTrace>
// <marks> is `cold,warm,measured`: the client times the first `cold` requests (cold figure), sends
// requests up to `warm` (warm-up), then times `measured` more (steady state); the server samples its
// own CPU time (process.cpuUsage) at the same request counts, and per block of BLOCK requests.
// Flavours:
//   otel                   NodeSDK + HttpInstrumentation, a plain `execute_tool` span per request
//   floor-<commit>         otel + a raw insert of the same audit row, durable in that commit mode
//   onbehalf-nostore       startOnbehalf without a store: attribution and signed propagation only
//   onbehalf-<commit>      startOnbehalf with the SQLite store committing in that mode
// Neither side exports spans: the comparison is the in-process cost, not an exporter's.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { audited, startOnbehalf, withAttribution } from '../dist/index.js';
import { ATTRIBUTION, lookupOrderEvent } from './fixtures.mjs';
import { rawDurableWriter } from './raw-writer.mjs';

const [role, flavour, dir, ...rest] = process.argv.slice(2);
const onbehalf = flavour.startsWith('onbehalf');
const commit = flavour.split('-')[1];
/** Server CPU is sampled per block of this many requests, to show where warm-up ends. */
const BLOCK = 500;

function start() {
  const instrumentations = [new HttpInstrumentation()];
  if (onbehalf) {
    const store = commit === 'nostore' ? false : join(dir, `${role}-${flavour}-${process.pid}.db`);
    return startOnbehalf({
      serviceName: `bench-${role}`,
      // The client only propagates: its store would stay empty.
      store: role === 'server' ? store : false,
      signingKey: role === 'client' ? join(dir, 'keys', 'signing-key.jwk') : undefined,
      trustedKeys: role === 'server' ? join(dir, 'keys', 'jwks.json') : undefined,
      traceExporter: false,
      audit: commit === 'nostore' ? undefined : { commit },
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

// Before the SDK starts: making the row uses (and then releases) the global context manager.
const raw =
  role === 'server' && flavour.startsWith('floor-')
    ? rawDurableWriter(join(dir, `${flavour}-${process.pid}.db`), commit, { event: await lookupOrderEvent() })
    : undefined;
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
      // The floor: the same row made durable as the commit mode makes it, before the response.
      return raw ? raw.write().then(() => body) : Promise.resolve(body);
    },
  );
}

function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** User CPU alone: the server's own JavaScript and native work, without the kernel's socket time. */
function userMicros() {
  return process.cpuUsage().user;
}

if (role === 'server') {
  const [cold, warm, measured] = rest[0].split(',').map(Number);
  const samples = new Map();
  const userSamples = new Map();
  const blocks = [];
  let lastBlock = cpuMicros();
  let handled = 0;
  let unattributed = 0;
  const server = http.createServer((req, res) => {
    if (!trace.getActiveSpan()) unattributed++;
    const n = handled++;
    if (n === 0 || n === cold || n === warm || n === warm + measured) {
      samples.set(n, cpuMicros());
      userSamples.set(n, userMicros());
    }
    if (n > 0 && n % BLOCK === 0) {
      const now = cpuMicros();
      blocks.push((now - lastBlock) / BLOCK);
      lastBlock = now;
    }
    req.resume();
    req.on('end', () => {
      lookupOrder(n).then(
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
    // The request after the last measured one never comes: sample the end now.
    if (!samples.has(warm + measured)) {
      samples.set(warm + measured, cpuMicros());
      userSamples.set(warm + measured, userMicros());
    }
    const per = (a, b, n, from = samples) => (from.get(b) - from.get(a)) / n;
    const cpu = {
      cold: per(0, cold, cold),
      steady: per(warm, warm + measured, measured),
      userSteady: per(warm, warm + measured, measured, userSamples),
      blocks,
    };
    let stored;
    if (telemetry.auditProcessor) {
      await telemetry.auditProcessor.forceFlush();
      stored = telemetry.auditProcessor.stats.stored;
    }
    if (raw) stored = await raw.close();
    await telemetry.shutdown();
    process.send({ handled, unattributed, stored, cpu });
    process.exit(0);
  });
} else {
  const [port, marks, concurrency, perTrace] = rest;
  const [cold, warm, measured] = marks.split(',').map(Number);
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
  const timed = async (n) => {
    const t0 = process.hrtime.bigint();
    await drive(n);
    return n / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  const body = async () => {
    const coldRps = await timed(cold);
    await drive(warm - cold);
    const steadyRps = await timed(measured);
    return { cold: coldRps, steady: steadyRps };
  };
  const rps = await (onbehalf ? withAttribution(ATTRIBUTION, body) : body());
  agent.destroy();
  await telemetry.shutdown();
  process.send({ rps });
  process.exit(0);
}
