import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { formatFault } from '../../errors/verification-fault.js';
import { loadTrustedKeys } from '../../keys/keys.js';
import type { StoredAuditEvent } from '../../pipeline/event.js';
import { ProveError, proveRow, type RowSelector } from '../../receipts/prove.js';
import { parseReceipt, verifyReceipt } from '../../receipts/receipt.js';
import { isPostgresUrl, openAuditStore } from '../../stores/open.js';
import { oneLine } from '../../text/safe-text.js';
import { checkPolicy } from '../../witness/policy.js';
import { CliError, EXIT } from '../errors.js';
import { readCheckpointNotes } from './checkpoints.js';
import { timelineLine } from './store-commands.js';
import { cosignedNotes, loadPolicy } from './witness-command.js';

type Out = (s: string) => void;

/** The options `onbehalf prove` parses (declared in the CLI's registry). */
export interface ProveOptions {
  event?: string;
  origin?: string;
  seq?: string;
  checkpoint?: string[];
  out?: string;
}

/** The options `onbehalf verify-receipt` parses (declared in the CLI's registry). */
export interface VerifyReceiptOptions {
  'trusted-keys'?: string;
  format?: string;
  'witness-policy'?: string;
}

/** `onbehalf prove STORE (--event ID | --origin O --seq N) [--checkpoint FILE|DIR]... [--out FILE]`. */
export async function proveCommand(
  values: ProveOptions,
  location: string,
  out: Out,
  err: Out,
): Promise<number> {
  const byEvent = typeof values.event === 'string';
  const byPlace = typeof values.origin === 'string' || typeof values.seq === 'string';
  if (byEvent === byPlace || (byPlace && (values.origin === undefined || values.seq === undefined)))
    throw new CliError('prove: give either --event ID or both --origin O and --seq N');
  let which: RowSelector;
  if (byEvent) which = { eventId: values.event as string };
  else {
    const seq = String(values.seq);
    if (!/^[1-9][0-9]*$/.test(seq)) throw new CliError(`prove: --seq: expected 1, 2, …, got ${seq}`);
    which = { origin: String(values.origin), seq: Number(seq) };
  }
  const paths = (values.checkpoint as string[] | undefined) ?? [];
  // Directories' notes with the witnesses' cosignatures kept beside them: a receipt then carries them.
  const checkpointNotes = [...readCheckpointNotes(paths), ...cosignedNotes(paths)];
  if (!isPostgresUrl(location) && !existsSync(location))
    throw new CliError(`store ${location}: no such file`);
  const store = await openAuditStore(location, { readonly: true });
  try {
    const proved = await proveRow(store, which, { checkpointNotes });
    const what = `${proved.row.origin} seq ${proved.row.seq} (event ${proved.row.event_id}), checkpoint at size ${proved.checkpoint.size}`;
    if (typeof values.out === 'string') {
      writeFileSync(values.out, proved.receipt);
      out(`wrote ${values.out}: receipt of ${what}\n`);
    } else {
      out(proved.receipt);
      err(`receipt of ${what}\n`);
    }
    return EXIT.ok;
  } catch (e) {
    if (e instanceof ProveError)
      throw new CliError(`prove: ${e.message}`, e.tampered ? EXIT.tampered : EXIT.unusable);
    throw e;
  } finally {
    await store.close();
  }
}

/** `onbehalf verify-receipt FILE --trusted-keys JWKS [--format table|json]`. */
export async function verifyReceiptCommand(
  values: VerifyReceiptOptions,
  file: string,
  out: Out,
): Promise<number> {
  const keysSource = values['trusted-keys'];
  if (typeof keysSource !== 'string')
    throw new CliError(
      "verify-receipt: --trusted-keys JWKS is required: a receipt proves a row is in a log only against the log's pinned public key",
    );
  const format = values.format ?? 'table';
  if (format !== 'table' && format !== 'json')
    throw new CliError(`--format: expected table or json, got ${String(format)}`);
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (e) {
    throw new CliError(`verify-receipt: ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  const trustedKeys = await loadTrustedKeys(keysSource);
  let v = verifyReceipt(text, trustedKeys);
  const policyFile = values['witness-policy'];
  if (v.ok && typeof policyFile === 'string') {
    // The receipt's checkpoint must also carry a quorum of the policy's witnesses' cosignatures.
    const quorum = checkPolicy(loadPolicy(policyFile), parseReceipt(text.toString('utf8')).checkpoint);
    if (!quorum.ok && quorum.fault)
      v = { ...v, ok: false, fault: { ...quorum.fault, message: `witnesses: ${quorum.fault.message}` } };
  }
  const exit = v.ok ? EXIT.ok : v.notAReceipt ? EXIT.unusable : EXIT.tampered;
  if (format === 'json') {
    out(
      `${JSON.stringify(
        {
          ok: v.ok,
          fault: v.fault,
          origin: v.checkpoint?.origin,
          size: v.checkpoint?.size,
          signedBy: v.signedBy,
          row: v.row,
        },
        null,
        2,
      )}\n`,
    );
    return exit;
  }
  if (!v.ok) {
    out(`FAILED  ${oneLine(file)}: ${oneLine(v.fault && formatFault(v.fault))}\n`);
    return exit;
  }
  const row = v.row!;
  out(
    `VERIFIED  event ${oneLine(row.event_id)} is seq ${row.seq} of log ${oneLine(row.origin)}, ` +
      `in its checkpoint of ${v.checkpoint!.size} rows signed by key ${oneLine(v.signedBy)}\n` +
      `  ${timelineLine(row as unknown as StoredAuditEvent)}\n`,
  );
  return exit;
}
