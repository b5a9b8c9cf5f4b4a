// LangChain.js and LangGraph.js agents with no onbehalf code (test/fixtures/frameworks/langchain-*),
// under `node --import onbehalf/register`, with LangChain's own FakeToolCallingModel: one attributed
// row per tool call, in an ESM app (createAgent) and a CommonJS one (a LangGraph StateGraph with
// ToolNode); and a service answering concurrent requests for different people, with LangChain's
// callbacks in their default background queue, where every row names the person it was done for.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { context, type TextMapSetter, TraceFlags, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextWithAttribution, localRoot, parseAttribution } from '../../src/attribution/attribution.js';
import { generateSigningKey, writeKeyPair } from '../../src/keys/keys.js';
import { AttributionPropagator } from '../../src/propagation/attribution-propagator.js';
import { actionRows, baseEnv, ensureBuilt, repo, runNode, tempDir } from './support.js';

const version = (pkg: string) =>
  JSON.parse(readFileSync(join(repo, 'node_modules', pkg, 'package.json'), 'utf8')).version as string;
const fixtures = 'test/fixtures/frameworks';
const tmp = tempDir('langchain');
beforeAll(ensureBuilt, 120_000);
afterAll(() => tmp.remove());

const careAgent = {
  ONBEHALF_AGENT_ID: 'nhi:care-agent',
  ONBEHALF_AGENT_NAME: 'care-agent',
  ONBEHALF_AGENT_OWNER: 'clinic-it',
};

describe(`langchain@${version('langchain')}, @langchain/langgraph@${version('@langchain/langgraph')} under register`, () => {
  for (const [kind, app] of [
    ['ESM, createAgent', 'langchain-agent.mjs'],
    ['CommonJS, LangGraph StateGraph + ToolNode', 'langchain-agent.cjs'],
  ] as const) {
    it(`${kind}: one attributed row per tool call, arguments redacted, nothing else`, async () => {
      const store = join(tmp.dir, `${app}.db`);
      const { stdout, stderr } = await runNode(
        `${fixtures}/${app}`,
        {
          ...careAgent,
          ONBEHALF_STORE: store,
          ONBEHALF_ON_BEHALF_OF: 'nurse-jo',
          ONBEHALF_TRIGGER: 'ticket:T-88',
        },
        { register: true },
      );
      expect(stdout).toContain('2 tool calls');
      // Every LangChain module register instruments (tools, the callback queue) had the shape it knows.
      expect(stderr).not.toContain('onbehalf: could not');
      const rows = actionRows(store);
      expect(rows.map((r) => r.action)).toEqual(['read_patient_record', 'update_contact']);
      for (const row of rows) {
        expect(row).toMatchObject({
          actor_type: 'agent',
          actor_id: 'nhi:care-agent',
          actor_name: 'care-agent',
          owner_id: 'clinic-it',
          on_behalf_of: 'nurse-jo',
          trigger_type: 'ticket',
          trigger_id: 'T-88',
          provenance: 'local',
          result: 'ok',
        });
      }
      expect(JSON.parse(rows[1]!.tool_arguments as string)).toEqual({
        patientId: 'pat-7',
        email: '[REDACTED:email]',
      });
      expect(JSON.parse(rows[0]!.attributes as string)['gen_ai.tool.call.id']).toBe('read-pat-7');
      expect(JSON.stringify(rows)).not.toContain('@clinic.example');
    });
  }
});

describe('a LangChain service serving several people at once', () => {
  const people = ['alice', 'bob', 'carol', 'dan', 'erin', 'frank', 'grace', 'heidi'];
  let service: ChildProcess;
  let port: number;
  let propagator: AttributionPropagator;
  const store = join(tmp.dir, 'service.db');

  beforeAll(async () => {
    const key = generateSigningKey();
    const keys = writeKeyPair(join(tmp.dir, 'service-keys'), key, { actors: ['agent:nhi:care-agent'] });
    // The caller (a gateway that authenticated each person) signs their attribution.
    propagator = new AttributionPropagator({ signingKey: key });
    service = spawn(
      process.execPath,
      ['--import', 'onbehalf/register', join(repo, fixtures, 'langchain-service.mjs')],
      {
        cwd: repo,
        env: baseEnv({ ...careAgent, ONBEHALF_STORE: store, ONBEHALF_TRUSTED_KEYS: keys.publicPath }),
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      service.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /listening (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      service.once('exit', (code) => reject(new Error(`service exited (${code})`)));
    });
  }, 60_000);

  afterAll(async () => {
    await new Promise<void>((resolve) => {
      if (service.exitCode !== null) return resolve();
      service.once('exit', () => resolve());
      service.kill('SIGTERM');
    });
  });

  /** One request for `person` about their own record, with their signed attribution in its headers. */
  async function ask(person: string, round: number): Promise<void> {
    const attribution = localRoot(
      parseAttribution({
        actor: { type: 'agent', id: 'nhi:care-agent', name: 'care-agent', ownerId: 'clinic-it' },
        principal: { id: person, type: 'human' },
        trigger: { type: 'request', id: `${person}-${round}` },
      }),
    );
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const setter: TextMapSetter<Record<string, string>> = {
      set: (c, k, v) => void Object.assign(c, { [k]: v }),
    };
    const ctx = trace.setSpanContext(contextWithAttribution(attribution, context.active()), {
      traceId: randomHex(16),
      spanId: randomHex(8),
      traceFlags: TraceFlags.SAMPLED,
    });
    new W3CTraceContextPropagator().inject(ctx, headers, setter);
    propagator.inject(ctx, headers, setter);
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ patientId: `${person}-record` }),
    });
    expect(await res.text()).toBe('done');
  }

  it('20 rounds of 2 to 8 concurrent requests: every row names the person it was done for', async () => {
    let expected = 0;
    for (let round = 0; round < 20; round++) {
      const n = 2 + (round % 7);
      await Promise.all(people.slice(0, n).map((person) => ask(person, round)));
      expected += n * 2;
    }
    // The service has answered every request; its rows are committed when each tool span ends.
    const rows = actionRows(store);
    expect(rows).toHaveLength(expected);
    const wrong = rows.filter((row) => {
      const args = JSON.parse(row.tool_arguments as string) as { patientId: string };
      return (
        args.patientId !== `${row.on_behalf_of}-record` ||
        !String(row.trigger_id).startsWith(`${row.on_behalf_of}-`) ||
        row.provenance !== 'verified' ||
        row.actor_id !== 'nhi:care-agent'
      );
    });
    expect(wrong).toEqual([]);
  }, 120_000);
});

function randomHex(bytes: number): string {
  return Array.from({ length: bytes * 2 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
}
