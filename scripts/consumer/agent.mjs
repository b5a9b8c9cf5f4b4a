// The unchanged agent as an ES module: imports nothing from onbehalf. Run as
// `node --import onbehalf/register agent.mjs`.
import * as ai from 'ai';
import * as aiTest from 'ai/test';
import { z } from 'zod';
import agentScript from './agent-script.cjs';

await agentScript.runAgent({ ...ai, aiTest, z });
