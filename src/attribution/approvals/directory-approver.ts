// An approver that asks through a directory, for one host: each request is a file
// `<id>.request.json`, and `onbehalf approve` answers it with `<id>.answer.json`. Whoever can write
// the directory can approve, so it is created owner-only (0700); a deployment with more than one
// host or approver uses its own {@link Approver} (a chat message, a ticket, a push notification).
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ApprovalAnswer, type ApprovalRequest, type Approver, isApproverId } from './approver.js';

/** Options of {@link directoryApprover}. */
export interface DirectoryApproverOptions {
  /** Where requests and answers are kept. */
  dir: string;
  /** How often to look for an answer, in ms (default 200). */
  pollMs?: number;
}

/** A request as written to its file: {@link ApprovalRequest} without the signal. */
export type StoredApprovalRequest = Omit<ApprovalRequest, 'signal'>;

const ID = /^apr-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const REQUEST_SUFFIX = '.request.json';
const ANSWER_SUFFIX = '.answer.json';

/**
 * An {@link Approver} that writes each request to `dir` and waits for `onbehalf approve` to answer it.
 * @example
 * usePolicy({ file: 'policy.cedar', approver: directoryApprover({ dir: './approvals' }) });
 * // elsewhere: onbehalf approve --dir ./approvals apr-… --as tom
 */
export function directoryApprover(options: DirectoryApproverOptions): Approver {
  const pollMs = options.pollMs ?? 200;
  return (request) => {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    const { signal, ...stored } = request;
    writeFileSync(
      join(options.dir, `${request.id}${REQUEST_SUFFIX}`),
      `${JSON.stringify(stored, null, 2)}\n`,
      {
        mode: 0o600,
        flag: 'wx',
      },
    );
    return new Promise<ApprovalAnswer>((resolve, reject) => {
      const timer = setInterval(() => {
        let answer: ApprovalAnswer | undefined;
        try {
          answer = readAnswer(options.dir, request.id);
        } catch (err) {
          clearInterval(timer);
          reject(err);
          return;
        }
        if (answer) {
          clearInterval(timer);
          resolve(answer);
        }
      }, pollMs);
      signal.addEventListener('abort', () => {
        clearInterval(timer);
        reject(new Error(`approval ${request.id} expired`));
      });
    });
  };
}

/** Requests in `dir` that have no answer yet, oldest first. */
export function pendingApprovals(dir: string): StoredApprovalRequest[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const answered = new Set(
    names.filter((n) => n.endsWith(ANSWER_SUFFIX)).map((n) => n.slice(0, -ANSWER_SUFFIX.length)),
  );
  return names
    .filter((n) => n.endsWith(REQUEST_SUFFIX))
    .map((n) => n.slice(0, -REQUEST_SUFFIX.length))
    .filter((id) => ID.test(id) && !answered.has(id))
    .map(
      (id) => JSON.parse(readFileSync(join(dir, `${id}${REQUEST_SUFFIX}`), 'utf8')) as StoredApprovalRequest,
    )
    .sort((a, b) => (a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : 0));
}

/**
 * Answers request `id` in `dir`.
 * @throws Error when the id is malformed, no such request exists, or it is already answered.
 */
export function answerApproval(
  dir: string,
  id: string,
  answer: { approved: boolean; approverId: string },
): void {
  if (!ID.test(id)) throw new Error(`not an approval request id: ${JSON.stringify(id)}`);
  const names = readdirSync(dir);
  if (!names.includes(`${id}${REQUEST_SUFFIX}`)) throw new Error(`no approval request ${id} in ${dir}`);
  if (names.includes(`${id}${ANSWER_SUFFIX}`)) throw new Error(`approval request ${id} is already answered`);
  if (!isApproverId(answer.approverId))
    throw new Error('approver id must be 1 to 256 characters without control characters');
  const tmp = join(dir, `.${id}.answer.tmp`);
  writeFileSync(
    tmp,
    `${JSON.stringify({ approved: answer.approved, approverId: answer.approverId, at: new Date().toISOString() })}\n`,
    { mode: 0o600 },
  );
  // Renamed into place, so the waiting process never reads half an answer.
  renameSync(tmp, join(dir, `${id}${ANSWER_SUFFIX}`));
}

function readAnswer(dir: string, id: string): ApprovalAnswer | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, `${id}${ANSWER_SUFFIX}`), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = JSON.parse(text) as { approved?: unknown; approverId?: unknown; at?: unknown };
  if (typeof parsed.approved !== 'boolean' || !isApproverId(parsed.approverId))
    throw new Error(`approval answer ${id} in ${dir} is malformed`);
  return { approved: parsed.approved, approverId: parsed.approverId };
}
