import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as semconv from '@opentelemetry/semantic-conventions/incubating';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import * as generated from '../../src/conventions/generated.js';
import * as selfMetrics from '../../src/metrics/self-metrics.js';

const repo = join(import.meta.dirname, '../..');
const run = promisify(execFile);

/** Exit code, stdout and stderr of the generator run in `root`. */
async function generator(root: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [join(root, 'scripts/generate-conventions.mjs'), ...args],
      {
        cwd: root,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

interface YamlAttribute {
  id?: string;
  ref?: string;
  brief?: string;
  stability?: string;
  examples?: unknown[];
  type?: string | { members: { id: string; value: string; brief?: string; stability?: string }[] };
}
interface YamlGroup {
  id: string;
  type?: string;
  metric_name?: string;
  instrument?: string;
  unit?: string;
  brief?: string;
  stability?: string;
  attributes?: YamlAttribute[];
}
const groupsOf = (file: string) =>
  (parse(readFileSync(join(repo, 'conventions', file), 'utf8')) as { groups: YamlGroup[] }).groups;
/** The attributes the file defines (its metric groups only refer to them). */
const load = (file: string) =>
  groupsOf(file)
    .filter((g) => g.type !== 'metric')
    .flatMap((g) => g.attributes ?? []);
const constName = (id: string) => id.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
const exported = generated as Record<string, string>;

describe('the generated conventions match the YAML', () => {
  it('node scripts/generate-conventions.mjs --check exits 0 in the repository', async () => {
    const r = await generator(repo, '--check');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('every attribution.* and onbehalf.* attribute and enum member has its constant, with stability, brief and examples', () => {
    const own = load('registry.yaml');
    expect(own.length).toBeGreaterThanOrEqual(30);
    for (const a of own) {
      const id = a.id as string;
      expect(id).toMatch(/^(attribution|onbehalf\.(audit|checkpoint|attribution\.token|problem))\./);
      expect(a.stability).toBe('development');
      expect(a.brief?.trim()).toBeTruthy();
      expect(exported[`ATTR_${constName(id)}`]).toBe(id);
      if (typeof a.type === 'object') {
        for (const m of a.type.members)
          expect(exported[`${constName(id)}_VALUE_${constName(m.id)}`]).toBe(m.value);
      }
    }
  });

  it('every key of docs/attribution.md "Span attributes" is defined, with the enum members it lists', () => {
    const ids = new Set(load('registry.yaml').map((a) => a.id));
    for (const key of [
      'attribution.actor.type',
      'attribution.actor.id',
      'attribution.actor.name',
      'attribution.actor.owner.id',
      'attribution.principal.id',
      'attribution.principal.type',
      'attribution.delegation.chain',
      'attribution.intent.id',
      'attribution.intent.name',
      'attribution.trigger.type',
      'attribution.trigger.id',
      'attribution.scopes',
      'attribution.action',
      'attribution.target',
      'attribution.risk_tier',
      'attribution.result',
      'attribution.policy.decision',
      'attribution.policy.rule',
      'attribution.approval.state',
      'attribution.approval.approver.id',
      'attribution.provenance',
      'attribution.content.redactions',
    ]) {
      expect(ids, key).toContain(key);
    }
    expect(generated.ATTRIBUTION_ACTOR_TYPE_VALUE_AGENT).toBe('agent');
    expect(generated.ATTRIBUTION_RESULT_VALUE_DENIED).toBe('denied');
    expect(generated.ATTRIBUTION_POLICY_DECISION_VALUE_REQUIRE_APPROVAL).toBe('require_approval');
    expect(generated.ATTRIBUTION_APPROVAL_STATE_VALUE_EXPIRED).toBe('expired');
    expect(generated.ATTRIBUTION_PROVENANCE_VALUE_UNVERIFIED).toBe('unverified');
  });

  it("onbehalf's own metrics are defined there, with the attributes they use, and self-metrics uses those names", () => {
    const metricGroups = groupsOf('registry.yaml').filter((g) => g.type === 'metric');
    const attributes = new Set(load('registry.yaml').map((a) => a.id));
    expect(metricGroups.map((m) => m.metric_name)).toEqual([
      selfMetrics.METRIC_EVENTS_STORED,
      selfMetrics.METRIC_EVENTS_LOST,
      selfMetrics.METRIC_GAP_RECORDS,
      selfMetrics.METRIC_STORE_ERRORS,
      selfMetrics.METRIC_TOKENS,
      selfMetrics.METRIC_PROBLEMS,
    ]);
    for (const m of metricGroups) {
      const name = m.metric_name as string;
      expect(m.id).toBe(`metric.${name}`);
      expect(m).toMatchObject({ instrument: 'counter', stability: 'development' });
      expect(m.unit).toMatch(/^\{[a-z]+\}$/);
      expect(m.brief?.trim()).toBeTruthy();
      expect(exported[`METRIC_${constName(name)}`]).toBe(name);
      for (const a of m.attributes ?? []) expect(attributes, `${name} uses ${a.ref}`).toContain(a.ref);
    }
    expect([
      selfMetrics.ATTR_TOKEN_RESULT,
      selfMetrics.ATTR_TOKEN_REASON,
      selfMetrics.ATTR_PROBLEM_CODE,
    ]).toEqual([
      generated.ATTR_ONBEHALF_ATTRIBUTION_TOKEN_RESULT,
      generated.ATTR_ONBEHALF_ATTRIBUTION_TOKEN_REASON,
      generated.ATTR_ONBEHALF_PROBLEM_CODE,
    ]);
    const md = readFileSync(join(repo, 'conventions/attributes.md'), 'utf8');
    for (const m of metricGroups) expect(md).toContain(`| \`${m.metric_name}\` | counter | \`${m.unit}\` |`);
  });

  it('reused attributes are OpenTelemetry’s own keys, spelled as @opentelemetry/semantic-conventions spells them', () => {
    const reused = load('reused.yaml').map((a) => a.ref as string);
    const genai = load('genai.yaml').map((a) => a.ref as string);
    expect(reused).toEqual(expect.arrayContaining(['user.id', 'enduser.id', 'user.roles', 'session.id']));
    expect(genai).toEqual(expect.arrayContaining(['gen_ai.agent.id', 'gen_ai.tool.name', 'mcp.method.name']));
    // Every gen_ai.* and mcp.* key lives in the GenAI file, none among the core conventions.
    expect(reused.filter((r) => /^(gen_ai|mcp)\./.test(r))).toEqual([]);
    expect(genai.filter((r) => !/^(gen_ai|mcp)\./.test(r))).toEqual([]);
    // The npm package still exports the GenAI names (deprecated), so the spelling can be checked.
    const known = semconv as unknown as Record<string, unknown>;
    for (const ref of [...reused, ...genai]) {
      expect(exported[`ATTR_${constName(ref)}`]).toBe(ref);
      expect(known[`ATTR_${constName(ref)}`], ref).toBe(ref);
    }
  });
});

describe('--check fails when the YAML changes', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'onbehalf-conventions-'));
    cpSync(join(repo, 'conventions'), join(root, 'conventions'), { recursive: true });
    cpSync(join(repo, 'scripts'), join(root, 'scripts'), { recursive: true });
    cpSync(join(repo, 'src/conventions'), join(root, 'src/conventions'), { recursive: true });
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('the copy checks clean, an edited brief makes --check exit 1 naming both outputs, regenerating fixes it', async () => {
    expect((await generator(root, '--check')).code).toBe(0);

    const yamlPath = join(root, 'conventions/registry.yaml');
    const yaml = readFileSync(yamlPath, 'utf8');
    const brief = 'Display name of the actor.';
    expect(yaml).toContain(brief);
    writeFileSync(yamlPath, yaml.replace(brief, 'Display name of whoever acted.'));

    const stale = await generator(root, '--check');
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('out of date');
    expect(stale.stderr).toContain(join(root, 'src/conventions/generated.ts'));
    expect(stale.stderr).toContain(join(root, 'conventions/attributes.md'));
    // --check only reports: the stale files are left as they were.
    expect(readFileSync(join(root, 'src/conventions/generated.ts'), 'utf8')).not.toContain('whoever acted');

    expect((await generator(root)).code).toBe(0);
    expect(readFileSync(join(root, 'src/conventions/generated.ts'), 'utf8')).toContain('whoever acted');
    expect(readFileSync(join(root, 'conventions/attributes.md'), 'utf8')).toContain('whoever acted');
    expect((await generator(root, '--check')).code).toBe(0);
  });

  it('a hand edit of the generated file makes --check exit 1', async () => {
    const ts = join(root, 'src/conventions/generated.ts');
    writeFileSync(ts, `${readFileSync(ts, 'utf8')}export const ATTR_HAND_EDIT = 'x';\n`);
    const r = await generator(root, '--check');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(ts);
    expect(r.stderr).not.toContain('attributes.md');
  });

  it('a new attribute in the YAML is caught too', async () => {
    expect((await generator(root)).code).toBe(0);
    const yamlPath = join(root, 'conventions/registry.yaml');
    const yaml = readFileSync(yamlPath, 'utf8');
    writeFileSync(
      yamlPath,
      yaml.replace(
        '      - id: attribution.actor.id\n',
        '      - id: attribution.actor.tenant\n        type: string\n        stability: development\n        brief: Tenant.\n      - id: attribution.actor.id\n',
      ),
    );
    expect((await generator(root, '--check')).code).toBe(1);
    expect((await generator(root)).code).toBe(0);
    expect(readFileSync(join(root, 'src/conventions/generated.ts'), 'utf8')).toContain(
      "export const ATTR_ATTRIBUTION_ACTOR_TENANT = 'attribution.actor.tenant' as const;",
    );
  });
});
