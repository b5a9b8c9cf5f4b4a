// The unchanged agent as an ES module: imports nothing from onbehalf. Run as
// `node --import onbehalf/register agent.mjs`.
import * as ai from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';
import agentScript from './agent-script.cjs';

await agentScript.runAgent({ ...ai, MockLanguageModelV3, z });
