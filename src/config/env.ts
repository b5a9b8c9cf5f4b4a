import type { Actor, Attribution } from '../attribution/attribution.js';

/** Environment variables read by onbehalf (docs/attribution.md, "Environment"). */
export const ENV = {
  store: 'ONBEHALF_STORE',
  agentId: 'ONBEHALF_AGENT_ID',
  agentName: 'ONBEHALF_AGENT_NAME',
  agentOwner: 'ONBEHALF_AGENT_OWNER',
  signingKey: 'ONBEHALF_SIGNING_KEY',
  trustedKeys: 'ONBEHALF_TRUSTED_KEYS',
  /** This service's names, comma-separated: inbound attribution tokens must carry one in `aud`. */
  audience: 'ONBEHALF_AUDIENCE',
  /** The services this process calls, comma-separated: put in the `aud` of the tokens it signs. */
  tokenAudience: 'ONBEHALF_TOKEN_AUDIENCE',
  /** `normal` (default) or `strict` (survives power loss). */
  durability: 'ONBEHALF_DURABILITY',
  /** `per-event` (default) or `group`. */
  commit: 'ONBEHALF_COMMIT',
  /** Default principal (on whose behalf) of spans outside any attribution; only with `ONBEHALF_AGENT_ID`. */
  onBehalfOf: 'ONBEHALF_ON_BEHALF_OF',
  /** Default trigger of spans outside any attribution, as `type:id` (e.g. `email:msg-8821`). */
  trigger: 'ONBEHALF_TRIGGER',
  /** A Cedar policy file that decides `audited()` actions (docs/policy.md). */
  policy: 'ONBEHALF_POLICY',
  /** The policy's Cedar schema, optional. */
  policySchema: 'ONBEHALF_POLICY_SCHEMA',
  /** Where approval requests wait for `onbehalf approve`. */
  approvalsDir: 'ONBEHALF_APPROVALS_DIR',
} as const;

/** The default store when `ONBEHALF_STORE` is not set. */
export const DEFAULT_STORE = './onbehalf-audit.db';

type Env = Record<string, string | undefined>;

const value = (env: Env, key: string) => {
  const v = env[key]?.trim();
  return v ? v : undefined;
};

/** The process-wide default actor from `ONBEHALF_AGENT_ID` / `_NAME` / `_OWNER`, if an id is set. */
export function actorFromEnv(env: Env = process.env): Actor | undefined {
  const id = value(env, ENV.agentId);
  if (!id) return undefined;
  const actor: Actor = { type: 'agent', id };
  const name = value(env, ENV.agentName);
  const ownerId = value(env, ENV.agentOwner);
  if (name) actor.name = name;
  if (ownerId) actor.ownerId = ownerId;
  return actor;
}

/**
 * The process-wide default principal and trigger from `ONBEHALF_ON_BEHALF_OF` and `ONBEHALF_TRIGGER`
 * (`type:id`), for an agent whose code cannot set an attribution and that runs one task per process
 * (a CLI run, a job). Never meant for a server that acts for many people: there, use
 * `withAttribution` or inbound propagation per request.
 */
export function taskDefaultsFromEnv(env: Env = process.env): Pick<Attribution, 'principal' | 'trigger'> {
  const out: Pick<Attribution, 'principal' | 'trigger'> = {};
  const principal = value(env, ENV.onBehalfOf);
  if (principal) out.principal = { id: principal, type: 'human' };
  const trigger = value(env, ENV.trigger);
  if (trigger) {
    const colon = trigger.indexOf(':');
    // A trigger without its type would read as a different field in every query: refuse it at start-up.
    if (colon <= 0 || colon === trigger.length - 1) {
      throw new Error(
        `onbehalf: ${ENV.trigger} must be type:id (e.g. email:msg-8821), got ${JSON.stringify(trigger)}`,
      );
    }
    out.trigger = { type: trigger.slice(0, colon), id: trigger.slice(colon + 1) };
  }
  return out;
}
