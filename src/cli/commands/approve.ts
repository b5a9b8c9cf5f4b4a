import { answerApproval, pendingApprovals } from '../../attribution/approvals/directory-approver.js';
import { ENV } from '../../config/env.js';
import { CliError, EXIT } from '../errors.js';

/** Where `onbehalf approve` and the `ONBEHALF_APPROVALS_DIR` approver meet when neither names a directory. */
export const DEFAULT_APPROVALS_DIR = './onbehalf-approvals';

/**
 * `onbehalf approve [--dir DIR]` lists the approval requests waiting in DIR;
 * `onbehalf approve ID --as APPROVER [--reject] [--dir DIR]` answers one.
 */
export function approve(
  values: { dir?: string; as?: string; reject?: boolean },
  positionals: readonly string[],
  env: Record<string, string | undefined>,
  out: (s: string) => void,
): number {
  const dir = values.dir ?? (env[ENV.approvalsDir]?.trim() || DEFAULT_APPROVALS_DIR);
  if (positionals.length > 1) throw new CliError('approve: expected at most one request id');
  const id = positionals[0];
  if (id === undefined) {
    const pending = pendingApprovals(dir);
    if (!pending.length) {
      out(`no approval requests waiting in ${dir}\n`);
      return EXIT.ok;
    }
    for (const r of pending) {
      out(
        `${r.id}  ${r.action}${r.target ? ` ${r.target}` : ''}  for ${r.onBehalfOf ?? '?'} by ${r.actorId ?? '?'}` +
          `  risk ${r.riskTier}  policy ${r.policies.join(', ') || '-'}  expires ${r.expiresAt}\n`,
      );
      if (r.reason) out(`    ${r.reason}\n`);
      if (r.arguments) out(`    arguments ${r.arguments}\n`);
    }
    return EXIT.ok;
  }
  if (!values.as) throw new CliError('approve: --as APPROVER is required to answer a request');
  try {
    answerApproval(dir, id, { approved: !values.reject, approverId: values.as });
  } catch (e) {
    throw new CliError(`approve: ${(e as Error).message}`);
  }
  out(`${values.reject ? 'rejected' : 'approved'} ${id} as ${values.as}\n`);
  return EXIT.ok;
}
