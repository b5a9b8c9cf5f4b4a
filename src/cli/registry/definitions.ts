import { existsSync } from 'node:fs';
import { thisHostOrigins } from '../../keys/key-binding.js';
import { generateSigningKey, loadTrustedKeys, writeKeyPair } from '../../keys/keys.js';
import { isIsoTime, resolveTime, TIME_FORMS } from '../../time/relative-time.js';
import { witnessesFromEnv } from '../commands/anchor-command.js';
import { approve } from '../commands/approve.js';
import { boundedSql, DEFAULT_SQL_TIMEOUT_SECONDS } from '../commands/bounded-sql.js';
import { checkpoints } from '../commands/checkpoints.js';
import { DEMO_STORE, demo } from '../commands/demo.js';
import { incrementalVerify } from '../commands/incremental-command.js';
import { proveCommand, verifyReceiptCommand } from '../commands/receipt-commands.js';
import { report } from '../commands/report.js';
import { verify } from '../commands/store-commands.js';
import { witnessCommand, witnessQuorum } from '../commands/witness-command.js';
import { CliError, EXIT } from '../errors.js';
import { formatRows } from '../format.js';
import { outputFormat, positiveSeconds, requireStore, wholeNumber, withStore } from './arguments.js';
import { defineCommand } from './command.js';

const FORMAT = {
  type: 'string',
  value: 'table|json|ndjson',
  description: 'for a person, or for a machine',
} as const;

export const demoCommand = defineCommand({
  name: 'demo',
  args: '',
  positionals: { min: 0, max: 0 },
  summary: 'the seed scenario end to end on embedded defaults',
  options: {
    store: {
      type: 'string',
      value: 'PATH',
      description: `the demo's store (default ${DEMO_STORE}); a postgres:// URL too`,
    },
  },
  async run({ values }, { out }) {
    await demo(values.store ?? DEMO_STORE, out);
    return EXIT.ok;
  },
});

export const verifyCommand = defineCommand({
  name: 'verify',
  args: 'STORE',
  positionals: { min: 1, max: 1 },
  summary:
    'exit 0 intact; 1 tampered (names first bad seq and why); 2 unusable\ninput; 3 nothing wrong found, but the keys or off-host\ncheckpoints given do not vouch for every log',
  options: {
    checkpoint: {
      type: 'string',
      multiple: true,
      value: 'FILE|DIR',
      description: 'a checkpoint kept off-host (a note, or a directory of *.note)',
    },
    'trusted-keys': {
      type: 'string',
      value: 'JWKS',
      description: 'the keys trusted to sign checkpoints (file or URL)',
    },
    format: FORMAT,
    incremental: {
      type: 'boolean',
      description: 'with --checkpoint DIR: only the rows after its newest checkpoint (docs/receipts.md)',
    },
    'witness-policy': {
      type: 'string',
      value: 'FILE',
      description: "a tlog-policy: a quorum of its witnesses must have cosigned each log's checkpoint",
    },
    workers: {
      type: 'string',
      value: 'N',
      description:
        'threads reading a SQLite store (default: one per core for big logs with over 2 cores; 0 or 1: none)',
    },
  },
  async run({ values, positionals }, { out, err }) {
    const options = {
      checkpoints: values.checkpoint,
      trustedKeys: values['trusted-keys'],
      format: outputFormat(values.format),
      workers: values.workers === undefined ? undefined : wholeNumber(values.workers, '--workers'),
    };
    const policy = values['witness-policy'];
    if (policy && options.format !== 'table')
      throw new CliError('verify: --witness-policy prints its verdict as text; use it without --format');
    return await withStore(positionals[0]!, async (store) => {
      const code = values.incremental
        ? await incrementalVerify(store, options, out)
        : await verify(store, options, out, err);
      if (!policy) return code;
      const quorum = witnessQuorum(policy, values.checkpoint ?? [], await store.origins(), out);
      return code === EXIT.ok ? quorum : code;
    });
  },
});

