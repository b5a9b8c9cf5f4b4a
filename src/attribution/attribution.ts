import { type Context, context, createContextKey } from '@opentelemetry/api';
import { z } from 'zod';
import { OnbehalfError } from '../errors/onbehalf-error.js';

/** Longest id or name kept; longer values are rejected, so an attribution never bloats every span. */
export const MAX_ATTRIBUTION_STRING = 256;
/** Most entries kept in a list (scopes, roles, delegation chain). */
export const MAX_ATTRIBUTION_LIST = 32;

const text = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_ATTRIBUTION_STRING, `must be at most ${MAX_ATTRIBUTION_STRING} characters`)
  // Control characters in an id would let one forge extra lines in a text log.
  .refine((s) => !hasControlCharacter(s), 'must not contain control characters');
function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

const list = z.array(text).max(MAX_ATTRIBUTION_LIST, `must have at most ${MAX_ATTRIBUTION_LIST} entries`);

/** Who executed the work: an agent with its own non-human identity, a human, or a service. */
export const ActorSchema = z
  .object({
    type: z.enum(['agent', 'human', 'service']),
    id: text,
    name: text.optional(),
    version: text.optional(),
    /** The human accountable for this agent: the second key of a dual-keyed audit record. */
    ownerId: text.optional(),
  })
  .strict();

/** Zod schema of {@link Attribution}; `parse` rejects unknown fields and names the field that is wrong. */
export const AttributionSchema = z
  .object({
    actor: ActorSchema,
    /** On whose behalf and authority the actor acts. */
    principal: z
      .object({ id: text, type: z.enum(['human', 'service']).optional(), roles: list.optional() })
      .strict()
      .optional(),
    intent: z.object({ id: text.optional(), name: text.optional() }).strict().optional(),
    /** What set the work off, e.g. `{ type: 'email', id: 'msg-8821' }`. */
    trigger: z.object({ type: text, id: text }).strict().optional(),
    sessionId: text.optional(),
    conversationId: text.optional(),
    scopes: list.optional(),
    /** Actor ids from the principal to the current actor. */
    delegationChain: list.optional(),
    /** Where the attribution came from; set by onbehalf, not by callers. */
    provenance: z.enum(['local', 'verified', 'unverified']).optional(),
  })
  .strict();

/** Who acted, on whose behalf, why and under what authority. */
export type Attribution = z.infer<typeof AttributionSchema>;
/** The acting identity of an {@link Attribution}. */
export type Actor = z.infer<typeof ActorSchema>;

/** Thrown when an attribution is invalid; `message` names the offending field. */
export class AttributionError extends OnbehalfError {
  override name = 'AttributionError';
  constructor(
    message: string,
    /** Dotted path of the first invalid field, e.g. `actor.id`. */
    readonly field: string,
    options?: ErrorOptions,
  ) {
    super('attribution.invalid', message, options);
  }
}

const ATTRIBUTION_KEY = createContextKey('onbehalf.attribution');

/**
 * Validates an attribution and returns a frozen copy.
 * @throws AttributionError naming the first invalid field.
 */
export function parseAttribution(input: unknown): Readonly<Attribution> {
  const parsed = AttributionSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || '(root)';
    throw new AttributionError(`invalid attribution: ${field}: ${issue?.message ?? 'invalid'}`, field);
  }
  return deepFreeze(parsed.data);
}

/** The attribution carried by a context (the active one by default), if any. */
export function getAttribution(ctx: Context = context.active()): Readonly<Attribution> | undefined {
  return ctx.getValue(ATTRIBUTION_KEY) as Readonly<Attribution> | undefined;
}

/** A context that carries `attribution` as is; it must already be validated and frozen. */
export function contextWithAttribution(attribution: Readonly<Attribution>, ctx: Context = context.active()) {
  return ctx.setValue(ATTRIBUTION_KEY, attribution);
}

