import type { KeyObject } from "node:crypto";
import { sha256Hex } from "@contrast/core";
import type { SimReferenceValues } from "@contrast/manifest";
import { EvidenceError } from "../errors.js";

/** SHA-256 (hex) of the simulated ARK's PKIX public key: what ReferenceValues.sim[].ArkKeyDigest names. */
export function simArkKeyDigest(arkPublicKey: KeyObject): string {
  return sha256Hex(new Uint8Array(arkPublicKey.export({ type: "spki", format: "der" })));
}

/**
 * The sim entries that name this ARK as their trust anchor. Anyone can make a chain that
 * verifies; only the manifest's ArkKeyDigest makes one trusted, so a chain no entry names is
 * untrusted evidence (ATTESTATION_SIM_ANCHOR_NOT_TRUSTED), not a reference-value mismatch.
 * Hex digests compare case-insensitively.
 */
export function simEntriesNaming<T extends Pick<SimReferenceValues, "ArkKeyDigest">>(
  arkPublicKey: KeyObject,
  entries: readonly T[],
): T[] {
  return simEntriesNamingDigest(simArkKeyDigest(arkPublicKey), entries);
}

/**
 * simEntriesNaming for an ARK whose key digest (simArkKeyDigest, lower-case hex) is already
 * known, so that a verifier that remembers it need not export the key again.
 */
export function simEntriesNamingDigest<T extends Pick<SimReferenceValues, "ArkKeyDigest">>(
  digest: string,
  entries: readonly T[],
): T[] {
  const named = entries.filter((e) => e.ArkKeyDigest.toLowerCase() === digest);
  if (named.length === 0) {
    throw new EvidenceError(
      "ATTESTATION_SIM_ANCHOR_NOT_TRUSTED",
      `the simulated ARK (key digest ${digest}) is not named by the reference values`,
      {
        hint: "ReferenceValues.sim[].ArkKeyDigest must equal the digest of the chain's ARK key.",
        details: { arkKeyDigest: digest },
      },
    );
  }
  return named;
}
