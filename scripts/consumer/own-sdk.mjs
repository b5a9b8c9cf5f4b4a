// Bring your own SDK: the application starts its own NodeSDK and plugs in what createOnbehalf returns
// (its TSDoc example), then runs the same agent. Run as plain `node own-sdk.mjs`.
import { NodeSDK } from '@opentelemetry/sdk-node';
import * as ai from 'ai';
import * as aiTest from 'ai/test';
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
// AI SDK 7 emits spans only through an integration the app registers (its docs' setup); 6 needs none.
if (typeof ai.registerTelemetry === 'function') {
  const { OpenTelemetry } = await import('@ai-sdk/otel');
  ai.registerTelemetry(new OpenTelemetry());
}
try {
  await agentScript.runAgent({ ...ai, aiTest, z });
} finally {
  await sdk.shutdown();
  await onbehalf.shutdown();
}
const counts = onbehalf.counts();
console.log(`own sdk: ${counts.spans} spans seen, ${counts.stored} audit events stored, ${counts.lost} lost`);
