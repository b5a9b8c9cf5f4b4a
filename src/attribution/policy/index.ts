// onbehalf/policy: deciding each gated action with a Cedar policy set, the enforcing wrapper for
// framework tools, and approvals (docs/policy.md).

export type { ApprovalAnswer, ApprovalRequest, Approver } from '../approvals/approver.js';
export {
  answerApproval,
  type DirectoryApproverOptions,
  directoryApprover,
  pendingApprovals,
  type StoredApprovalRequest,
} from '../approvals/directory-approver.js';
export { type ActivePolicy, activePolicy, type PolicyOptions, usePolicy } from './active.js';
export type { PolicyMode } from './attributes.js';
export { type EnforceOptions, enforcePolicy } from './enforce.js';
export { type PolicyDecision, PolicyEngine } from './engine.js';
export { type LoadedPolicySet, PolicyLoadError, type PolicySource } from './policy-set.js';
export type { PolicySubject } from './request.js';
