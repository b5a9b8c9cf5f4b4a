// Never silent: when spans cannot reach onbehalf, `node --import onbehalf/register` says so at start-up in
// one line naming the cause and the fix; at exit it says how many spans it saw and how many audit events
// it stored and lost. Each case runs a real child process on the built package.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAuditedApp } from '../helpers/audited-app.js';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.js';

const repo = join(import.meta.dirname, '../..');
const register = join(repo, 'dist/sdk/register.js');
const fixtures = join(import.meta.dirname, '../fixtures/never-silent');
const run = promisify(execFile);

// The API accepts globals registered by its own major at the same or a newer minor. So an app loading
// its own copy of a newer minor than onbehalf's cannot see onbehalf's provider, while an older minor
// can. The repository runs API 1.9 (OpenTelemetry JS 2.x) and 1.10 (3.x); 1.10 is the newest published.
const repoApi = (
  JSON.parse(readFileSync(join(repo, 'node_modules/@opentelemetry/api/package.json'), 'utf8')) as {
    version: string;
  }
).version;
const repoMinor = Number(repoApi.split('.')[1]);
const newerApi = repoMinor === 9 ? '1.10.0' : undefined;
const olderApi = `1.${repoMinor - 1}.0`;

let tmp: string;
let receiver: OtlpReceiver;
/** App projects with their own `@opentelemetry/api` copy, by version. */
const appProjects = new Map<string, string>();

/** A project folder whose node_modules holds `@opentelemetry/api@version`, with the fixture app in it. */
async function appProjectWithApi(version: string): Promise<string> {
  const dir = join(tmp, `app-with-api-${version}`);
  mkdirSync(dir);
  const args = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-save', '--prefix', dir];
  await run('npm', [...args, `@opentelemetry/api@${version}`]).catch((err: Error) => {
    throw new Error(`cannot install @opentelemetry/api@${version} for the app project: ${err.message}`);
  });
  copyFileSync(join(fixtures, 'genai-tool.mjs'), join(dir, 'genai-tool.mjs'));
  return dir;
}

