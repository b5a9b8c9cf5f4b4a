import { MAX_ATTRIBUTION_LIST, MAX_ATTRIBUTION_STRING } from '../attribution/attribution.js';
import type { ActClaim, AttributionClaims } from './attribution-token.js';

/**
 * The attribution token's claims checked by hand, for the hot path: the checks of the claims schema
 * in `attribution-token.ts`, without building zod's issues and paths. It accepts only what the
 * schema accepts and returns what the schema returns (unknown claims dropped, unknown members of
 * `act` kept); anything it does not accept goes to the schema, which then names what is wrong, so
 * the two can differ only in speed. `test/propagation/token-claims-check.test.ts` holds them equal.
 */
export function fastClaims(payload: Record<string, unknown> | undefined): AttributionClaims | undefined {
  if (!payload) return undefined;
  const p = payload;
  const act = p.act;
  if (!isObject(act) || !isStr(act.sub)) return undefined;
  if (act.actor_type !== 'agent' && act.actor_type !== 'human' && act.actor_type !== 'service')
    return undefined;
  if (!optional(act.name, isStr) || !optional(act.owner_id, isStr) || !optional(act.version, isStr))
    return undefined;
  if (!optional(act.act, isActChain)) return undefined;
  if (typeof p.trace_id !== 'string' || !TRACE_ID.test(p.trace_id)) return undefined;
  if (!isDate(p.iat) || !isDate(p.exp) || !optional(p.nbf, isDate) || !isStr(p.jti)) return undefined;
  if (!optional(p.sub, isStr)) return undefined;
  if (!optional(p.principal_type, (v) => v === 'human' || v === 'service')) return undefined;
  if (!optional(p.roles, isStrList) || !optional(p.scp, isStrList)) return undefined;
  if (!optional(p.session_id, isStr) || !optional(p.conversation_id, isStr)) return undefined;
  if (!optional(p.aud, (v) => isStr(v) || (isStrList(v) && (v as unknown[]).length >= 1))) return undefined;
  const intent = p.intent;
  if (
    intent !== undefined &&
    !(isObject(intent) && optional(intent.id, isStr) && optional(intent.name, isStr))
  )
    return undefined;
  const trigger = p.trigger;
  if (trigger !== undefined && !(isObject(trigger) && isStr(trigger.type) && isStr(trigger.id)))
    return undefined;

  // The schema's output: its keys only, in its order; `act` whole (it passes unknown members through).
  const out: Record<string, unknown> = {};
  if (p.sub !== undefined) out.sub = p.sub;
  if (p.principal_type !== undefined) out.principal_type = p.principal_type;
  if (p.roles !== undefined) out.roles = [...(p.roles as string[])];
  out.act = copyAct(act);
  if (isObject(intent)) {
    const i: Record<string, unknown> = {};
    if (intent.id !== undefined) i.id = intent.id;
    if (intent.name !== undefined) i.name = intent.name;
    out.intent = i;
  }
  if (isObject(trigger)) out.trigger = { type: trigger.type, id: trigger.id };
  if (p.scp !== undefined) out.scp = [...(p.scp as string[])];
  if (p.session_id !== undefined) out.session_id = p.session_id;
  if (p.conversation_id !== undefined) out.conversation_id = p.conversation_id;
  out.trace_id = p.trace_id;
  out.iat = p.iat;
  out.exp = p.exp;
  if (p.nbf !== undefined) out.nbf = p.nbf;
  if (p.aud !== undefined) out.aud = Array.isArray(p.aud) ? [...p.aud] : p.aud;
  out.jti = p.jti;
  return out as AttributionClaims;
}

const TRACE_ID = /^[0-9a-f]{32}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStr(v: unknown): boolean {
  return typeof v === 'string' && v.length >= 1 && v.length <= MAX_ATTRIBUTION_STRING;
}

function isStrList(v: unknown): boolean {
  return Array.isArray(v) && v.length <= MAX_ATTRIBUTION_LIST && v.every(isStr);
}

function isDate(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function optional(v: unknown, check: (v: unknown) => boolean): boolean {
  return v === undefined || check(v);
}

/** Each nested `act` has a `sub` and at most one nested `act` (checked without recursion). */
function isActChain(v: unknown): boolean {
  for (let act: unknown = v; act !== undefined; act = (act as Record<string, unknown>).act) {
    if (!isObject(act) || !isStr(act.sub)) return false;
  }
  return true;
}

function copyAct(act: Record<string, unknown>): ActClaim {
  const copy: Record<string, unknown> = { ...act };
  if (isObject(act.act)) copy.act = copyAct(act.act);
  return copy as ActClaim;
}
