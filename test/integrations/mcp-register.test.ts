// MCP with no onbehalf code in the client or the server (test/fixtures/frameworks/mcp-*.mjs): both run
// under `node --import onbehalf/register`, configured only by the environment. The server's store
// holds one row per tool call, naming the caller's agent, its principal and trigger, verified.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, writeKeyPair } from '../../src/keys/keys.js';
import { actionRows, baseEnv, ensureBuilt, repo, runNode, tempDir } from './support.js';

const sdkVersion = JSON.parse(
  readFileSync(join(repo, 'node_modules/@modelcontextprotocol/sdk/package.json'), 'utf8'),
).version as string;
const fixtures = 'test/fixtures/frameworks';
const tmp = tempDir('mcp-register');
let keys: { privatePath: string; publicPath: string };

beforeAll(async () => {
  await ensureBuilt();
  keys = writeKeyPair(join(tmp.dir, 'keys'), generateSigningKey(), { actors: ['agent:nhi:records-agent'] });
}, 120_000);
afterAll(() => tmp.remove());

/** The agent: its own identity, the person and the trigger of this run, and its key. Nothing in code. */
const agentEnv = (store: string) => ({
  ONBEHALF_STORE: store,
  ONBEHALF_AGENT_ID: 'nhi:records-agent',
  ONBEHALF_AGENT_NAME: 'records-agent',
  ONBEHALF_AGENT_OWNER: 'tom',
  ONBEHALF_ON_BEHALF_OF: 'dana',
  ONBEHALF_TRIGGER: 'ticket:T-1009',
  ONBEHALF_SIGNING_KEY: keys.privatePath,
});
const serverEnv = (store: string) =>
  baseEnv({
    ONBEHALF_STORE: store,
    ONBEHALF_AGENT_ID: 'svc:records-mcp',
    ONBEHALF_TRUSTED_KEYS: keys.publicPath,
  });

function expectOneVerifiedRowPerCall(serverStore: string, agentStore: string) {
  const rows = actionRows(serverStore);
  expect(rows.map((r) => r.action)).toEqual(['read_record', 'update_record']);
  for (const row of rows) {
    expect(row).toMatchObject({
      actor_type: 'agent',
      actor_id: 'nhi:records-agent',
      actor_name: 'records-agent',
      owner_id: 'tom',
      on_behalf_of: 'dana',
      trigger_type: 'ticket',
      trigger_id: 'T-1009',
      provenance: 'verified',
      result: 'ok',
      delegation_chain: '["dana","nhi:records-agent"]',
    });
    expect(JSON.parse(row.attributes as string)).toMatchObject({ 'mcp.method.name': 'tools/call' });
  }
  expect(JSON.parse(rows[1]!.tool_arguments as string)).toEqual({
    id: 'rec-42',
    email: '[REDACTED:email]',
  });
  // The tool's result named Dana's address: kept only redacted.
  expect(JSON.stringify(rows)).not.toContain('@acme.example');
  // The caller made no tool span of its own: nothing else in either store.
  expect(actionRows(agentStore)).toEqual([]);
}

describe(`MCP under register, no onbehalf code, @modelcontextprotocol/sdk@${sdkVersion}`, () => {
  it('stdio: the server records each call for the calling agent and its principal, verified', async () => {
    const serverStore = join(tmp.dir, 'stdio-server.db');
    const agentStore = join(tmp.dir, 'stdio-agent.db');
    const { stdout } = await runNode(
      `${fixtures}/mcp-agent.mjs`,
      { ...agentEnv(agentStore), MCP_SERVER_ENV: JSON.stringify(serverEnv(serverStore)) },
      { register: true },
    );
    expect(stdout).toContain('mcp agent: record rec-42');
    expectOneVerifiedRowPerCall(serverStore, agentStore);
  });

  it('Streamable HTTP: the same rows', async () => {
    const serverStore = join(tmp.dir, 'http-server.db');
    const agentStore = join(tmp.dir, 'http-agent.db');
    const server = spawn(
      process.execPath,
      ['--import', 'onbehalf/register', join(repo, fixtures, 'mcp-server.mjs'), 'http'],
      { cwd: repo, env: serverEnv(serverStore), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const port = await listeningPort(server);
      await runNode(
        `${fixtures}/mcp-agent.mjs`,
        { ...agentEnv(agentStore), MCP_SERVER_URL: `http://127.0.0.1:${port}/mcp` },
        { register: true },
      );
    } finally {
      await stop(server);
    }
    expectOneVerifiedRowPerCall(serverStore, agentStore);
  });
});

function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`MCP server exited (${code}) before listening`)));
  });
}

/** Stops the server the way a supervisor does: SIGTERM, after which register flushes the store. */
function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
