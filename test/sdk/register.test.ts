import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../..');
const fixtures = join(import.meta.dirname, '../fixtures/register');
const run = promisify(execFile);

interface Received {
  path: string;
  contentType: string | undefined;
  body: Buffer;
}

/** A real OTLP/HTTP receiver on loopback that keeps every request it gets. */
let server: Server;
let endpoint: string;
let received: Received[] = [];
let tmp: string;

beforeAll(async () => {
  // `npm test` builds first (pretest); a bare `vitest run` on a fresh clone needs dist/ too.
  if (!existsSync(join(repo, 'dist/sdk/register.js'))) await run('npm', ['run', 'build'], { cwd: repo });
  tmp = mkdtempSync(join(tmpdir(), 'onbehalf-register-'));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks),
      });
      if (req.url?.startsWith('/v1/')) {
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('pong');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs a fixture app under `node --import onbehalf/register` with only the variables given. */
async function runApp(app: string, extraEnv: Record<string, string>) {
  received = [];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmp,
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    ONBEHALF_STORE: join(tmp, `${app}.db`),
    FIXTURE_TARGET: endpoint,
    ...extraEnv,
  };
  const { stdout, stderr, code } = await run(
    process.execPath,
    ['--import', 'onbehalf/register', join(fixtures, app)],
    {
      cwd: repo,
      env,
    },
  ).then(
    (r) => ({ ...r, code: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => ({
      stdout: e.stdout,
      stderr: e.stderr,
      code: e.code,
    }),
  );
  const traces = received.filter((r) => r.path === '/v1/traces');
  const body = Buffer.concat(traces.map((r) => r.body));
  return { stdout, stderr, code, traces, body };
}

const count = (body: Buffer, s: string) => {
  let n = 0;
  for (let i = body.indexOf(s); i !== -1; i = body.indexOf(s, i + 1)) n++;
  return n;
};

const agentEnv = {
  ONBEHALF_AGENT_ID: 'nhi:agent-7f3',
  ONBEHALF_AGENT_NAME: 'inbox-agent',
  ONBEHALF_AGENT_OWNER: 'tom',
};

describe('node --import onbehalf/register', () => {
  for (const [app, kind, workSpan, pingPath] of [
    ['app.mjs', 'an ESM', 'fixture-esm-work', '/ping-esm'],
    ['app.cjs', 'a CommonJS', 'fixture-cjs-work', '/ping-cjs'],
  ] as const) {
    it(`${kind} app that simply ends exports its spans, with the default actor, over OTLP/HTTP protobuf`, async () => {
      const r = await runApp(app, { ...agentEnv, OTEL_SERVICE_NAME: `fixture-${app}` });
      expect(r.stdout).toContain('app done');
      // The app's own request reached the server, so the span for it had a real call to record.
      expect(received.some((x) => x.path === pingPath)).toBe(true);
      expect(r.traces.length).toBeGreaterThan(0);
      for (const t of r.traces) expect(t.contentType).toBe('application/x-protobuf');
      expect(r.body.includes(`fixture-${app}`)).toBe(true);
      expect(r.body.includes('attribution.actor.id')).toBe(true);
      expect(r.body.includes('nhi:agent-7f3')).toBe(true);
      expect(r.body.includes('attribution.actor.owner.id')).toBe(true);
      expect(r.body.includes('gen_ai.agent.name')).toBe(true);
      expect(r.body.includes('inbox-agent')).toBe(true);
      // The app's span was flushed at exit, exactly once (no second pipeline exporting it again).
      expect(count(r.body, workSpan)).toBe(1);
      // The outbound call was auto-instrumented: its URL is on a client span.
      expect(r.body.includes(pingPath)).toBe(true);
    });
  }

  it('with a store it cannot open, stops before the app with one line naming the store', async () => {
    const r = await runApp('app.mjs', { ...agentEnv, ONBEHALF_STORE: join(tmp, 'no-such-dir', 'audit.db') });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('app done');
    expect(r.stderr).toMatch(
      /^onbehalf: cannot start, so the app was not started either: store .*no-such-dir\/audit\.db: cannot open: .*directory does not exist\n$/,
    );
  });

  it('without ONBEHALF_AGENT_ID the app still runs and exports, with no actor', async () => {
    const r = await runApp('app.mjs', { OTEL_SERVICE_NAME: 'fixture-anonymous' });
    expect(r.stdout).toContain('esm app done');
    expect(r.body.includes('fixture-esm-work')).toBe(true);
    expect(r.body.includes('attribution.actor.id')).toBe(false);
  });
});
