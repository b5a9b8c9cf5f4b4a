// Bring your own SDK: the application starts its own NodeSDK and plugs in what createOnbehalf returns
// (its TSDoc example), then runs the same agent. Run as plain `node own-sdk.mjs`.
import { NodeSDK } from '@opentelemetry/sdk-node';
import * as ai from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { createOnbehalf } from 'onbehalf';
import { z } from 'zod';
import agentScript from './agent-script.cjs';

const onbehalf = createOnbehalf({ serviceName: 'inbox-agent' });
const sdk = new NodeSDK({
  spanProcessors: [...onbehalf.spanProcessors],
  sampler: onbehalf.sampler(),
  textMapPropagator: onbehalf.propagator,
});
sdk.start();
try {
  await agentScript.runAgent({ ...ai, MockLanguageModelV3, z });
} finally {
  await sdk.shutdown();
  await onbehalf.shutdown();
}
const counts = onbehalf.counts();
console.log(`own sdk: ${counts.spans} spans seen, ${counts.stored} audit events stored, ${counts.lost} lost`);
