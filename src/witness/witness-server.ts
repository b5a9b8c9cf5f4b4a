import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { keySignsOrigin } from '../keys/key-binding.js';
import type { SigningKey, TrustedKey } from '../keys/keys.js';
import { verifyCheckpoint } from '../log-format/checkpoint.js';
import { verifyConsistency } from '../log-format/merkle-proofs.js';
import { openSqlite, type SqliteDatabase } from '../stores/sqlite-driver.js';
import { cosign } from './cosignature.js';

/**
 * A C2SP tlog-witness (https://c2sp.org/tlog-witness): `POST /add-checkpoint` with an old size, a
 * consistency proof and a checkpoint; the witness cosigns (tlog-cosignature `cosignature/v1`) only a
 * checkpoint signed by a log key it trusts that extends the latest one it cosigned for that origin,
 * which it keeps in SQLite. A log that shows two histories cannot get both cosigned.
 */

/** Options of {@link startWitness}. */
export interface WitnessOptions {
  /** The witness's name (its key name in cosignatures), e.g. `witness.example.com/w1`. */
  name: string;
  /** The witness's own Ed25519 key. */
  key: SigningKey;
  /** Log keys it trusts; a key's `onbehalf_origins` says which logs it signs. */
  logKeys: readonly TrustedKey[];
  /** SQLite file holding the latest cosigned checkpoint per origin. */
  statePath: string;
  /** Clock (POSIX seconds) for cosignature timestamps. */
  now?: () => number;
}

/** A running witness. */
export interface RunningWitness {
  server: Server;
  /** The submission prefix, e.g. `http://127.0.0.1:4321`. */
  url: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const MAX_PROOF_LINES = 63;
const B64_HASH = /^[A-Za-z0-9+/]{43}=$/;

interface Reply {
  status: number;
  body: string;
  type?: string;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'text/plain; charset=utf-8',
  ) {
    super(message);
  }
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS witness_checkpoints (
  origin TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  root TEXT NOT NULL,
  note TEXT NOT NULL,
  updated_at TEXT NOT NULL
);`;

/** Opens the witness state; the caller closes it. */
export function openWitnessState(path: string): SqliteDatabase {
  const db = openSqlite(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(SCHEMA);
  return db;
}

/** Handles one add-checkpoint body against the state: the response to send. Exported for tests of the rules. */
export function addCheckpoint(db: SqliteDatabase, options: WitnessOptions, body: string): Reply {
  const blank = body.indexOf('\n\n');
  if (blank < 0 || !body.endsWith('\n'))
    throw new Refusal(400, 'body: old size line, proof lines, empty line, checkpoint');
  const [oldLine = '', ...proofLines] = body.slice(0, blank).split('\n');
  const note = body.slice(blank + 2);
  const oldText = oldLine.startsWith('old ') ? oldLine.slice(4) : '';
  if (!/^(0|[1-9][0-9]*)$/.test(oldText) || !Number.isSafeInteger(Number(oldText)))
    throw new Refusal(400, `first line must be 'old <size>'`);
  if (proofLines.length > MAX_PROOF_LINES || proofLines.some((l) => !B64_HASH.test(l)))
    throw new Refusal(400, 'consistency proof lines must be base64 SHA-256 hashes, at most 63');
  const oldSize = Number(oldText);
  const proof = proofLines.map((l) => Buffer.from(l, 'base64'));
  const keys = options.logKeys.filter((k) => {
    try {
      const origin = note.slice(0, note.indexOf('\n'));
      return keySignsOrigin(k, origin);
    } catch {
      return false;
    }
  });
  const v = verifyCheckpoint(note, keys);
  if (!v.checkpoint) throw new Refusal(400, `checkpoint: ${v.fault?.message}`);
  const cp = v.checkpoint;
  if (keys.length === 0) throw new Refusal(404, `unknown log ${JSON.stringify(cp.origin)}`);
  if (!v.ok) throw new Refusal(403, `checkpoint: ${v.fault?.message}`);
  if (oldSize > cp.size)
    throw new Refusal(400, `old size ${oldSize} is larger than the checkpoint's ${cp.size}`);
  // Check and update in one immediate transaction: two submissions cannot both pass against one state.
  return db
    .transaction((): Reply => {
      const row = db.prepare('SELECT size, root FROM witness_checkpoints WHERE origin = ?').get(cp.origin) as
        | { size: number; root: string }
        | undefined;
      const latest = row ? Number(row.size) : 0;
      if (oldSize !== latest) throw new Refusal(409, `${latest}\n`, 'text/x.tlog.size');
      if (row && oldSize === cp.size) {
        if (row.root !== cp.root.toString('base64'))
          throw new Refusal(409, `a different checkpoint of size ${cp.size} was cosigned: the log is forked`);
      } else if (row) {
        if (!verifyConsistency(oldSize, cp.size, Buffer.from(row.root, 'base64'), cp.root, proof))
          throw new Refusal(422, `consistency proof from size ${oldSize} to ${cp.size} does not verify`);
      } else if (proof.length > 0) throw new Refusal(422, 'the proof must be empty from old size 0');
      db.prepare(
        'INSERT INTO witness_checkpoints (origin, size, root, note, updated_at) VALUES (?, ?, ?, ?, ?) ' +
          'ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, updated_at = excluded.updated_at',
      ).run(cp.origin, cp.size, cp.root.toString('base64'), note, new Date().toISOString());
      const now = options.now?.() ?? Math.floor(Date.now() / 1000);
      return { status: 200, body: cosign(cp.body, options.name, options.key, now) };
    })
    .immediate();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // The rest is read and dropped, so the client receives the 413 rather than a reset connection.
      if (size > MAX_BODY) reject(new Refusal(413, `body larger than ${MAX_BODY} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts a witness listening on `host:port` (port 0: any free one). */
export async function startWitness(
  options: WitnessOptions,
  host: string,
  port: number,
): Promise<RunningWitness> {
  const db = openWitnessState(options.statePath);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (r: Reply) => {
      res.writeHead(r.status, { 'content-type': r.type ?? 'text/plain; charset=utf-8' });
      res.end(r.body.endsWith('\n') ? r.body : `${r.body}\n`);
    };
    if (req.method !== 'POST' || req.url !== '/add-checkpoint') {
      send({ status: 404, body: 'only POST /add-checkpoint' });
      return;
    }
    readBody(req)
      .then((body) => send(addCheckpoint(db, options, body)))
      .catch((err: unknown) => {
        if (err instanceof Refusal) send({ status: err.status, body: err.message, type: err.type });
        else send({ status: 500, body: `witness error: ${(err as Error).message}` });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  return {
    server,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          db.close();
          resolve();
        });
        server.closeAllConnections?.();
      }),
  };
}
