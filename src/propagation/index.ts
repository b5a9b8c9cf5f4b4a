// onbehalf/propagation: attribution across services. The signed token, its verification, inbound
// access tokens and the trusted keys they are checked against.

export {
  AttributionPropagator,
  type AttributionPropagatorOptions,
  type AttributionPropagatorStats,
} from './attribution-propagator.js';
export {
  ATTRIBUTION_TOKEN_TYPE,
  type AttributionClaims,
  type SignTokenOptions,
  signAttributionToken,
  type TokenRejection,
  type TokenVerification,
  type VerifyTokenOptions,
  verifyAttributionToken,
} from './attribution-token.js';
export { BAGGAGE_MAX_BYTES, BAGGAGE_MAX_ENTRIES } from './baggage-limits.js';
export { ATTRIBUTION_TOKEN_KEY } from './claims.js';
export { attributionPropagatorFrom, type PropagationKeyOptions } from './from-options.js';
export {
  AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  InboundTokenError,
  type InboundTokenReason,
} from './inbound-token.js';
export { TrustedKeySet, type TrustedKeySetOptions, type TrustedKeySetStats } from './trusted-key-set.js';
