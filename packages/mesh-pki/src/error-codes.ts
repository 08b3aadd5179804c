import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code @contrast/mesh-pki reports, with what it means, its kind and the usual hint. Programs
 * branch on the code, never on the message; docs/errors.md is generated from this list.
 */
export const MESH_PKI_ERROR_CODES = [
  {
    code: "SEED_INVALID_LENGTH",
    kind: "input",
    meaning: "A seed has the wrong length.",
    hint: "Use the seed decrypted from your seed share, unmodified.",
  },
  {
    code: "SALT_INVALID_LENGTH",
    kind: "input",
    meaning: "A salt has the wrong length.",
    hint: "Use the seed-shares.json written when the manifest was first set, unmodified.",
  },
  {
    code: "WORKLOAD_SECRET_ID_EMPTY",
    kind: "input",
    meaning: "A workload secret was requested for an empty WorkloadSecretID.",
    hint: "Set WorkloadSecretID in the manifest's policy entry, or request no workload secret.",
  },
  {
    code: "DET_KEYGEN_SEED_TOO_SHORT",
    kind: "input",
    meaning: "A key seed is shorter than 128 bits.",
    hint: "Derive keys only from seeds of at least 128 bits.",
  },
  {
    code: "DET_KEYGEN_UNSUPPORTED_CURVE",
    kind: "internal",
    meaning: "Deterministic key generation was asked for a curve it does not support.",
    hint: "Deterministic key generation supports P-224, P-256, P-384 and P-521.",
  },
  {
    code: "DET_KEYGEN_OUT_OF_RANGE",
    kind: "crypto",
    meaning: "A scalar derived from a seed is out of range.",
    hint: "This has negligible probability for a random seed; check the seed and report the case.",
  },
  {
    code: "KEY_MALFORMED",
    kind: "input",
    meaning: "A key is not valid DER/PEM of the expected structure.",
    hint: "Pass the public key as SubjectPublicKeyInfo DER or a KeyObject.",
  },
  {
    code: "KEY_WRONG_TYPE",
    kind: "input",
    meaning: "A key is of another type or curve than required.",
    hint: "Contrast's CA keys are ECDSA P-384.",
  },
  {
    code: "KEY_TOO_SMALL",
    kind: "input",
    meaning: "An RSA key is shorter than required.",
    hint: "Generate a new RSA key of at least the size the message names.",
  },
  {
    code: "CERT_SAN_INVALID",
    kind: "input",
    meaning: "A subject alternative name is empty or not printable ASCII.",
    hint: "SANs are DNS names, IP addresses or URIs in ASCII; fix the manifest's policy entry.",
  },
  {
    code: "CERT_VALIDITY_INVALID",
    kind: "internal",
    meaning: "A certificate's validity cannot be computed (the clock returned an invalid date).",
    hint: "The injected Clock must return a valid Date.",
  },
  {
    code: "SEED_SHARE_NO_MATCH",
    kind: "input",
    meaning: "No seed share was made for the given seed share owner key.",
    hint: "Use the seedshare-owner.pem whose public key is listed in the manifest's SeedshareOwnerPubKeys.",
  },
  {
    code: "SEED_SHARE_DECRYPT_FAILED",
    kind: "crypto",
    meaning: "A seed share does not decrypt with the given key.",
    hint: "The share or the key is damaged, or the share was made for another key.",
  },
  {
    code: "SEED_SHARE_OWNER_KEY_INVALID",
    kind: "input",
    meaning: "A seed share owner public key of the manifest is not a usable RSA key.",
    hint: "Put the hex PKCS#1 DER public key of seedshare-owner.pem in SeedshareOwnerPubKeys; `contrast manifest validate` checks it.",
  },
  {
    code: "TRANSITION_MALFORMED",
    kind: "input",
    meaning: "A manifest transition or hash has the wrong length or shape.",
    hint: "Transition hashes and manifest hashes are SHA-256 digests.",
  },
  {
    code: "TRANSITION_SIGNATURE_INVALID",
    kind: "crypto",
    meaning: "The signature of the latest manifest transition does not verify.",
    hint: "The seed does not belong to this deployment, or the history store was tampered with.",
  },
  {
    code: "RANDOM_SOURCE_INVALID",
    kind: "internal",
    meaning: "A bug in the caller: the injected random source returned the wrong number of bytes.",
    hint: "The injected RandomSource must return a Uint8Array of exactly the requested length.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type MeshPkiErrorCode = (typeof MESH_PKI_ERROR_CODES)[number]["code"];
