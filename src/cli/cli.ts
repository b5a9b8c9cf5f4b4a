import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { OnbehalfError } from '../errors/onbehalf-error.js';
import { generateSigningKey, loadTrustedKeys, writeKeyPair } from '../keys/keys.js';
import type { AuditQuery, AuditStore } from '../stores/audit-store.js';
import { isPostgresUrl, openAuditStore } from '../stores/open.js';
import { boundedSql, DEFAULT_SQL_TIMEOUT_SECONDS } from './commands/bounded-sql.js';
import { checkpoints } from './commands/checkpoints.js';
import { DEMO_STORE, demo } from './commands/demo.js';
import { report } from './commands/report.js';
import { query, timeline, verify } from './commands/store-commands.js';
import { CliError, EXIT, exitCodeOf } from './errors.js';
import { formatRows, type OutputFormat } from './format.js';
import { terminalSafe } from './safe-text.js';

const USAGE = `onbehalf: truthful audit trails for AI agents

Usage:
  onbehalf demo [--store PATH]                 the seed scenario end to end on embedded defaults
  onbehalf verify STORE [--checkpoint FILE|DIR]... [--trusted-keys JWKS] [--format table|json|ndjson]
                                               exit 0 intact; 1 tampered (names first bad seq and why); 2 unusable
                                               input; 3 nothing wrong found, but the keys or off-host
                                               checkpoints given do not vouch for every log
  onbehalf checkpoints STORE [--out DIR] [--trusted-keys JWKS]
                                               verify, then print (or write to DIR) each log's latest signed
                                               checkpoint, to keep off-host for verify --checkpoint
  onbehalf query STORE [--actor-type T] [--actor ID] [--on-behalf-of ID] [--trigger ID] [--action A]
                       [--record-type action|started|gap] [--since ISO] [--until ISO] [--limit N]
                       [--format table|json|ndjson]
  onbehalf sql STORE "SELECT …" [--format table|json|ndjson] [--timeout SECONDS]
                                               read-only SQL, stopped after SECONDS (default 30)
  onbehalf timeline STORE --trigger ID         every action one trigger set in motion, in order
  onbehalf report STORE [--trigger ID] [--actor ID] [--on-behalf-of ID] [--since ISO] [--until ISO]
                        [--jaeger-url URL] [--trusted-keys JWKS] [--checkpoint FILE|DIR]... [--out FILE]
                                               one self-contained HTML page: verification status, delegation
                                               graph and timeline (default file onbehalf-report.html)
  onbehalf keygen [--out DIR] [--actor TYPE:ID]... [--origin NAME]... [--force]
                                               Ed25519 key pair: DIR/signing-key.jwk and DIR/jwks.json,
                                               the public key bound to the actors (and origins) it speaks for

STORE is a SQLite file path or a postgres:// URL.
`;

