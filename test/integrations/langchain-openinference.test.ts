// The attribution of a span is that of its own trace, with OpenInference's LangChain instrumentation
// wired by hand (as its docs ask for ESM) and LangChain's callbacks in their default background queue:
// OpenInference starts each span from whatever context the queue runs in, which may be another
// request's. Several people's requests at once; every OpenInference tool row names its own person.
import { createRequire } from 'node:module';
import { LangChainInstrumentation } from '@arizeai/openinference-instrumentation-langchain';
import * as CallbackManagerModule from '@langchain/core/callbacks/manager';
import { createAgent } from 'langchain';
import { afterEach, describe, expect, it } from 'vitest';
import { withAttribution } from '../../src/attribution/attribution.js';
import { bindQueueToCallerContext } from '../../src/integrations/langchain.js';
// @ts-expect-error: the fixture is plain JavaScript, shared with the register tests
import { scriptedModel, tools } from '../fixtures/frameworks/langchain-tools.mjs';
import { type Pipeline, setupPipeline } from './support.js';

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.teardown();
  p = undefined;
});

describe('OpenInference LangChain spans under concurrent requests', () => {
  it('20 rounds of 2 to 8 people at once: each tool row is attributed to the request it belongs to', async () => {
    p = setupPipeline();
    // What register's instrumentation does when LangChain loads its queue (the same copy LangChain uses).
    const fromLangChain = createRequire(
      createRequire(import.meta.url).resolve('@langchain/core/package.json'),
    );
    const pQueue = fromLangChain('p-queue') as object;
    expect(bindQueueToCallerContext(pQueue)).toBe(true);
    const instrumentation = new LangChainInstrumentation();
    instrumentation.manuallyInstrument(CallbackManagerModule);
    const people = ['alice', 'bob', 'carol', 'dan', 'erin', 'frank', 'grace', 'heidi'];
    const serve = (person: string, round: number) =>
      withAttribution(
        {
          actor: { type: 'agent', id: 'nhi:care-agent' },
          principal: { id: person, type: 'human' },
          trigger: { type: 'request', id: `${person}-${round}` },
        },
        () =>
          p!.tracer.startActiveSpan('request', async (span) => {
            const agent = createAgent({ model: scriptedModel(`${person}-record`), tools });
            await agent.invoke({ messages: [{ role: 'user', content: 'update' }] });
            span.end();
          }),
      );
    let expected = 0;
    for (let round = 0; round < 20; round++) {
      const n = 2 + (round % 7);
      await Promise.all(people.slice(0, n).map((person) => serve(person, round)));
      expected += n * 2;
    }
    const { awaitAllCallbacks } = await import('@langchain/core/callbacks/promises');
    await awaitAllCallbacks();
    const rows = p.rows().filter((r) => String(r.attributes).includes('"openinference.span.kind":"TOOL"'));
    expect(rows).toHaveLength(expected);
    const wrong = rows.filter((r) => {
      const who = String(r.on_behalf_of);
      return (
        !String(r.tool_arguments).includes(`${who}-record`) || !String(r.trigger_id).startsWith(`${who}-`)
      );
    });
    expect(wrong).toEqual([]);
  }, 120_000);
});
