// Writes testdata/: language-neutral JSON vectors of the audit log format (docs/log-format.md), one file
// per tamper case, named after the mutation, each with the verdict and first bad seq a verifier must
// give (null: every row links, a checkpoint is what is wrong); and testdata/notes.json, signed-note edge cases with the verdict Go's sumdb/note gives.
// Deterministic: a fixed test key (Ed25519 signatures are deterministic) and fixed events.
// Usage: npm run build && node scripts/generate-test-vectors.mjs
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signingKeyFromJwk } from '../dist/keys/keys.js';
import { canonicalEventBytes, canonicalJson } from '../dist/log-format/canonical.js';
import { LogState, leafHash } from '../dist/log-format/chain.js';
import { checkpointKeyId, signCheckpoint } from '../dist/log-format/checkpoint.js';
import { merkleTreeHash } from '../dist/log-format/merkle-proofs.js';

const out = join(import.meta.dirname, '../testdata');
// A key for test vectors only: published here, trusted nowhere else.
const KEY = signingKeyFromJwk({
  crv: 'Ed25519',
  d: 'RVqkNZidQNjKtREziWMPpKYxvZxps4FmTYtFgAtwMZY',
  x: '-cr-PHgVpHvJ9gZf5XIqY4Cjs3TGcVAt85xNCXS5QXo',
  kty: 'OKP',
});
const OTHER_KEY = signingKeyFromJwk({
  crv: 'Ed25519',
  d: 'wl-Q2oxOYInMOhCSV9g9YeXKxBN4voL8miOE39YWhKA',
  x: 'Q8HQgeoVrf0RzpaOv0uW-Faav2ZOuBQqquAm8JLzWGU',
  kty: 'OKP',
});
const ORIGIN = 'onbehalf/vectors/0001';
const ACTIONS = ['read_inbox', 'summarize', 'send_mail', 'delete_mail'];

function event(i) {
  const action = ACTIONS[i % ACTIONS.length];
  return {
    event_id: `evt-vector-${i}`,
    record_type: 'action',
    timestamp: new Date(Date.UTC(2026, 0, 14, 3, 14, i)).toISOString(),
    actor_type: i === 5 ? 'human' : 'agent',
    actor_id: i === 5 ? 'tom' : 'nhi:agent-7f3',
    actor_name: i === 5 ? null : 'inbox-agent',
    owner_id: 'tom',
    on_behalf_of: 'tom',
    trigger_type: 'email',
    trigger_id: 'msg-8821',
    intent: 'triage_inbox',
    session_id: 'sess-42',
    delegation_chain: '["tom","nhi:agent-7f3"]',
    scopes: '["mail.read","mail.send"]',
    action,
    target: action === 'send_mail' ? 'stranger@evil.example' : `mailbox/tom/${i}`,
    risk_tier: action === 'send_mail' ? 2 : action === 'delete_mail' ? 3 : 0,
    result: 'ok',
    policy_decision: 'allow',
    policy_rule: null,
    approval_state: 'not_required',
    approved_by: null,
    provenance: 'local',
    tool_arguments: action === 'send_mail' ? '{"to":"[REDACTED:email]"}' : null,
    redactions: action === 'send_mail' ? '["email"]' : null,
    trace_id: `4bf92f3577b34da6a3ce929d0e0e${String(4736 + i).padStart(4, '0')}`,
    span_id: `00f067aa0ba902b${i}`,
    parent_span_id: null,
    service_name: 'inbox-agent',
    duration_ms: i % 2 ? 1.25 * i : i,
    attributes: `{"gen_ai.tool.name":"${action}","note":"caf\u00e9 \u2014 ${i}"}`,
  };
}

/** Chains events into stored rows (every column, integrity columns included). */
function chain(events, origin = ORIGIN) {
  const state = new LogState(origin);
  return events.map((e) => ({ ...e, ...state.append(e).integrity }));
}

const leaves = (rows) => rows.map((r) => leafHash(canonicalEventBytes(r)));
const checkpoint = (rows, size, key = KEY, origin = ORIGIN) =>
  signCheckpoint({ origin, size, root: merkleTreeHash(leaves(rows), size) }, key);

const N = 8;
const base = chain(Array.from({ length: N }, (_, i) => event(i)));
const baseCheckpoints = [checkpoint(base, 4), checkpoint(base, N)];
const trustedKeys = { keys: [KEY.publicJwk] };

