// The consumer test's agent, shared by its ESM and CommonJS entry points: a Vercel AI SDK agent whose
// mock model (`ai/test`) calls two tools, then answers. It knows nothing of onbehalf; each entry point
// passes in the `ai`, `ai/test` and `zod` modules it loaded its own way (import or require). It is
// written as each AI SDK major's users write it: AI SDK 6 turns telemetry on per call
// (`experimental_telemetry`); AI SDK 7 has no per-call switch (an integration registered once does it).
'use strict';

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

/** What the model answers at each step: two tool calls, then the final text. */
const script = [
  { toolCallId: 'call-1', toolName: 'lookup_contact', input: { name: 'Dana' } },
  {
    toolCallId: 'call-2',
    toolName: 'send_mail',
    input: { to: 'dana@acme.example', subject: 'Invoice 4471' },
  },
];

/** Runs the agent with `generateText` and telemetry on; resolves to the tool names it called. */
async function runAgent({ generateText, stepCountIs, tool, registerTelemetry, aiTest, z }) {
  const aiSdk7 = typeof registerTelemetry === 'function';
  const MockModel = aiSdk7 ? aiTest.MockLanguageModelV4 : aiTest.MockLanguageModelV3;
  let step = 0;
  const model = new MockModel({
    doGenerate: async () => {
      const call = script[step++];
      if (!call) {
        return {
          content: [{ type: 'text', text: 'Done: Dana has the invoice.' }],
          finishReason: { unified: 'stop', raw: 'stop' },
          usage,
          warnings: [],
        };
      }
      return {
        content: [{ type: 'tool-call', ...call, input: JSON.stringify(call.input) }],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      };
    },
  });
  const tools = {
    lookup_contact: tool({
      description: 'Finds a contact in the address book',
      inputSchema: z.object({ name: z.string() }),
      execute: async ({ name }) => ({ name, email: `${name.toLowerCase()}@acme.example` }),
    }),
    send_mail: tool({
      description: 'Sends an email',
      inputSchema: z.object({ to: z.string(), subject: z.string() }),
      execute: async ({ to }) => ({ status: 'sent', to }),
    }),
  };
  const result = await generateText({
    model,
    tools,
    stopWhen: stepCountIs(5),
    prompt: 'Email msg-8821 from Dana asks for invoice 4471. Handle it.',
    ...(aiSdk7 ? {} : { experimental_telemetry: { isEnabled: true, functionId: 'inbox-agent' } }),
  });
  const calls = result.steps.flatMap((s) => s.toolCalls.map((c) => c.toolName));
  console.log(`agent called: ${calls.join(', ')} -> ${result.text}`);
  return calls;
}

module.exports = { runAgent };
