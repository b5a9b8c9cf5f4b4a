// Cedar's own engine, `@cedar-policy/cedar-wasm` (a dependency: the demo and every policy file need
// it), is about 13 MB unpacked; it is loaded only by apps that decide with a policy file. Its Node
// build is CommonJS, so it loads synchronously, on first use, and start-up stays synchronous.
import { createRequire } from 'node:module';

/** A Cedar entity reference, `{ type: 'User', id: 'tom' }`. */
export interface CedarUid {
  type: string;
  id: string;
}

/** A Cedar value in the engine's JSON form. */
export type CedarValue =
  | { __entity: CedarUid }
  | boolean
  | number
  | string
  | CedarValue[]
  | { [key: string]: CedarValue };

/** One entity given to an evaluation: its attributes and the entities it is `in` (roles). */
export interface CedarEntity {
  uid: CedarUid;
  attrs: Record<string, CedarValue>;
  parents: CedarUid[];
}

/** An error as the engine reports it; `sourceLocations` are character offsets into the text parsed. */
export interface CedarError {
  message: string;
  help?: string | null;
  sourceLocations?: { start: number; end: number; label?: string | null }[];
}

type Answer = { type: 'success' } | { type: 'failure'; errors: CedarError[] };

/** The functions of `@cedar-policy/cedar-wasm/nodejs` onbehalf uses, typed as it uses them. */
export interface CedarWasm {
  getCedarVersion(): string;
  checkParsePolicySet(policies: { staticPolicies: string | Record<string, string> }): Answer;
  checkParseSchema(schema: string): Answer;
  policySetTextToParts(
    text: string,
  ):
    | { type: 'success'; policies: string[]; policy_templates: string[] }
    | { type: 'failure'; errors: CedarError[] };
  policyToJson(
    policy: string,
  ):
    | { type: 'success'; json: { annotations?: Record<string, string> } }
    | { type: 'failure'; errors: CedarError[] };
  preparsePolicySet(id: string, policies: { staticPolicies: Record<string, string> }): Answer;
  preparseSchema(name: string, schema: string): Answer;
  validate(call: {
    schema: string;
    policies: { staticPolicies: Record<string, string> };
    validationSettings?: { mode: 'strict' };
  }):
    | { type: 'failure'; errors: CedarError[] }
    | { type: 'success'; validationErrors: { policyId: string; error: CedarError }[] };
  statefulIsAuthorized(call: {
    principal: CedarUid;
    action: CedarUid;
    resource: CedarUid;
    context: Record<string, CedarValue>;
    entities: CedarEntity[];
    preparsedPolicySetId: string;
    preparsedSchemaName?: string;
    validateRequest?: boolean;
  }):
    | { type: 'failure'; errors: CedarError[] }
    | {
        type: 'success';
        response: {
          decision: 'allow' | 'deny';
          diagnostics: { reason: string[]; errors: { policyId: string; error: CedarError }[] };
        };
      };
}

const PACKAGE = '@cedar-policy/cedar-wasm';
let loaded: CedarWasm | undefined;

/**
 * The Cedar engine, loaded once.
 * @throws Error saying how to install it when `@cedar-policy/cedar-wasm` is not installed.
 */
export function cedar(): CedarWasm {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)(`${PACKAGE}/nodejs`) as CedarWasm;
  } catch (err) {
    throw new Error(
      `onbehalf: deciding with a Cedar policy needs ${PACKAGE} 4.x (npm install ${PACKAGE}@^4.13.0): ${
        err instanceof Error ? err.message : String(err)
      }`,
    );
  }
  return loaded;
}