const vectors = {
  intact: {
    description: 'The untouched log: every row links and both checkpoints verify.',
    rows: base,
    expect: { verdict: 'intact', first_bad_seq: null },
  },
  'edit-column': {
    description: 'Row 3 target changed in place; its hash no longer matches its contents.',
    rows: base.map((r) => (r.seq === 3 ? { ...r, target: 'dana@acme.example' } : r)),
    expect: { verdict: 'tampered', first_bad_seq: 3 },
  },
  'edit-numeric-column': {
    description: 'Row 4 risk_tier lowered from 3 to 0.',
    rows: base.map((r) => (r.seq === 4 ? { ...r, risk_tier: 0 } : r)),
    expect: { verdict: 'tampered', first_bad_seq: 4 },
  },
  'null-column': {
    description: 'Row 6 approved_by set to a name where the row had null.',
    rows: base.map((r) => (r.seq === 6 ? { ...r, approved_by: 'dana' } : r)),
    expect: { verdict: 'tampered', first_bad_seq: 6 },
  },
  'delete-row': {
    description: 'Row 5 removed; rows 6 to 8 kept.',
    rows: base.filter((r) => r.seq !== 5),
    expect: { verdict: 'tampered', first_bad_seq: 5 },
  },
  'swap-rows': {
    description: 'Rows 3 and 4 trade places, each with its own integrity columns.',
    rows: base.map((r) => (r.seq === 3 ? { ...base[3], seq: 3 } : r.seq === 4 ? { ...base[2], seq: 4 } : r)),
    expect: { verdict: 'tampered', first_bad_seq: 3 },
  },
  'duplicate-row': {
    description: 'Row 2 appears twice.',
    rows: [...base.slice(0, 2), base[1], ...base.slice(2)],
    expect: { verdict: 'tampered', first_bad_seq: 2 },
  },
  'edit-prev-hash': {
    description: "Row 7's prev_hash is row 5's hash.",
    rows: (() => {
      const rows = base.map((r) => ({ ...r }));
      rows[6].prev_hash = rows[4].hash;
      return rows;
    })(),
    expect: { verdict: 'tampered', first_bad_seq: 7 },
  },
  'foreign-origin-row': {
    description: "Row 2 is another log's row 2, chained in that log.",
    rows: base.map((r) => (r.seq === 2 ? chain([event(1), event(1)], 'onbehalf/vectors/0002')[1] : r)),
    expect: { verdict: 'tampered', first_bad_seq: 2 },
  },
  'rechain-after-edit': {
    description:
      'Row 6 edited and the chain recomputed from it on: every link holds, the checkpoint at 8 does not.',
    rows: chain(base.map((_r, i) => (i === 5 ? { ...event(i), action: 'read_inbox' } : event(i)))),
    expect: { verdict: 'tampered', first_bad_seq: 5 },
  },
  'rewrite-all': {
    description: 'The whole log rewritten and rechained; the stored checkpoints were signed before.',
    rows: chain(base.map((_, i) => ({ ...event(i), on_behalf_of: 'dana' }))),
    expect: { verdict: 'tampered', first_bad_seq: 1 },
  },
  'truncate-tail': {
    description: 'Rows 7 and 8 removed; the checkpoint at 8 remains.',
    rows: base.slice(0, 6),
    expect: { verdict: 'tampered', first_bad_seq: 7 },
  },
  'checkpoint-bad-signature': {
    description: 'The checkpoint at 8 has one byte of its signature changed.',
    rows: base,
    checkpoints: [baseCheckpoints[0], flipSignature(baseCheckpoints[1])],
    expect: { verdict: 'tampered', first_bad_seq: null },
  },
  'checkpoint-edited-size': {
    description: 'The checkpoint at 4 claims size 3 with its old signature.',
    rows: base,
    checkpoints: [baseCheckpoints[0].replace(`${ORIGIN}\n4\n`, `${ORIGIN}\n3\n`), baseCheckpoints[1]],
    expect: { verdict: 'tampered', first_bad_seq: null },
  },
  'checkpoint-untrusted-key': {
    description: 'A checkpoint of the true root, signed by a key the verifier does not trust.',
    rows: base,
    checkpoints: [baseCheckpoints[0], checkpoint(base, N, OTHER_KEY)],
    expect: { verdict: 'tampered', first_bad_seq: null },
  },
  'checkpoint-forged-root': {
    description: 'The log rewritten and a new checkpoint signed by an untrusted key over the new root.',
    rows: chain(base.map((_, i) => ({ ...event(i), target: 'x' }))),
    checkpoints: [checkpoint(chain(base.map((_, i) => ({ ...event(i), target: 'x' }))), N, OTHER_KEY)],
    expect: { verdict: 'tampered', first_bad_seq: null },
  },
};

