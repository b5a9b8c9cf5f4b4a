import { directoryApprover } from '../attribution/approvals/directory-approver.js';
import type { PolicyOptions } from '../attribution/policy/active.js';
import { ENV } from './env.js';

/**
 * The policy named by the environment: `ONBEHALF_POLICY` (a `.cedar` file), `ONBEHALF_POLICY_SCHEMA`
 * (its schema, optional) and `ONBEHALF_APPROVALS_DIR` (where `onbehalf approve` answers requests).
 */
export function policyOptionsFromEnv(env: Record<string, string | undefined>): PolicyOptions | undefined {
  const file = env[ENV.policy]?.trim();
  if (!file) return undefined;
  const schemaFile = env[ENV.policySchema]?.trim() || undefined;
  const dir = env[ENV.approvalsDir]?.trim();
  return { file, schemaFile, approver: dir ? directoryApprover({ dir }) : undefined };
}
