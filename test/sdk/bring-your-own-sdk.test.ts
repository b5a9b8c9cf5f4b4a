// "Bring your own OpenTelemetry SDK": apps that already start their own SDK (`new NodeSDK(...)`,
// @vercel/otel's registerOTel, Langfuse's span processor) add onbehalf with createOnbehalf(). Each runs
// as a child process (test/fixtures/byo/, importing the built package), with a real SQLite store,
// its own exporter pointed at a loopback OTLP receiver, and a real loopback HTTP call to a tool service.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, privateJwk } from '../../src/keys/keys.js';
import { runAuditedApp } from '../helpers/audited-app.js';
import { inboxAgentColumns } from '../helpers/inbox-agent-row.js';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';

const repo = join(import.meta.dirname, '../..');
const fixtures = join(import.meta.dirname, '../fixtures/byo');
const run = promisify(execFile);

// @vercel/otel 2.1.3 and @langfuse/otel 5.11.1 declare peers on OpenTelemetry JS 2.x only
// (sdk-trace-base, resources, core ^2): they cannot run on the 3.x line (sdk-node 0.30x).
// (Read from the folder: sdk-node 0.30x's `exports` do not offer `./package.json`.)
const sdkNodeVersion = (
  JSON.parse(readFileSync(join(repo, 'node_modules/@opentelemetry/sdk-node/package.json'), 'utf8')) as {
    version: string;
  }
).version;
const onOtel3 = sdkNodeVersion.startsWith('0.30');
/** Said in the test's name when it is skipped, so the run shows why. */
const otel2Only = onOtel3
  ? ` (skipped: needs OpenTelemetry JS 2.x, @opentelemetry/sdk-node here is ${sdkNodeVersion})`
  : '';

let tmp: string;
let receiver: OtlpReceiver;
let keyEnv: Record<string, string>;

beforeAll(async () => {
  if (!existsSync(join(repo, 'dist/index.js'))) await run('npm', ['run', 'build'], { cwd: repo });
  tmp = mkdtempSync(join(tmpdir(), 'onbehalf-byo-'));
  receiver = await startOtlpReceiver();
  // The agent signs the attribution it sends; the tool service trusts that key, so it can believe it.
  const key = generateSigningKey();
  writeFileSync(join(tmp, 'agent.jwk'), JSON.stringify(privateJwk(key)));
  writeFileSync(join(tmp, 'jwks.json'), JSON.stringify({ keys: [key.publicJwk] }));
  keyEnv = { ONBEHALF_SIGNING_KEY: join(tmp, 'agent.jwk'), ONBEHALF_TRUSTED_KEYS: join(tmp, 'jwks.json') };
});

afterAll(async () => {
  await receiver?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs one fixture app with only the variables given; returns its output and its store's action rows. */
async function runFixture(app: string, env: Record<string, string> = {}) {
  const name = env.FIXTURE_EXPORT ? `${app}-${env.FIXTURE_EXPORT}` : app;
  receiver.spans.length = 0;
  receiver.requests.length = 0;
  const store = join(tmp, `${name}.db`);
  const r = await runAuditedApp({
    args: [join(fixtures, app)],
    cwd: repo,
    store,
    otlpEndpoint: receiver.url,
    env: { ...keyEnv, ...env },
  });
  return { ...r, saw: JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') };
}

type Run = Awaited<ReturnType<typeof runFixture>>;

/** What every variant must show: one attributed row per tool call, attribution carried over HTTP. */
function expectRecorded(r: Run) {
  // Start-up and shutdown said nothing: a working setup prints no warning.
  expect(r.stderr).toBe('');
  const sendMail = r.rows.filter((row) => row.action === 'send_mail');
  const lookup = r.rows.filter((row) => row.action === 'lookup_order');
  expect(sendMail).toHaveLength(1);
  expect(lookup).toHaveLength(1);
  expect(sendMail[0]).toMatchObject({
    ...inboxAgentColumns('actor_id', 'on_behalf_of', 'trigger_id'),
    target: 'alice@example.com',
    result: 'ok',
    provenance: 'local',
    service_name: 'inbox-agent',
  });
  // The tool service's row: attribution arrived over HTTP, signed, and was believed.
  expect(r.saw.toolServiceSaw).toEqual({ principal: 'tom', provenance: 'verified' });
  expect(lookup[0]).toMatchObject({ actor_id: 'nhi:agent-7f3', on_behalf_of: 'tom', provenance: 'verified' });
  // One trace across the call.
  expect(lookup[0]?.trace_id).toBe(sendMail[0]?.trace_id);
  expect(lookup[0]?.parent_span_id).toBe(sendMail[0]?.span_id);
}

/** The app's own exporter got the tool spans, with the attribution onbehalf stamped. */
function expectExported(service: string) {
  const tool = receiver.spans.find((s) => s.name === 'execute_tool send_mail');
  expect(tool, `${service}: the app's exporter received no send_mail span`).toBeDefined();
  expect(tool?.attributes['attribution.principal.id']).toBe('tom');
  expect(tool?.attributes['attribution.actor.id']).toBe('nhi:agent-7f3');
  expect(tool?.resource['service.name']).toBe('inbox-agent');
  const downstream = receiver.spans.find((s) => s.name === 'execute_tool lookup_order');
  expect(downstream?.attributes['attribution.principal.id']).toBe('tom');
  expect(downstream?.parentSpanId).toBe(tool?.spanId);
}

describe('createOnbehalf() in an app that starts its own SDK', () => {
  it(`new NodeSDK(...) with its own OTLP exporter (sdk-node ${sdkNodeVersion})`, async () => {
    const r = await runFixture('nodesdk.mjs');
    expectRecorded(r);
    expectExported('NodeSDK');
    expect(receiver.requests.some((q) => q.path === '/v1/traces' && q.status === 200)).toBe(true);
  });

  it.skipIf(onOtel3)(`@vercel/otel registerOTel, its 'auto' OTLP export kept${otel2Only}`, async () => {
    const r = await runFixture('vercel.mjs');
    expectRecorded(r);
    expectExported('@vercel/otel');
  });

  it.skipIf(onOtel3)(
    `Langfuse's LangfuseSpanProcessor, exporting to a loopback Langfuse${otel2Only}`,
    async () => {
      const r = await runFixture('nodesdk.mjs', {
        FIXTURE_EXPORT: 'langfuse',
        // Only Langfuse exports here: a trace received comes from its processor.
        OTEL_EXPORTER_OTLP_ENDPOINT: '',
        LANGFUSE_BASE_URL: receiver.url,
        LANGFUSE_PUBLIC_KEY: 'pk-lf-onbehalf-test',
        LANGFUSE_SECRET_KEY: 'sk-lf-onbehalf-test',
      });
      expectRecorded(r);
      const langfuse = receiver.requests.filter((q) => q.path === '/api/public/otel/v1/traces');
      expect(langfuse.length).toBeGreaterThan(0);
      expect(langfuse[0]?.contentType).toMatch(/^application\/json/);
      expect(langfuse[0]?.headers.authorization).toBe(
        `Basic ${Buffer.from('pk-lf-onbehalf-test:sk-lf-onbehalf-test').toString('base64')}`,
      );
      expectExported('Langfuse');
    },
  );
});
