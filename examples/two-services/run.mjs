// Runs the two services end to end: makes a key pair for the agent, starts the tool service trusting
// its public key, runs the agent against it, and prints what the tool service recorded.
//
//   npm run build && node examples/two-services/run.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, writeKeyPair } from 'onbehalf/keys';

const here = import.meta.dirname;
const dir = mkdtempSync(join(tmpdir(), 'onbehalf-two-services-'));
// The public key speaks for the agent process's two agents: the tool service verifies those only.
const { privatePath, publicPath } = writeKeyPair(dir, generateSigningKey(), {
  actors: ['agent:nhi:agent-7f3', 'agent:nhi:agent-c21'],
});
// Traces only: no OTLP metrics or logs endpoint is running for this example.
const baseEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  OTEL_METRICS_EXPORTER: 'none',
  OTEL_LOGS_EXPORTER: 'none',
};

const tool = spawn(process.execPath, [join(here, 'tool-service.mjs')], {
  env: { ...baseEnv, ONBEHALF_TRUSTED_KEYS: publicPath, ONBEHALF_AGENT_ID: 'svc:tool-service', PORT: '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
tool.stdout.setEncoding('utf8');
const url = await new Promise((resolve, reject) => {
  tool.once('exit', (code) => reject(new Error(`tool service exited with ${code}`)));
  tool.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const m = /listening on (\S+)/.exec(chunk);
    if (m) resolve(m[1]);
  });
});

const agent = spawn(process.execPath, [join(here, 'agent.mjs')], {
  env: { ...baseEnv, ONBEHALF_SIGNING_KEY: privatePath, TOOL_URL: url },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const code = await new Promise((resolve) => agent.once('exit', resolve));
tool.removeAllListeners('exit');
tool.kill('SIGTERM');
await new Promise((resolve) => tool.once('exit', resolve));
rmSync(dir, { recursive: true, force: true });
process.exitCode = code ?? 1;
