import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTable } from '../../src/cli/registry/command.js';
import { COMMANDS } from '../../src/cli/registry/registry.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('the CLI registry', () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))(
    '%s --help lists every option the command parses, and exits 0',
    (name, command) => {
      const r = run(name, '--help');
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^Usage: onbehalf ${name}\\b`));
      // What --help lists is what parseArgs accepts: the same table, nothing more, nothing less.
      const listed = [...r.stdout.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]);
      expect(listed.sort()).toEqual(Object.keys(parseTable(command)).sort());
      expect(run(name, '-h').stdout).toBe(r.stdout);
      expect(run('help', name).stdout).toBe(r.stdout);
    },
  );

  it('lists every command in the overall usage, and only those', () => {
    const usage = run('--help').stdout;
    const named = [...usage.matchAll(/^ {2}onbehalf ([a-z-]+)/gm)].map((m) => m[1]);
    expect(named).toEqual(COMMANDS.map((c) => c.name));
  });

  it('refuses an unknown option or a missing argument with the command’s help, exit 2', () => {
    const r = run('query', 'x.db', '--frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("query: Unknown option '--frobnicate'");
    expect(r.stderr).toContain('(onbehalf query --help for more)');
    const missing = run('timeline', 'x.db');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('timeline: --trigger ID is required');
    expect(run('sql', 'x.db').status).toBe(2);
    expect(run('help', 'frobnicate').status).toBe(2);
  });
});
