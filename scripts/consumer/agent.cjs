// The unchanged agent as CommonJS: imports nothing from onbehalf. Run as
// `node --import onbehalf/register agent.cjs`.
'use strict';
const ai = require('ai');
const { MockLanguageModelV3 } = require('ai/test');
const { z } = require('zod');
const { runAgent } = require('./agent-script.cjs');

runAgent({ ...ai, MockLanguageModelV3, z }).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
