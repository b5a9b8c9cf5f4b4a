// Runs the MCP example end to end: makes the agent's key pair, runs the agent (which starts the MCP
// server over stdio, trusting the agent's public key), and prints what the server's audit store holds.
//
//   npm run build && node examples/mcp/run.mjs [DIR]
// DIR (default: a new temporary folder) receives the keys and both audit stores.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, writeKeyPair } from 'onbehalf/keys';
import { openAuditStore } from 'onbehalf/stores';

const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'onbehalf-mcp-'));
mkdirSync(dir, { recursive: true });
// The public key speaks for the inbox agent only: the server verifies that agent's attribution.
const { privatePath, publicPath } = writeKeyPair(join(dir, 'keys'), generateSigningKey(), {
  actors: ['agent:nhi:agent-7f3'],
});
const serverStore = join(dir, 'mcp-server.db');

const agent = spawn(
  process.execPath,
  ['--import', 'onbehalf/register', join(import.meta.dirname, 'agent.mjs')],
  {
    cwd: join(import.meta.dirname, '../..'),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      ONBEHALF_STORE: join(dir, 'agent.db'),
      ONBEHALF_AGENT_ID: 'nhi:agent-7f3',
      ONBEHALF_AGENT_NAME: 'inbox-agent',
      ONBEHALF_AGENT_OWNER: 'tom',
      ONBEHALF_SIGNING_KEY: privatePath,
      MCP_SERVER_STORE: serverStore,
      MCP_SERVER_TRUSTED_KEYS: publicPath,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);
const code = await new Promise((resolve) => agent.once('exit', resolve));
if (code !== 0) {
  process.exitCode = code ?? 1;
} else {
  const store = await openAuditStore(serverStore);
  try {
    for (const e of await store.query({ recordTypes: ['action'] })) {
      console.log(
        `mcp server: ${e.action} actor=${e.actor_id} on_behalf_of=${e.on_behalf_of} trigger=${e.trigger_type}:${e.trigger_id} provenance=${e.provenance} args=${e.tool_arguments}`,
      );
    }
  } finally {
    await store.close();
  }
  console.log(`stores and keys in ${dir}`);
}
