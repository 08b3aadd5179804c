// @contrast/mesh-pki: the secret seed engine, deterministic keys, the Coordinator's CAs, mesh
// certificates, seed shares and signed manifest transitions, compatible with Contrast v1.5.

export {
  CA_VALIDITY_YEARS,
  type CaOptions,
  CoordinatorCa,
  generateMeshCaKey,
  INTERMEDIATE_CA_COMMON_NAME,
  type IssuedLeaf,
  LEAF_VALIDITY_YEARS,
  type LeafRequest,
  ROOT_CA_COMMON_NAME,
  TLS_CONFIG_FILES,
  WORKLOAD_SECRET_ID_OID,
} from "./ca.js";
export { SNP_CLAIMS_OID, snpClaimExtensions, TDX_CLAIMS_OID, tdxClaimExtensions } from "./claims.js";
export {
  curveOrder,
  type DeterministicEcKey,
  type DetKeygenCurve,
  deriveEcdsaKey,
  keyFromScalar,
} from "./det-keygen.js";
export { type EcdsaCurve, ecdsaCurveParameters, verifyEcdsaDigest } from "./ecdsa-digest.js";
export { MESH_PKI_ERROR_CODES } from "./error-codes.js";
export { MeshPkiError, type MeshPkiErrorCode } from "./errors.js";
export {
  encodeEcPrivateKey,
  encodePublicKey,
  encodeSeedShareOwnerKey,
  generateSeedShareOwnerKey,
  generateWorkloadOwnerKey,
  MIN_RSA_BITS,
  PEM_TYPES,
  parseEcPrivateKey,
  parsePublicKey,
  parseSeedShareOwnerKey,
  parseSeedShareOwnerPublicKeyHex,
  parseWorkloadOwnerKey,
  publicKeyDer,
  SEEDSHARE_OWNER_KEY_FILE,
  SEEDSHARE_OWNER_RSA_BITS,
  seedShareOwnerPublicKeyHex,
  WORKLOAD_OWNER_KEY_FILE,
  workloadOwnerKeyDigest,
} from "./keys.js";
export { cryptoRandom, type RandomSource } from "./random.js";
export { type ClassifiedSans, classifySans } from "./san.js";
export {
  generateSeed,
  MAX_SEED_BYTES,
  MIN_SEED_BYTES,
  SALT_BYTES,
  SEED_BYTES,
  SEED_LABELS,
  type SeedAndSalt,
  SeedEngine,
} from "./seed-engine.js";
export {
  createSeedShareDocument,
  decryptSeed,
  encryptSeed,
  recoverSeed,
  SEED_SHARE_LABEL,
} from "./seed-shares.js";
export {
  assertLatestTransition,
  assertTransitionSignature,
  decodeLatestTransition,
  decodeTransition,
  encodeLatestTransition,
  encodeTransition,
  type LatestTransition,
  signingHashText,
  signTransition,
  signUpdate,
  type Transition,
  transitionHash,
  transitionMatchesHash,
  updateSigningHash,
  verifyLatestTransition,
  verifyTransitionSignature,
  verifyUpdateSignature,
  ZERO_TRANSITION_HASH,
} from "./transitions.js";
