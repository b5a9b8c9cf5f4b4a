/** What a human is asked to approve. */
export interface ApprovalRequest {
  /** The request's id (`apr-…`): on the approval_request, approval_resolution and action rows. */
  readonly id: string;
  readonly action: string;
  readonly target?: string;
  readonly riskTier: number;
  /** The accountable human the action is done for, if known. */
  readonly onBehalfOf?: string;
  /** Who would act. */
  readonly actorId?: string;
  /** The policies that allow the action once approved. */
  readonly policies: readonly string[];
  /** The first of those policies' `@reason`, if any. */
  readonly reason?: string;
  /** The action's arguments as redacted JSON, if it has any: what the approver sees. */
  readonly arguments?: string;
  /** ISO 8601 UTC. */
  readonly requestedAt: string;
  /** ISO 8601 UTC: unanswered by then, the request expires and the action is denied. */
  readonly expiresAt: string;
  /** Aborted when the request expires: an approver stops waiting for its human then. */
  readonly signal: AbortSignal;
}

/** An approver's answer. */
export interface ApprovalAnswer {
  approved: boolean;
  /** Who approved or rejected; the policy is asked again with this approver. */
  approverId: string;
  /** When the human answered, if not now (a replayed scenario). */
  at?: Date | number;
}

/**
 * Asks a human. Resolve with the answer; never resolving before `expiresAt` expires the request.
 * A thrown error or rejected promise counts as a rejection, recorded with its `error.type`.
 */
export type Approver = (request: ApprovalRequest) => ApprovalAnswer | Promise<ApprovalAnswer>;

/** An approver id as recorded: 1 to 256 characters, none a control character (no forged log lines). */
export function isApproverId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}
