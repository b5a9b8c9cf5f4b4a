// The process-wide policy: what `audited()` decides with, and what the audit writer evaluates
// framework tool calls against in shadow mode. Set by `startOnbehalf`/`createOnbehalf` (`policy`
// option or `ONBEHALF_POLICY`), or directly with `usePolicy`.
import type { Approver } from '../approvals/approver.js';
import { PolicyEngine } from './engine.js';
import type { PolicySource } from './policy-set.js';

/** A policy set and how approvals are asked for. */
export interface PolicyOptions extends PolicySource {
  /** Who answers `require_approval` decisions; without one, such actions are denied. */
  approver?: Approver;
  /** How long an approval request stays open, in ms (default 15 minutes). */
  approvalTimeoutMs?: number;
  /**
   * Evaluate tool calls that onbehalf records but no gate decided (framework tool calls) in
   * `log_only` mode, so their rows say what the policy would have decided (default true).
   */
  shadow?: boolean;
}

/** The policy in force. */
export interface ActivePolicy {
  readonly engine: PolicyEngine;
  readonly approver: Approver | undefined;
  readonly approvalTimeoutMs: number;
  readonly shadow: boolean;
}

const DEFAULT_APPROVAL_TIMEOUT_MS = 15 * 60_000;
let active: ActivePolicy | undefined;

/**
 * Makes a policy the process's: every `audited()` call is decided by it from now on. `false` turns
 * policy evaluation off again. Returns the policy now in force.
 * @throws PolicyLoadError (nothing changes) when the policy file does not parse or validate.
 * @example
 * usePolicy({ file: 'policy.cedar', approver: async (req) => ({ approved: await ask(req), approverId: 'tom' }) });
 */
export function usePolicy(policy: PolicyOptions | PolicyEngine | false): ActivePolicy | undefined {
  if (policy === false) {
    active = undefined;
    return undefined;
  }
  const options: PolicyOptions = policy instanceof PolicyEngine ? {} : policy;
  const engine = policy instanceof PolicyEngine ? policy : PolicyEngine.load(policy);
  const timeout = options.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  if (!(Number.isFinite(timeout) && timeout > 0))
    throw new RangeError(`onbehalf: approvalTimeoutMs must be a positive number of ms (got ${timeout})`);
  active = Object.freeze({
    engine,
    approver: options.approver,
    approvalTimeoutMs: timeout,
    shadow: options.shadow ?? true,
  });
  return active;
}

/** The policy in force, if any. */
export function activePolicy(): ActivePolicy | undefined {
  return active;
}
