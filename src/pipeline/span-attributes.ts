import type { Attributes } from '@opentelemetry/api';
import type { Attribution } from '../attribution/attribution.js';
import {
  ATTR_ATTRIBUTION_ACTOR_ID,
  ATTR_ATTRIBUTION_ACTOR_NAME,
  ATTR_ATTRIBUTION_ACTOR_OWNER_ID,
  ATTR_ATTRIBUTION_ACTOR_TYPE,
  ATTR_ATTRIBUTION_DELEGATION_CHAIN,
  ATTR_ATTRIBUTION_INTENT_ID,
  ATTR_ATTRIBUTION_INTENT_NAME,
  ATTR_ATTRIBUTION_PRINCIPAL_ID,
  ATTR_ATTRIBUTION_PRINCIPAL_TYPE,
  ATTR_ATTRIBUTION_PROVENANCE,
  ATTR_ATTRIBUTION_SCOPES,
  ATTR_ATTRIBUTION_TRIGGER_ID,
  ATTR_ATTRIBUTION_TRIGGER_TYPE,
  ATTR_ENDUSER_ID,
  ATTR_GEN_AI_AGENT_ID,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_AGENT_VERSION,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_SESSION_ID,
  ATTR_USER_ID,
  ATTR_USER_ROLES,
} from '../conventions/generated.js';

/** Options that change how an attribution becomes span attributes. */
export interface SpanAttributeOptions {
  /**
   * Also write the principal to `enduser.id`, for backends that still read it (semantic conventions
   * 1.45 deprecate it; `user.id` is always written).
   */
  mirrorEnduserId?: boolean;
}

/**
 * The span attributes of an attribution (docs/attribution.md, "Span attributes"). An unverified attribution is a claim:
 * nothing of it is written to the keys the audit columns read (actor, principal, trigger, intent,
 * scopes, session, delegation chain); every value goes under `attribution.claimed.*`, next to
 * `attribution.provenance=unverified`, so a caller's word never fills a column (docs/trust-model.md).
 */
export function attributionToAttributes(
  a: Readonly<Attribution>,
  options: SpanAttributeOptions = {},
): Attributes {
  const out: Attributes = {};
  const claimed = a.provenance === 'unverified';
  const put = (key: string, value: string | number | readonly string[] | undefined) => {
    if (value !== undefined) out[claimed ? claimKey(key) : key] = value as string;
  };
  put(ATTR_ATTRIBUTION_ACTOR_TYPE, a.actor.type);
  put(ATTR_ATTRIBUTION_ACTOR_ID, a.actor.id);
  put(ATTR_ATTRIBUTION_ACTOR_NAME, a.actor.name);
  put(ATTR_ATTRIBUTION_ACTOR_OWNER_ID, a.actor.ownerId);
  if (a.actor.type === 'agent') {
    put(ATTR_GEN_AI_AGENT_ID, a.actor.id);
    put(ATTR_GEN_AI_AGENT_NAME, a.actor.name);
    put(ATTR_GEN_AI_AGENT_VERSION, a.actor.version);
  }
  if (a.principal) {
    put(ATTR_ATTRIBUTION_PRINCIPAL_ID, a.principal.id);
    put(ATTR_ATTRIBUTION_PRINCIPAL_TYPE, a.principal.type);
    put(ATTR_USER_ID, a.principal.id);
    if (options.mirrorEnduserId) put(ATTR_ENDUSER_ID, a.principal.id);
    if (a.principal.roles?.length) put(ATTR_USER_ROLES, a.principal.roles);
  }
  put(ATTR_ATTRIBUTION_DELEGATION_CHAIN, a.delegationChain?.length ? a.delegationChain : undefined);
  put(ATTR_ATTRIBUTION_INTENT_ID, a.intent?.id);
  put(ATTR_ATTRIBUTION_INTENT_NAME, a.intent?.name);
  put(ATTR_ATTRIBUTION_TRIGGER_TYPE, a.trigger?.type);
  put(ATTR_ATTRIBUTION_TRIGGER_ID, a.trigger?.id);
  put(ATTR_ATTRIBUTION_SCOPES, a.scopes?.length ? a.scopes : undefined);
  put(ATTR_SESSION_ID, a.sessionId);
  put(ATTR_GEN_AI_CONVERSATION_ID, a.conversationId);
  out[ATTR_ATTRIBUTION_PROVENANCE] = a.provenance ?? 'local';
  return Object.freeze(out);
}

/** `attribution.principal.id` → `attribution.claimed.principal.id`; `user.id` → `attribution.claimed.user.id`. */
export function claimKey(key: string): string {
  return key.startsWith('attribution.')
    ? `attribution.claimed.${key.slice('attribution.'.length)}`
    : `attribution.claimed.${key}`;
}
