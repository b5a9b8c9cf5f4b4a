import { cedar } from './cedar.js';
import { type LoadedPolicySet, loadPolicySet, type PolicySource } from './policy-set.js';
import { cedarRequest, type PolicySubject, principalOf } from './request.js';

/** What a policy decided about one action, and why. */
export interface PolicyDecision {
  /**
   * `allow`; `deny` (a `forbid` matched, no `permit` did, or evaluation failed: the engine fails
   * closed); `require_approval` (no `permit` matches as the action stands, but one would with an
   * approval, and no `forbid` does).
   */
  decision: 'allow' | 'deny' | 'require_approval';
  /**
   * The determining policies: the permits that allowed (or would allow with approval), or the
   * forbids that denied. Empty for a default deny, where no permit matched.
   */
  policies: readonly string[];
  /** Evaluation errors (`policy-id: message`) and request errors; a policy that errors is skipped. */
  errors: readonly string[];
  /** The engine and its version, e.g. `cedar 4.13.0`. */
  engine: string;
  /** `sha256:<hex>` of the policy text. */
  version: string;
  /** The first determining policy's `@reason("…")` annotation, if it has one. */
  reason?: string;
}

/**
 * A Cedar policy set, parsed and validated once, that decides actions. Decisions are synchronous and
 * never throw: a request the engine cannot evaluate (one the schema rejects) is denied, with the error.
 *
 * @example
 * const engine = PolicyEngine.load({ file: 'policy.cedar' });
 * engine.decide({ action: 'send_mail', target: 'dana@acme.example', principal: { id: 'tom' } });
 */
export class PolicyEngine {
  readonly engine: string;

  private constructor(readonly policySet: LoadedPolicySet) {
    this.engine = `cedar ${cedar().getCedarVersion()}`;
  }

  /**
   * Loads a policy set (and schema) and pre-parses it.
   * @throws PolicyLoadError naming the file and line of what is wrong.
   */
  static load(source: PolicySource): PolicyEngine {
    return new PolicyEngine(loadPolicySet(source));
  }

  /** `sha256:<hex>` of the policy text. */
  get version(): string {
    return this.policySet.version;
  }

  /** Decides `subject`; see {@link PolicyDecision} for how `require_approval` is found. */
  decide(subject: PolicySubject): PolicyDecision {
    const first = this.evaluate(subject, subject.approval);
    if (first.failed || first.decision === 'allow' || first.policies.length > 0 || isApproved(subject)) {
      return this.result(first.failed ? 'deny' : first.decision, first.policies, first.errors);
    }
    // No permit matched and no forbid did: would the accountable human's approval change that?
    const withApproval = this.evaluate(subject, { state: 'approved', approverId: principalOf(subject).id });
    if (!withApproval.failed && withApproval.decision === 'allow') {
      return this.result('require_approval', withApproval.policies, first.errors);
    }
    return this.result('deny', [], first.errors);
  }

  private result(
    decision: PolicyDecision['decision'],
    policies: readonly string[],
    errors: readonly string[],
  ): PolicyDecision {
    const out: PolicyDecision = { decision, policies, errors, engine: this.engine, version: this.version };
    const reason = policies.length
      ? this.policySet.annotations.get(policies[0] as string)?.reason
      : undefined;
    if (reason) out.reason = reason;
    return out;
  }

  private evaluate(subject: PolicySubject, approval: PolicySubject['approval']): Evaluation {
    const request = cedarRequest(subject, approval);
    let answer: ReturnType<ReturnType<typeof cedar>['statefulIsAuthorized']>;
    try {
      answer = cedar().statefulIsAuthorized({
        ...request,
        preparsedPolicySetId: this.policySet.engineKey,
        ...(this.policySet.hasSchema
          ? { preparsedSchemaName: this.policySet.engineKey, validateRequest: true }
          : {}),
      });
    } catch (err) {
      return { failed: true, decision: 'deny', policies: [], errors: [`engine: ${String(err)}`] };
    }
    if (answer.type === 'failure') {
      return {
        failed: true,
        decision: 'deny',
        policies: [],
        errors: answer.errors.map((e) => `request: ${e.message}`),
      };
    }
    const { decision, diagnostics } = answer.response;
    return {
      failed: false,
      decision,
      policies: diagnostics.reason,
      errors: diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
    };
  }
}

interface Evaluation {
  failed: boolean;
  decision: 'allow' | 'deny';
  policies: readonly string[];
  errors: readonly string[];
}

function isApproved(subject: PolicySubject): boolean {
  return subject.approval?.state === 'approved';
}
