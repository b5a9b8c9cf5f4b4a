import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_ATTRIBUTION_POLICY_DECISION,
  ATTR_ATTRIBUTION_POLICY_ENGINE,
  ATTR_ATTRIBUTION_POLICY_ERRORS,
  ATTR_ATTRIBUTION_POLICY_IDS,
  ATTR_ATTRIBUTION_POLICY_MODE,
  ATTR_ATTRIBUTION_POLICY_RULE,
  ATTR_ATTRIBUTION_POLICY_VERSION,
} from '../../conventions/generated.js';
import type { PolicyDecision } from './engine.js';

/** Whether the decision was enforced by the gate or only recorded (shadow mode). */
export type PolicyMode = 'enforce' | 'log_only';

/** Most errors kept on a row: a broken policy set must not bloat every record. */
const MAX_ERRORS = 8;

/** The `attribution.policy.rule` of a decision: its determining policy ids, comma-separated. */
export function ruleOf(decision: PolicyDecision): string | undefined {
  return decision.policies.length ? decision.policies.join(', ') : undefined;
}

/** The span attributes that record a decision: what, which policies, which engine and policy version. */
export function decisionAttributes(decision: PolicyDecision, mode: PolicyMode): Attributes {
  const attributes: Attributes = {
    [ATTR_ATTRIBUTION_POLICY_DECISION]: decision.decision,
    [ATTR_ATTRIBUTION_POLICY_IDS]: [...decision.policies],
    [ATTR_ATTRIBUTION_POLICY_ENGINE]: decision.engine,
    [ATTR_ATTRIBUTION_POLICY_VERSION]: decision.version,
    [ATTR_ATTRIBUTION_POLICY_MODE]: mode,
  };
  const rule = ruleOf(decision);
  if (rule) attributes[ATTR_ATTRIBUTION_POLICY_RULE] = rule;
  if (decision.errors.length)
    attributes[ATTR_ATTRIBUTION_POLICY_ERRORS] = decision.errors.slice(0, MAX_ERRORS);
  return attributes;
}
