// An agent on the Vercel AI SDK: inbox-agent handles Tom's email msg-8821 with two tools, looking up a
// contact and sending mail. The model is the AI SDK's own mock (`ai/test`) scripted to call both tools,
// so the example runs offline; with a real provider only the `model` line changes.
//
// The agent's code knows onbehalf only through withAttribution. Run it under the zero-code setup:
//
//   ONBEHALF_STORE=ai-sdk.db ONBEHALF_AGENT_ID=nhi:agent-7f3 ONBEHALF_AGENT_NAME=inbox-agent \
//     ONBEHALF_AGENT_OWNER=tom node --import onbehalf/register examples/ai-sdk/agent.mjs
import { pathToFileURL } from 'node:url';
import { generateText, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { withAttribution } from 'onbehalf';
import { z } from 'zod';

/** Who acts and for whom, for this task. */
export const attribution = {
  actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
  principal: { id: 'tom', type: 'human' },
  trigger: { type: 'email', id: 'msg-8821' },
};

export const tools = {
  lookup_contact: tool({
    description: "Finds a contact in Tom's address book",
    inputSchema: z.object({ name: z.string() }),
    execute: async ({ name }) => ({ name, email: `${name.toLowerCase()}@acme.example` }),
  }),
  send_mail: tool({
    description: 'Sends an email as Tom',
    inputSchema: z.object({ to: z.string(), subject: z.string(), body: z.string() }),
    execute: async ({ to }) => ({ status: 'sent', to }),
  }),
};

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

/** What a model would answer at each step: a tool call, another, then the final text. */
const script = [
  { toolCallId: 'call-1', toolName: 'lookup_contact', input: { name: 'Dana' } },
  {
    toolCallId: 'call-2',
    toolName: 'send_mail',
    input: {
      to: 'dana@acme.example',
      subject: 'Invoice 4471',
      body: 'Paid with card 4111 1111 1111 1111, as you asked.',
    },
  },
];

/** The AI SDK's test model, answering with the script one step at a time. */
export function scriptedModel() {
  let step = 0;
  return new MockLanguageModelV3({
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
}

/** Runs the task: one generateText with telemetry on (the AI SDK records nothing otherwise). */
export function runAgent() {
  return withAttribution(attribution, () =>
    generateText({
      model: scriptedModel(),
      tools,
      stopWhen: stepCountIs(5),
      prompt: 'Email msg-8821 from Dana asks for invoice 4471. Handle it.',
      experimental_telemetry: { isEnabled: true, functionId: 'inbox-agent' },
    }),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runAgent();
  const calls = result.steps.flatMap((s) => s.toolCalls.map((c) => c.toolName));
  console.log(`ai-sdk agent: ${calls.join(', ')} -> ${result.text}`);
}
