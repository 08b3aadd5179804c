// @contrast/mesh-pki: the secret seed engine, deterministic keys, the Coordinator's CAs, mesh
// certificates, seed shares and signed manifest transitions, compatible with Contrast v1.5.
// Certificate encoding itself is @contrast/x509's.

export { type CaOptions, CoordinatorCa, type LeafRequest } from "./ca.js";
export { snpClaimExtensions, tdxClaimExtensions } from "./claims.js";
export { type DetKeygenCurve, deriveEcdsaKey } from "./det-keygen.js";
export { verifyEcdsaDigest } from "./ecdsa-digest.js";
export { MESH_PKI_ERROR_CODES } from "./error-codes.js";
export { MeshPkiError, type MeshPkiErrorCode } from "./errors.js";
export {
  encodeEcPrivateKey,
  encodePublicKey,
  encodeSeedShareOwnerKey,
  generateSeedShareOwnerKey,
  parseEcPrivateKey,
  parsePublicKey,
  parseSeedShareOwnerKey,
  parseSeedShareOwnerPublicKeyHex,
  parseWorkloadOwnerKey,
  publicKeyDer,
  seedShareOwnerPublicKeyHex,
  workloadOwnerKeyDigest,
} from "./keys.js";
export { cryptoRandom, type RandomSource } from "./random.js";
export { generateSeed, MAX_SEED_BYTES, MIN_SEED_BYTES, SeedEngine } from "./seed-engine.js";
export { createSeedShareDocument, recoverSeed } from "./seed-shares.js";
export {
  assertLatestTransition,
  decodeLatestTransition,
  decodeTransition,
  encodeLatestTransition,
  encodeTransition,
  type LatestTransition,
  signTransition,
  signUpdate,
  type Transition,
  transitionHash,
  updateSigningHash,
  verifyLatestTransition,
  verifyTransitionSignature,
  verifyUpdateSignature,
  ZERO_TRANSITION_HASH,
} from "./transitions.js";
