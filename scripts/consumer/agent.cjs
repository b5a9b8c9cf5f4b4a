// The unchanged agent as CommonJS: imports nothing from onbehalf. Run as
// `node --import onbehalf/register agent.cjs`.
'use strict';
const ai = require('ai');
const aiTest = require('ai/test');
const { z } = require('zod');
const { runAgent } = require('./agent-script.cjs');

runAgent({ ...ai, aiTest, z }).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