/** Writes to stdout; every byte printed is escaped for a terminal first (see `safe-text.ts`). */
export const out = (s: string) => void process.stdout.write(terminalSafe(s));
/** Writes to stderr, escaped likewise. */
export const err = (s: string) => void process.stderr.write(terminalSafe(s));

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(USAGE);
    return command ? EXIT.ok : EXIT.unusable;
  }
  try {
    switch (command) {
      case 'demo': {
        const { values } = parse(rest, { store: { type: 'string' } }, 0);
        await demo(values.store ?? DEMO_STORE, out);
        return EXIT.ok;
      }
      case 'keygen': {
        const { values } = parse(
          rest,
          {
            out: { type: 'string' },
            force: { type: 'boolean' },
            actor: { type: 'string', multiple: true },
            origin: { type: 'string', multiple: true },
          },
          0,
        );
        const dir = values.out ?? '.';
        if (existsSync(`${dir}/signing-key.jwk`) && !values.force) {
          throw new CliError(`keygen: ${dir}/signing-key.jwk exists; use --force to replace it`);
        }
        const key = generateSigningKey();
        const { privatePath, publicPath } = writeKeyPair(dir, key, {
          actors: values.actor,
          origins: values.origin,
        });
        if (!values.actor?.length)
          err('keygen: no --actor given: receivers verify no attribution signed with this key\n');
        out(`wrote ${privatePath} (private, mode 0600) and ${publicPath} (public); kid ${key.kid}\n`);
        return EXIT.ok;
      }
      case 'verify': {
        const { values, positionals } = parse(
          rest,
          {
            checkpoint: { type: 'string', multiple: true },
            'trusted-keys': { type: 'string' },
            format: { type: 'string' },
          },
          1,
        );
        const options = {
          checkpoints: values.checkpoint,
          trustedKeys: values['trusted-keys'],
          format: format(values.format),
        };
        return await withStore(positionals[0]!, (store) => verify(store, options, out, err));
      }
      case 'checkpoints': {
        const { values, positionals } = parse(
          rest,
          { out: { type: 'string' }, 'trusted-keys': { type: 'string' } },
          1,
        );
        const trustedKeys = values['trusted-keys']
          ? await loadTrustedKeys(values['trusted-keys'])
          : undefined;
        return await withStore(positionals[0]!, (store) =>
          checkpoints(store, { outDir: values.out, trustedKeys }, out, err),
        );
      }
      case 'query': {
        const { values, positionals } = parse(
          rest,
          {
            'actor-type': { type: 'string' },
            actor: { type: 'string' },
            'on-behalf-of': { type: 'string' },
            trigger: { type: 'string' },
            action: { type: 'string' },
            'record-type': { type: 'string' },
            since: { type: 'string' },
            until: { type: 'string' },
            limit: { type: 'string' },
            format: { type: 'string' },
          },
          1,
        );
        const q: AuditQuery = {
          recordTypes: recordTypes(values['record-type']),
          actorType: actorType(values['actor-type']),
          actor: values.actor,
          onBehalfOf: values['on-behalf-of'],
          trigger: values.trigger,
          action: values.action,
          since: values.since,
          until: values.until,
          limit: values.limit === undefined ? undefined : positiveInt(values.limit, '--limit'),
        };
        return await withStore(positionals[0]!, (store) => query(store, q, format(values.format), out));
      }
      case 'sql': {
        const { values, positionals } = parse(
          rest,
          { format: { type: 'string' }, timeout: { type: 'string' } },
          2,
        );
        const seconds =
          values.timeout === undefined ? DEFAULT_SQL_TIMEOUT_SECONDS : positiveSeconds(values.timeout);
        const fmt = format(values.format);
        requireStore(positionals[0]!);
        out(formatRows(await boundedSql(positionals[0]!, positionals[1]!, seconds), fmt));
        return EXIT.ok;
      }
      case 'timeline': {
        const { values, positionals } = parse(
          rest,
          { trigger: { type: 'string' }, format: { type: 'string' } },
          1,
        );
        if (!values.trigger) throw new CliError('timeline: --trigger ID is required');
        const trigger = values.trigger;
        return await withStore(positionals[0]!, (store) =>
          timeline(store, trigger, format(values.format), out),
        );
      }
      case 'report': {
        const { values, positionals } = parse(
          rest,
          {
            trigger: { type: 'string' },
            actor: { type: 'string' },
            'on-behalf-of': { type: 'string' },
            since: { type: 'string' },
            until: { type: 'string' },
            'jaeger-url': { type: 'string' },
            'trusted-keys': { type: 'string' },
            checkpoint: { type: 'string', multiple: true },
            out: { type: 'string' },
          },
          1,
        );
        const scope = {
          trigger: values.trigger,
          actor: values.actor,
          onBehalfOf: values['on-behalf-of'],
          since: values.since,
          until: values.until,
        };
        return await withStore(positionals[0]!, (store) =>
          report(
            store,
            scope,
            {
              out: values.out,
              jaegerUrl: values['jaeger-url'],
              trustedKeys: values['trusted-keys'],
              checkpoints: values.checkpoint,
            },
            out,
            err,
          ),
        );
      }
      default:
        throw new CliError(`unknown command: ${command}\n\n${USAGE}`);
    }
  } catch (e) {
    // The one place an error becomes an exit code: onbehalf's own by their code, a bad number
    // (RangeError) as unusable input; anything else is a bug and main() prints its stack.
    if (e instanceof OnbehalfError || e instanceof RangeError) {
      err(`onbehalf: ${e.message}\n`);
      if (e instanceof CliError) return e.exitCode;
      return e instanceof OnbehalfError ? exitCodeOf(e.code) : EXIT.unusable;
    }
    throw e;
  }
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parse<O extends Options>(args: string[], options: O, positionalCount: number) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true });
  } catch (e) {
    throw new CliError((e as Error).message, undefined, { cause: e });
  }
  if (parsed.positionals.length !== positionalCount) {
    const want =
      positionalCount === 0 ? 'no arguments' : positionalCount === 1 ? 'STORE' : 'STORE and a SQL statement';
    throw new CliError(`expected ${want}, got ${parsed.positionals.length} argument(s)\n\n${USAGE}`);
  }
  return parsed;
}

/** Opens a store read-only for one command; a missing file is unusable input, not a new store. */
async function withStore(location: string, fn: (store: AuditStore) => Promise<number>): Promise<number> {
  requireStore(location);
  const store = await openAuditStore(location, { readonly: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function requireStore(location: string): void {
  if (!isPostgresUrl(location) && !existsSync(location))
    throw new CliError(`store ${location}: no such file`);
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new CliError(`--timeout: expected a number of seconds, got ${value}`);
  return n;
}

function format(value: string | undefined): OutputFormat {
  if (value === undefined) return 'table';
  if (value === 'table' || value === 'json' || value === 'ndjson') return value;
  throw new CliError(`--format: expected table, json or ndjson, got ${value}`);
}

function actorType(value: string | undefined): AuditQuery['actorType'] {
  if (value === undefined || value === 'agent' || value === 'human' || value === 'service') return value;
  throw new CliError(`--actor-type: expected agent, human or service, got ${value}`);
}

function recordTypes(value: string | undefined): AuditQuery['recordTypes'] {
  if (value === undefined) return undefined;
  const types = value.split(',').map((t) => t.trim());
  for (const t of types) {
    if (t !== 'action' && t !== 'started' && t !== 'gap')
      throw new CliError(`--record-type: expected action, started or gap (comma-separated), got ${t}`);
  }
  return types as AuditQuery['recordTypes'];
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${name}: expected a whole number, got ${value}`);
  return n;
}