beforeAll(async () => {
  if (!existsSync(register)) await run('npm', ['run', 'build'], { cwd: repo });
  tmp = mkdtempSync(join(tmpdir(), 'onbehalf-never-silent-'));
  receiver = await startOtlpReceiver();
  for (const version of [newerApi, olderApi])
    if (version) appProjects.set(version, await appProjectWithApi(version));
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface RunOptions {
  /** Where the app file is; the fixtures folder by default. */
  dir?: string;
  /** Modules loaded before onbehalf/register. */
  before?: string[];
  env?: Record<string, string>;
}

/** Runs an app under `node --import <repo>/dist/sdk/register.js`; returns its output and its store's action rows. */
async function runApp(name: string, app: string, options: RunOptions = {}) {
  receiver.spans.length = 0;
  const dir = options.dir ?? fixtures;
  const store = join(tmp, `${name}.db`);
  const imports = [...(options.before ?? []), register].flatMap((m) => ['--import', m]);
  const r = await runAuditedApp({
    args: [...imports, join(dir, app)],
    cwd: dir,
    store,
    otlpEndpoint: receiver.url,
    env: { ONBEHALF_AGENT_ID: 'nhi:agent-7f3', ...options.env },
  });
  return { ...r, store };
}

const summaryLine = /^onbehalf: (\d+) spans seen, (\d+) audit events stored in (.+), (\d+) lost\n$/;

describe('a correct setup', () => {
  it('prints no start-up warning, records, and ends with one exit summary line', async () => {
    const r = await runApp('correct', 'genai-tool.mjs');
    expect(r.stdout).toBe('agent done\n');
    expect(r.rows.map((row) => [row.action, row.actor_id])).toEqual([['send_mail', 'nhi:agent-7f3']]);
    // stderr is the exit summary and nothing else; the start-up check's own span is not counted.
    expect(r.stderr).toBe(`onbehalf: 1 spans seen, 1 audit events stored in ${r.store}, 0 lost\n`);
    expect(r.stderr).toMatch(summaryLine);
  });

  it(`an app loading its own, older @opentelemetry/api ${olderApi}, which accepts onbehalf's ${repoApi}: records, no warning`, async () => {
    const dir = appProjects.get(olderApi) ?? '';
    const r = await runApp('older-api', 'genai-tool.mjs', { dir });
    expect(r.rows.map((row) => row.action)).toEqual(['send_mail']);
    expect(r.stderr).toBe(`onbehalf: 1 spans seen, 1 audit events stored in ${r.store}, 0 lost\n`);
  });

  it('ONBEHALF_EXIT_SUMMARY=off prints nothing at all', async () => {
    const r = await runApp('summary-off', 'genai-tool.mjs', { env: { ONBEHALF_EXIT_SUMMARY: 'off' } });
    expect(r.rows).toHaveLength(1);
    expect(r.stderr).toBe('');
  });

  it("never exports the start-up check's span to the trace exporter", async () => {
    const r = await runApp('check-not-exported', 'genai-tool.mjs');
    expect(r.rows).toHaveLength(1);
    // The app's span reached the exporter, so the check's span had the same way out.
    expect(receiver.spans.map((s) => s.name)).toEqual(['execute_tool send_mail']);
    expect(
      receiver.spans.some((s) => s.name.startsWith('onbehalf.') || 'onbehalf.startup_check' in s.attributes),
    ).toBe(false);
  });
});

describe('a broken setup', () => {
  it.skipIf(!newerApi)(
    `an app loading its own @opentelemetry/api ${newerApi ?? `(none newer than ${repoApi} is published)`}: one start-up line naming it and the fix, and a summary of nothing`,
    async () => {
      const r = await runApp('second-api', 'genai-tool.mjs', { dir: appProjects.get(newerApi ?? '') ?? '' });
      expect(r.stdout).toBe('agent done\n');
      // The app's span went to its own API copy, which has no provider: nothing recorded, nothing exported.
      expect(r.rows).toHaveLength(0);
      expect(receiver.spans).toHaveLength(0);
      const [startup, summary, ...rest] = r.stderr.split(/(?<=\n)/);
      expect(rest).toEqual([]);
      expect(startup).toMatch(
        /^onbehalf: spans will not be recorded: the app loads @opentelemetry\/api \S+ \(.*app-with-api-[\d.]+\/node_modules\/@opentelemetry\/api\), which refuses the tracer provider onbehalf registered through @opentelemetry\/api \S+ \(.*\)\. Fix: keep one copy of @opentelemetry\/api .*npm dedupe.*\n$/,
      );
      expect(summary).toBe(
        `onbehalf: 0 spans seen, 0 audit events stored in ${r.store}, 0 lost (no span reached onbehalf: is the app instrumented?)\n`,
      );
    },
  );

  it('another tracer provider registered before onbehalf: one start-up line naming it and the fix', async () => {
    const r = await runApp('other-provider', 'genai-tool.mjs', {
      before: [join(fixtures, 'other-provider.mjs')],
    });
    expect(r.stdout).toBe('agent done\n');
    expect(r.rows).toHaveLength(0);
    const lines = r.stderr.split(/(?<=\n)/);
    expect(lines.filter((l) => l.startsWith('onbehalf: spans will not be recorded'))).toEqual([
      'onbehalf: spans will not be recorded: another OpenTelemetry tracer provider was registered before onbehalf started, ' +
        "so onbehalf's processors see no span. Fix: load onbehalf first (node --import onbehalf/register), or add " +
        "createOnbehalf()'s spanProcessors and sampler to the SDK you start yourself.\n",
    ]);
    expect(lines.at(-1)).toBe(
      `onbehalf: 0 spans seen, 0 audit events stored in ${r.store}, 0 lost (no span reached onbehalf: is the app instrumented?)\n`,
    );
  });
});
