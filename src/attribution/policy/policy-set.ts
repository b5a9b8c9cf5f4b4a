// Reads a Cedar policy set once, at start-up: every policy gets its id (its `@id("…")` annotation, or
// Cedar's own `policy<N>`), the set is validated against the schema when one is given, and the engine
// keeps it pre-parsed, so a decision never parses policy text again.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type CedarError, cedar } from './cedar.js';

/** Where a policy set comes from: a file, or text with a name to report errors under. */
export interface PolicySource {
  /** Path of a `.cedar` policy file. */
  file?: string;
  /** Policy text, instead of a file. */
  text?: string;
  /** Path of a Cedar schema (`.cedarschema`); with one, the policies are validated at load and each request at decision. */
  schemaFile?: string;
  /** Schema text, instead of a file. */
  schemaText?: string;
}

/** Thrown when a policy set cannot be used; `message` names the file and line. */
export class PolicyLoadError extends Error {
  override name = 'PolicyLoadError';
}

/** A policy set parsed, validated and pre-parsed in the engine. */
export interface LoadedPolicySet {
  /** The engine's key of the pre-parsed set (and schema). */
  readonly engineKey: string;
  /** Whether a schema was given: requests are then validated too. */
  readonly hasSchema: boolean;
  /** `sha256:<hex>` of the policy text: `sha256sum policy.cedar` names the same version. */
  readonly version: string;
  /** Policy ids in file order. */
  readonly ids: readonly string[];
  /** Each policy's annotations (`@id`, `@reason`, …) by id. */
  readonly annotations: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Where the set came from, for messages. */
  readonly origin: string;
}

/**
 * Reads, checks and pre-parses a policy set.
 * @throws PolicyLoadError naming the file, line and column of a parse error, a duplicate `@id`, or a
 *   policy the schema rejects.
 */
export function loadPolicySet(source: PolicySource): LoadedPolicySet {
  const engine = cedar();
  const origin = source.file ?? '(policy text)';
  const text = source.text ?? readText(source.file, 'policy file');
  if (text === undefined) throw new PolicyLoadError('onbehalf: a policy set needs a file or text');
  const schemaOrigin = source.schemaFile ?? '(schema text)';
  const schema = source.schemaText ?? readText(source.schemaFile, 'schema file');

  const parsed = engine.checkParsePolicySet({ staticPolicies: text });
  if (parsed.type === 'failure') throw loadError(origin, text, parsed.errors);
  const parts = engine.policySetTextToParts(text);
  if (parts.type === 'failure') throw loadError(origin, text, parts.errors);
  if (parts.policy_templates.length)
    throw new PolicyLoadError(`onbehalf: ${origin}: policy templates are not supported`);

  const byId: Record<string, string> = {};
  const annotations = new Map<string, Record<string, string>>();
  const offsets = new Map<string, number>();
  let searchFrom = 0;
  parts.policies.forEach((policy, index) => {
    const json = engine.policyToJson(policy);
    const notes = json.type === 'success' ? (json.json.annotations ?? {}) : {};
    const id = notes.id ?? `policy${index}`;
    const at = text.indexOf(policy, searchFrom);
    if (at >= 0) searchFrom = at + policy.length;
    if (byId[id] !== undefined)
      throw new PolicyLoadError(
        `onbehalf: ${where(origin, text, Math.max(at, 0))}: duplicate policy id ${JSON.stringify(id)}`,
      );
    byId[id] = policy;
    annotations.set(id, Object.freeze({ ...notes }));
    offsets.set(id, at);
  });

  const engineKey = `onbehalf-${randomUUID()}`;
  if (schema !== undefined) {
    const schemaParsed = engine.checkParseSchema(schema);
    if (schemaParsed.type === 'failure') throw loadError(schemaOrigin, schema, schemaParsed.errors);
    const validation = engine.validate({ schema, policies: { staticPolicies: byId } });
    if (validation.type === 'failure') throw loadError(origin, text, validation.errors);
    const first = validation.validationErrors[0];
    if (first) {
      const base = offsets.get(first.policyId) ?? -1;
      const local = first.error.sourceLocations?.[0]?.start;
      const policyText = byId[first.policyId] ?? '';
      const at =
        base >= 0 && local !== undefined
          ? base + charOffset(policyText, local)
          : base >= 0
            ? base
            : undefined;
      const place = at === undefined ? origin : where(origin, text, at);
      throw new PolicyLoadError(
        `onbehalf: ${place}: policy ${first.policyId} does not match the schema ${schemaOrigin}: ${first.error.message}`,
      );
    }
    const ok = engine.preparseSchema(engineKey, schema);
    if (ok.type === 'failure') throw loadError(schemaOrigin, schema, ok.errors);
  }
  const ok = engine.preparsePolicySet(engineKey, { staticPolicies: byId });
  if (ok.type === 'failure') throw loadError(origin, text, ok.errors);

  return Object.freeze({
    engineKey,
    hasSchema: schema !== undefined,
    version: `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`,
    ids: Object.freeze(Object.keys(byId)),
    annotations,
    origin,
  });
}

function readText(file: string | undefined, what: string): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyLoadError(
      `onbehalf: cannot read ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

function loadError(origin: string, text: string, errors: CedarError[]): PolicyLoadError {
  const first = errors[0];
  const location = first?.sourceLocations?.[0];
  const place = location ? where(origin, text, charOffset(text, location.start)) : origin;
  const label = location?.label ? ` (${location.label})` : '';
  return new PolicyLoadError(`onbehalf: ${place}: ${first?.message ?? 'invalid policy set'}${label}`);
}

/** Cedar reports UTF-8 byte offsets; JavaScript strings count UTF-16 units. */
function charOffset(text: string, byteOffset: number): number {
  return Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8').length;
}

/** `file:line:column`, both from 1. */
function where(origin: string, text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `${origin}:${line}:${column}`;
}
