import type { Actor } from '../context/attribution.js';

/** Environment variables read by onbehalf (DESIGN §5). */
export const ENV = {
  store: 'ONBEHALF_STORE',
  agentId: 'ONBEHALF_AGENT_ID',
  agentName: 'ONBEHALF_AGENT_NAME',
  agentOwner: 'ONBEHALF_AGENT_OWNER',
  signingKey: 'ONBEHALF_SIGNING_KEY',
  trustedKeys: 'ONBEHALF_TRUSTED_KEYS',
  /** `normal` (default) or `strict` (survives power loss). */
  durability: 'ONBEHALF_DURABILITY',
  /** `per-event` (default) or `group`. */
  commit: 'ONBEHALF_COMMIT',
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
