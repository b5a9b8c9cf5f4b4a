// AI SDK 7 (`ai@7`, Node >= 22) with no onbehalf code and no telemetry code
// (test/fixtures/frameworks/ai-sdk-7-agent.mjs) under `node --import onbehalf/register`: register
// turns on `@ai-sdk/otel`'s telemetry, and the store holds one attributed row per tool call and one
// for the agent's invocation, with its model and token counts kept.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actionRows,
  attributedToInboxAgent,
  ensureBuilt,
  inboxAgentEnv,
  repo,
  runNode,
  tempDir,
} from './support.js';

const aiVersion = JSON.parse(readFileSync(join(repo, 'node_modules/ai/package.json'), 'utf8'))
  .version as string;
const tmp = tempDir('ai-sdk-7');
const env = inboxAgentEnv;
const attributed = { ...attributedToInboxAgent, provenance: 'local', result: 'ok' };

function expectToolRows(rows: ReturnType<typeof actionRows>) {
  for (const row of rows) expect(row).toMatchObject(attributed);
  expect(JSON.parse(rows[0]!.tool_arguments as string)).toEqual({ name: 'Dana' });
  expect(JSON.parse(rows[1]!.tool_arguments as string)).toEqual({
    to: '[REDACTED:email]',
    body: 'Paid with card [REDACTED:credit_card].',
  });
  expect(JSON.stringify(rows)).not.toContain('dana@acme.example');
  expect(JSON.stringify(rows)).not.toContain('4111');
}

// ai@7 needs Node >= 22: the Node 20 test run has ai@6 installed (test/integrations/ai-sdk.test.ts).
describe.skipIf(!aiVersion.startsWith('7.'))(`AI SDK ${aiVersion} under register, no app code`, () => {
  beforeAll(ensureBuilt, 120_000);
  afterAll(() => tmp.remove());

  it('GenAI execute_tool rows, one per call, and the invoke_agent row keeps model and usage', async () => {
    const store = join(tmp.dir, 'genai.db');
    const { stdout } = await runNode(
      'test/fixtures/frameworks/ai-sdk-7-agent.mjs',
      { ...env, ONBEHALF_STORE: store },
      { register: true },
    );
    expect(stdout).toContain('lookup_contact, send_mail');
    const rows = actionRows(store);
    expect(rows.map((r) => r.action)).toEqual(['lookup_contact', 'send_mail', 'invoke_agent inbox-agent']);
    expectToolRows(rows.slice(0, 2));
    expect(JSON.parse(rows[0]!.attributes as string)['gen_ai.tool.call.id']).toBe('call-1');
    const invoke = JSON.parse(rows[2]!.attributes as string);
    expect(invoke).toMatchObject({
      'gen_ai.request.model': 'mock-model-id',
      'gen_ai.usage.input_tokens': 30,
      'gen_ai.usage.output_tokens': 15,
    });
    expect(rows[2]).toMatchObject(attributed);
    expect(rows[2]!.redactions).not.toContain('secret');
  });

  it("an app that registers LegacyOpenTelemetry itself: its ai.toolCall rows, one per call, not also onbehalf's", async () => {
    const store = join(tmp.dir, 'legacy.db');
    await runNode(
      'test/fixtures/frameworks/ai-sdk-7-agent.mjs',
      { ...env, ONBEHALF_STORE: store, AI_SDK_LEGACY: '1' },
      { register: true },
    );
    const rows = actionRows(store);
    expect(rows.map((r) => r.action)).toEqual(['lookup_contact', 'send_mail']);
    expectToolRows(rows);
    for (const row of rows) {
      expect(JSON.parse(row.attributes as string)).toMatchObject({ 'ai.operationId': 'ai.toolCall' });
    }
  });

  it('an app with AI SDK 7 but without @ai-sdk/otel is told at start that its tool calls are not recorded', async () => {
    // The app's own folder: `ai` and `zod` installed, `@ai-sdk/otel` not.
    const app = join(tmp.dir, 'app-without-ai-sdk-otel');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    for (const name of ['ai', 'zod'])
      symlinkSync(join(repo, 'node_modules', name), join(app, 'node_modules', name));
    const agent = join(app, 'agent.mjs');
    writeFileSync(
      agent,
      [
        "import { generateText } from 'ai';",
        "import { MockLanguageModelV4 } from 'ai/test';",
        'const usage = { inputTokens: { total: 1, noCache: 1 }, outputTokens: { total: 1, text: 1 } };',
        "const model = new MockLanguageModelV4({ doGenerate: async () => ({ content: [{ type: 'text', text: 'ok' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] }) });",
        "const result = await generateText({ model, prompt: 'hi' });",
        "console.log('answered: ' + result.text);",
      ].join('\n'),
    );
    const store = join(tmp.dir, 'without-otel.db');
    const { stdout, stderr } = await runNode(agent, { ...env, ONBEHALF_STORE: store }, { register: true });
    expect(stdout).toContain('answered: ok');
    expect(stderr).toContain('could not turn on AI SDK telemetry, its tool calls are not recorded');
    expect(stderr).toContain(`AI SDK ${aiVersion} is installed but @ai-sdk/otel is not`);
  });
});