/**
 * Runs `fn` with `attribution` in the active OpenTelemetry context, so every span started inside it is
 * stamped with who acts and on whose behalf.
 *
 * Nested calls extend and narrow: a different actor inside an attributed context is a delegation, so
 * it is appended to `delegationChain`; the principal, trigger, intent and session carry over unless
 * given; scopes can only shrink (the intersection with the outer scopes); the principal cannot change.
 *
 * @throws AttributionError (before `fn` runs) when the attribution is invalid, naming the field.
 * @example
 * await withAttribution(
 *   { actor: { type: 'agent', id: 'nhi:agent-7f3', name: 'inbox-agent', ownerId: 'tom' },
 *     principal: { id: 'tom', type: 'human' }, trigger: { type: 'email', id: 'msg-8821' } },
 *   () => handleEmail(),
 * );
 */
export function withAttribution<T>(attribution: Attribution, fn: () => T): T {
  const outer = getAttribution();
  // Only objects get their claimed provenance dropped; anything else is reported as it is, at the root.
  const input: unknown =
    attribution !== null && typeof attribution === 'object'
      ? { ...attribution, provenance: undefined }
      : attribution;
  const parsed = parseAttribution(input);
  const effective = outer ? nest(outer, parsed) : localRoot(parsed);
  return context.with(contextWithAttribution(effective), fn);
}

/**
 * An attribution set in this process with nothing around it: provenance `local`, and the delegation
 * chain (principal → actor) filled in when not given.
 */
export function localRoot(a: Readonly<Attribution>): Readonly<Attribution> {
  const chain = a.delegationChain ?? defaultChain(a);
  return deepFreeze({ ...a, delegationChain: chain, provenance: 'local' as const });
}

function defaultChain(a: Readonly<Attribution>): string[] {
  const chain = a.principal && a.principal.id !== a.actor.id ? [a.principal.id] : [];
  return [...chain, a.actor.id];
}

/** Each attribution made by nesting, to the one it was nested in: how a delegation is told from a stranger. */
const NESTED_IN = new WeakMap<object, Readonly<Attribution>>();

/**
 * Whether `inner` was made by {@link withAttribution} inside `outer`, directly or through further
 * nesting: a delegation that belongs to `outer`'s work, not another request's attribution.
 */
export function isNestedIn(inner: Readonly<Attribution>, outer: Readonly<Attribution>): boolean {
  for (let a = NESTED_IN.get(inner); a; a = NESTED_IN.get(a)) if (a === outer) return true;
  return false;
}

function nest(outer: Readonly<Attribution>, inner: Readonly<Attribution>): Readonly<Attribution> {
  const nested = nestedAttribution(outer, inner);
  NESTED_IN.set(nested, outer);
  return nested;
}

function nestedAttribution(
  outer: Readonly<Attribution>,
  inner: Readonly<Attribution>,
): Readonly<Attribution> {
  if (inner.principal && outer.principal && inner.principal.id !== outer.principal.id) {
    throw new AttributionError(
      `invalid attribution: principal.id: a nested attribution cannot change the principal (${outer.principal.id} -> ${inner.principal.id})`,
      'principal.id',
    );
  }
  const outerChain = outer.delegationChain ?? defaultChain(outer);
  const sameActor = inner.actor.id === outer.actor.id;
  const chain = sameActor ? outerChain : [...outerChain, inner.actor.id];
  if (chain.length > MAX_ATTRIBUTION_LIST) {
    throw new AttributionError(
      `invalid attribution: delegationChain: delegation deeper than ${MAX_ATTRIBUTION_LIST} actors`,
      'delegationChain',
    );
  }
  const scopes =
    outer.scopes && inner.scopes
      ? inner.scopes.filter((s) => outer.scopes?.includes(s))
      : (inner.scopes ?? outer.scopes);
  return deepFreeze({
    actor: inner.actor,
    principal: inner.principal ?? outer.principal,
    intent: inner.intent ?? outer.intent,
    trigger: inner.trigger ?? outer.trigger,
    sessionId: inner.sessionId ?? outer.sessionId,
    conversationId: inner.conversationId ?? outer.conversationId,
    scopes,
    delegationChain: chain,
    // Nesting in this process never upgrades trust: a claimed outer attribution stays a claim.
    provenance: outer.provenance === 'unverified' ? 'unverified' : (outer.provenance ?? 'local'),
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
