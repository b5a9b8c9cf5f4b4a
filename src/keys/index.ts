// onbehalf/keys: signing keys for checkpoints and attribution tokens, and the trusted public keys
// that verify them.

export {
  generateSigningKey,
  KeyError,
  loadSigningKey,
  loadTrustedKeys,
  loadTrustedKeysFile,
  type SigningKey,
  signingKeyFromJwk,
  type TrustedKey,
  trustedKeysFromJwks,
  writeKeyPair,
} from './keys.js';
