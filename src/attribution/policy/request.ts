// One action as a Cedar request (docs/policy.md, "The request"): principal = the accountable human,
// action = the tool, resource = the target, context = who acts for them and under what authority.
import type { Attribution } from '../attribution.js';
import type { CedarEntity, CedarUid, CedarValue } from './cedar.js';

/** What a policy decides about: one action and who does it for whom. */
export interface PolicySubject {
  /** The tool or action name: `Action::"<action>"`. */
  action: string;
  /** What it is done to: `Target::"<target>"` and `context.target`. */
  target?: string | null;
  /** 0 … 3: `context.riskTier`. */
  riskTier?: number | null;
  /** The accountable human (or service) the actor acts for. */
  principal?: { id: string; type?: 'human' | 'service'; roles?: readonly string[] } | null;
  /** Who acts. */
  actor?: { id: string; type: 'agent' | 'human' | 'service'; ownerId?: string } | null;
  delegationChain?: readonly string[] | null;
  scopes?: readonly string[] | null;
  /** `local`, `verified` or `unverified`: whether the attribution was checked. */
  provenance?: string | null;
  /** The approval the action carries, if any. */
  approval?: { state: string; approverId?: string } | null;
}

/** A request ready for the engine. */
export interface CedarRequest {
  principal: CedarUid;
  action: CedarUid;
  resource: CedarUid;
  context: Record<string, CedarValue>;
  entities: CedarEntity[];
}

/** The subject of an action taken under `attribution`. */
export function subjectFromAttribution(
  action: string,
  details: { target?: string; riskTier?: number; approval?: { state: string; approverId?: string } },
  attribution: Readonly<Attribution> | undefined,
): PolicySubject {
  return {
    action,
    target: details.target,
    riskTier: details.riskTier ?? 0,
    principal: attribution?.principal,
    actor: attribution?.actor,
    delegationChain: attribution?.delegationChain,
    scopes: attribution?.scopes,
    provenance: attribution?.provenance,
    approval: details.approval,
  };
}

/**
 * The principal is the accountable human: the attribution's principal, else the acting agent's
 * owner; only an action with neither is asked about as its actor itself.
 */
export function principalOf(subject: PolicySubject): CedarUid {
  const p = subject.principal;
  if (p) return { type: p.type === 'service' ? 'Service' : 'User', id: p.id };
  const actor = subject.actor;
  if (actor?.ownerId) return { type: 'User', id: actor.ownerId };
  if (actor) return { type: ACTOR_TYPES[actor.type], id: actor.id };
  return { type: 'Agent', id: 'unattributed' };
}

const ACTOR_TYPES = { agent: 'Agent', human: 'User', service: 'Service' } as const;

/** The Cedar request for `subject`, with `approval` in place of the subject's own when given. */
export function cedarRequest(
  subject: PolicySubject,
  approval: { state: string; approverId?: string } | null | undefined = subject.approval,
): CedarRequest {
  const principal = principalOf(subject);
  const roles = subject.principal?.roles ?? [];
  const parents = roles.map((id) => ({ type: 'Role', id }));
  const entities: CedarEntity[] = [
    { uid: principal, attrs: {}, parents },
    ...parents.map((uid) => ({ uid, attrs: {}, parents: [] })),
  ];
  const chain = subject.delegationChain ?? [];
  return {
    principal,
    action: { type: 'Action', id: subject.action },
    resource: { type: 'Target', id: subject.target ?? '' },
    context: {
      agent: subject.actor?.id ?? '',
      actorType: subject.actor?.type ?? '',
      delegationChain: [...chain],
      delegationDepth: chain.length,
      scopes: [...(subject.scopes ?? [])],
      riskTier: subject.riskTier ?? 0,
      target: subject.target ?? '',
      provenance: subject.provenance ?? '',
      approval: { state: approval?.state ?? 'none', approver: approval?.approverId ?? '' },
    },
    entities,
  };
}