export const checkpointsCommand = defineCommand({
  name: 'checkpoints',
  args: 'STORE',
  positionals: { min: 1, max: 1 },
  summary:
    "verify, then print (or write to DIR) each log's latest signed\ncheckpoint, to keep off-host for verify --checkpoint; in DIR\neach is proven consistent with the one before, and witnesses\n(--witness URL, ONBEHALF_WITNESSES) cosign it",
  options: {
    out: { type: 'string', value: 'DIR', description: 'write one <origin>.note per log here' },
    'trusted-keys': {
      type: 'string',
      value: 'JWKS',
      description: 'the keys trusted to sign checkpoints (file or URL)',
    },
    witness: {
      type: 'string',
      multiple: true,
      value: 'URL',
      description: 'a C2SP tlog-witness to cosign each new checkpoint (needs --out)',
    },
  },
  async run({ values, positionals }, { out, err }) {
    const trustedKeys = values['trusted-keys'] ? await loadTrustedKeys(values['trusted-keys']) : undefined;
    const witnesses = values.witness ?? witnessesFromEnv();
    if (witnesses.length > 0 && !values.out) throw new CliError('checkpoints: --witness needs --out DIR');
    return await withStore(positionals[0]!, (store) =>
      checkpoints(store, { outDir: values.out, trustedKeys, witnesses }, out, err),
    );
  },
});

export const sqlCommand = defineCommand({
  name: 'sql',
  args: 'STORE "SELECT …"',
  positionals: { min: 2, max: 2 },
  summary: 'read-only SQL, stopped after SECONDS (default 30)',
  options: {
    format: FORMAT,
    timeout: {
      type: 'string',
      value: 'SECONDS',
      description: `stop the statement after this long (default ${DEFAULT_SQL_TIMEOUT_SECONDS})`,
    },
  },
  async run({ values, positionals }, { out }) {
    const seconds =
      values.timeout === undefined ? DEFAULT_SQL_TIMEOUT_SECONDS : positiveSeconds(values.timeout);
    const fmt = outputFormat(values.format);
    requireStore(positionals[0]!);
    out(formatRows(await boundedSql(positionals[0]!, positionals[1]!, seconds), fmt));
    return EXIT.ok;
  },
});

export const reportCommand = defineCommand({
  name: 'report',
  args: 'STORE',
  positionals: { min: 1, max: 1 },
  summary:
    'one self-contained HTML page: verification status, delegation\ngraph and timeline (default file onbehalf-report.html)',
  options: {
    trigger: { type: 'string', value: 'ID', description: 'trigger_id, or type:id' },
    actor: { type: 'string', value: 'ID', description: 'actor_id or actor_name' },
    'on-behalf-of': { type: 'string', value: 'ID', description: 'the principal' },
    since: { type: 'string', value: 'TIME', description: 'from TIME on (as for query)' },
    until: { type: 'string', value: 'TIME', description: 'before TIME' },
    'jaeger-url': { type: 'string', value: 'URL', description: 'link each row to <URL>/trace/<trace_id>' },
    'trusted-keys': { type: 'string', value: 'JWKS', description: 'the keys trusted to sign checkpoints' },
    checkpoint: {
      type: 'string',
      multiple: true,
      value: 'FILE|DIR',
      description: 'a checkpoint kept off-host',
    },
    out: { type: 'string', value: 'FILE', description: 'where to write the page' },
  },
  details: `TIME: ${TIME_FORMS}.`,
  async run({ values, positionals }, { out, err }) {
    const scope = {
      trigger: values.trigger,
      actor: values.actor,
      onBehalfOf: values['on-behalf-of'],
      since: reportTime(values.since, '--since'),
      until: reportTime(values.until, '--until'),
    };
    const options = {
      out: values.out,
      jaegerUrl: values['jaeger-url'],
      trustedKeys: values['trusted-keys'],
      checkpoints: values.checkpoint,
    };
    return await withStore(positionals[0]!, (store) => report(store, scope, options, out, err));
  },
});

/** A report's heading shows an ISO time as it was typed, and a relative one as the instant it meant. */
function reportTime(value: string | undefined, flag: string): string | undefined {
  if (value === undefined || isIsoTime(value)) return value;
  return resolveTime(value, flag);
}