function flipSignature(note) {
  const [body, sig] = note.split('\n\n');
  const [dash, name, b64] = sig.trimEnd().split(' ');
  const raw = Buffer.from(b64, 'base64');
  raw[10] ^= 0x01;
  return `${body}\n\n${dash} ${name} ${raw.toString('base64')}\n`;
}

rmSync(join(out, 'tamper'), { recursive: true, force: true });
mkdirSync(join(out, 'tamper'), { recursive: true });
for (const [name, v] of Object.entries(vectors)) {
  const doc = {
    description: v.description,
    origin: ORIGIN,
    trusted_keys: trustedKeys,
    rows: v.rows,
    checkpoints: v.checkpoints ?? baseCheckpoints,
    expect: v.expect,
  };
  writeFileSync(join(out, 'tamper', `${name}.json`), `${JSON.stringify(doc, null, 2)}\n`);
}

// The format itself, step by step, for the intact log: E, leaf hash, chain hash, roots.
writeFileSync(
  join(out, 'log.json'),
  `${JSON.stringify(
    {
      description: 'The intact log of testdata/tamper/intact.json, step by step (docs/log-format.md).',
      origin: ORIGIN,
      trusted_keys: trustedKeys,
      key_name: ORIGIN,
      key_id: checkpointKeyId(ORIGIN, KEY).toString('hex'),
      rows: base.map((r) => ({
        seq: r.seq,
        canonical: canonicalJson(r, ORIGIN),
        leaf_hash: leafHash(canonicalEventBytes(r)).toString('hex'),
        prev_hash: r.prev_hash,
        hash: r.hash,
      })),
      roots: Array.from({ length: N + 1 }, (_, size) => ({
        size,
        root: merkleTreeHash(leaves(base), size).toString('base64'),
      })),
      checkpoints: baseCheckpoints,
    },
    null,
    2,
  )}\n`,
);

// Signed-note edge cases: `go_accepts` is what Go's sumdb/note Open says (checked by test/interop).
const note = (origin, name = origin, size = 8) =>
  signCheckpoint({ origin, size, root: merkleTreeHash(leaves(base), N) }, KEY, name);
const good = note(ORIGIN);
const [body, sigLine] = good.split('\n\n');
const nonCanonical = good.replace(/([A-Za-z0-9+/])(=*)\n$/, (_, c, pad) => {
  const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  return `${digits[digits.indexOf(c) | 1]}${pad}\n`;
});
const notes = [
  { name: 'plain', text: good, key_name: ORIGIN, go_accepts: true },
  {
    name: 'del-in-origin',
    text: note('onbehalf/del\u007f'),
    key_name: 'onbehalf/del\u007f',
    go_accepts: true,
  },
  { name: 'feff-in-key-name', text: note('host', 'host\ufeff1'), key_name: 'host\ufeff1', go_accepts: true },
  {
    name: 'nel-in-key-name',
    text: `${body}\n\n${sigLine.replace(`— ${ORIGIN} `, '— host\u00851 ')}\n`,
    key_name: 'host\u00851',
    go_accepts: false,
  },
  {
    name: 'nbsp-in-key-name',
    text: `${body}\n\n${sigLine.replace(`— ${ORIGIN} `, '— host\u00a01 ')}\n`,
    key_name: 'host\u00a01',
    go_accepts: false,
  },
  { name: 'non-canonical-base64', text: nonCanonical, key_name: ORIGIN, go_accepts: true },
  { name: 'unpadded-base64', text: good.replace(/=+\n$/, '\n'), key_name: ORIGIN, go_accepts: false },
  {
    name: 'control-character',
    text: good.replace(`${ORIGIN}\n`, `${ORIGIN}\u0001\n`),
    key_name: ORIGIN,
    go_accepts: false,
  },
  { name: 'no-blank-line', text: good.replace('\n\n', '\n'), key_name: ORIGIN, go_accepts: false },
  {
    name: 'edited-body',
    text: good.replace(`${ORIGIN}\n8\n`, `${ORIGIN}\n7\n`),
    key_name: ORIGIN,
    go_accepts: false,
  },
];
writeFileSync(
  join(out, 'notes.json'),
  `${JSON.stringify({ description: 'Signed-note edge cases (C2SP signed-note, as Go sumdb/note reads them).', trusted_keys: trustedKeys, notes }, null, 2)}\n`,
);
console.log(`wrote ${Object.keys(vectors).length} tamper vectors, log.json and notes.json to ${out}`);