export const keygenCommand = defineCommand({
  name: 'keygen',
  args: '',
  positionals: { min: 0, max: 0 },
  summary:
    "Ed25519 key pair: DIR/signing-key.jwk and DIR/jwks.json,\nthe public key bound to the actors (and origins) it speaks for;\norigins default to this host's logs, onbehalf/<host>/*",
  options: {
    out: { type: 'string', value: 'DIR', description: 'where to write the pair (default .)' },
    actor: { type: 'string', multiple: true, value: 'TYPE:ID', description: 'an actor the key may sign for' },
    origin: {
      type: 'string',
      multiple: true,
      value: 'NAME',
      description: 'a log whose checkpoints the key may sign',
    },
    force: { type: 'boolean', description: 'replace an existing key pair' },
  },
  async run({ values }, { out, err }) {
    const dir = values.out ?? '.';
    if (existsSync(`${dir}/signing-key.jwk`) && !values.force) {
      throw new CliError(`keygen: ${dir}/signing-key.jwk exists; use --force to replace it`);
    }
    const key = generateSigningKey();
    // A store on this host names its logs onbehalf/<host>/<random>: without --origin, those.
    const origins = values.origin?.length ? values.origin : [thisHostOrigins()];
    const { privatePath, publicPath } = writeKeyPair(dir, key, { actors: values.actor, origins });
    if (!values.actor?.length)
      err('keygen: no --actor given: receivers verify no attribution signed with this key\n');
    if (!values.origin?.length)
      err(`keygen: no --origin given: its checkpoints vouch for this host's logs only (${origins[0]})\n`);
    out(`wrote ${privatePath} (private, mode 0600) and ${publicPath} (public); kid ${key.kid}\n`);
    return EXIT.ok;
  },
});

export const proveCommandDefinition = defineCommand({
  name: 'prove',
  args: 'STORE',
  positionals: { min: 1, max: 1 },
  summary:
    'a C2SP tlog-proof receipt of one row, with the row: it\nverifies with no store (docs/receipts.md); give --event ID\nor --origin O with --seq N',
  options: {
    event: { type: 'string', value: 'ID', description: 'the row with this event id' },
    origin: { type: 'string', value: 'O', description: 'the log of the row (with --seq)' },
    seq: { type: 'string', value: 'N', description: 'the row at this seq of --origin' },
    checkpoint: {
      type: 'string',
      multiple: true,
      value: 'FILE|DIR',
      description: 'checkpoints kept off-host (their cosignatures go into the receipt)',
    },
    out: { type: 'string', value: 'FILE', description: 'write the receipt here (default stdout)' },
  },
  async run({ values, positionals }, { out, err }) {
    return await proveCommand(values, positionals[0]!, out, err);
  },
});

export const verifyReceiptCommandDefinition = defineCommand({
  name: 'verify-receipt',
  args: 'FILE',
  positionals: { min: 1, max: 1 },
  summary: 'exit 0 the row is in the signed log; 1 it is not (the\nreceipt was changed); 2 unusable input',
  options: {
    'trusted-keys': {
      type: 'string',
      value: 'JWKS',
      required: true,
      description: "the log's pinned public keys (file or URL)",
    },
    'witness-policy': {
      type: 'string',
      value: 'FILE',
      description: 'a tlog-policy whose quorum must have cosigned the checkpoint',
    },
    format: { type: 'string', value: 'table|json', description: 'output format (default table)' },
  },
  async run({ values, positionals }, { out }) {
    return await verifyReceiptCommand(values, positionals[0]!, out);
  },
});

export const witnessCommandDefinition = defineCommand({
  name: 'witness',
  args: '',
  positionals: { min: 0, max: 0 },
  summary:
    "a C2SP tlog-witness: cosigns the logs' checkpoints that\nextend what it cosigned before (docs/receipts.md); runs until\nSIGINT or SIGTERM",
  options: {
    listen: { type: 'string', value: 'HOST:PORT', required: true, description: 'where to listen' },
    state: {
      type: 'string',
      value: 'FILE.db',
      required: true,
      description: 'SQLite file of the latest checkpoint per log',
    },
    key: { type: 'string', value: 'KEY.jwk', required: true, description: "the witness's own signing key" },
    'trusted-keys': {
      type: 'string',
      value: 'JWKS',
      required: true,
      description: "the logs' public keys, bound to their origins",
    },
    name: { type: 'string', value: 'NAME', description: 'the witness name (default onbehalf-witness/HOST)' },
  },
  async run({ values }, { out }) {
    return await witnessCommand(values, out);
  },
});

export const approveCommand = defineCommand({
  name: 'approve',
  args: '[ID]',
  positionals: { min: 0, max: 1 },
  summary:
    'list the approval requests waiting (ONBEHALF_APPROVALS_DIR); with ID\nand --as, approve (or --reject) one: the waiting action records it',
  options: {
    dir: { type: 'string', value: 'DIR', description: 'where requests wait (default ./onbehalf-approvals)' },
    as: { type: 'string', value: 'APPROVER', description: 'who answers (required with ID)' },
    reject: { type: 'boolean', description: 'reject instead of approve' },
  },
  async run({ values, positionals }, { out }) {
    return approve(values, positionals, process.env, out);
  },
});
