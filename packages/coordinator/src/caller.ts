import { createPublicKey, type KeyObject } from "node:crypto";
import { sha256 } from "@contrast/core";
import { CoordinatorError } from "./errors.js";

/**
 * Evidence an upstream Go initializer presented in its aTLS client certificate, bound to the
 * nonce the server put in its CertificateRequest: `reportData` is what the aTLS server expects it
 * to carry, SHA-512(the certificate's SPKI DER || that nonce). The Coordinator verifies it like
 * request evidence. (@contrast/atls's AtlsPeer has this shape.)
 */
export interface HandshakeEvidence {
  readonly oid: string;
  readonly evidence: Uint8Array;
  readonly reportData: Uint8Array;
}

/**
 * Who is calling, as the transport established it: the key of the TLS client certificate of the
 * connection (its PKIX SubjectPublicKeyInfo DER), and evidence from the handshake if any. The
 * Coordinator authorises by this key only; it never trusts identities named in a request.
 */
export interface Caller {
  readonly publicKeyDer?: Uint8Array | undefined;
  readonly handshakeEvidence?: HandshakeEvidence | undefined;
  /**
   * The TLS exporter channel binding of the caller's connection (@contrast/atls's
   * channelBinding of the server-side socket); throws ATLS_CHANNEL_BINDING_UNAVAILABLE when the
   * connection is not TLS 1.3. Absent when the transport has none.
   */
  readonly channelBinding?: (() => Uint8Array) | undefined;
}

/** The caller's key; COORDINATOR_CLIENT_CERT_MISSING when the connection had no client certificate. */
export function requireClientKey(caller: Caller | undefined): Uint8Array {
  const der = caller?.publicKeyDer;
  if (der === undefined || der.length === 0) {
    throw new CoordinatorError("COORDINATOR_CLIENT_CERT_MISSING", "no client certificate on the connection", {
      hint: "`contrast set` and `contrast recover` always present a client certificate; other clients must connect with the workload owner, seed share owner or mesh key.",
    });
  }
  return der;
}

function parseSpki(der: Uint8Array): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" });
  } catch (cause) {
    throw new CoordinatorError("COORDINATOR_CLIENT_KEY_UNSUPPORTED", "the client certificate key does not parse", {
      cause,
      hint: "Use the ECDSA workload owner key or the RSA seed share owner key.",
    });
  }
}

/**
 * The digest upstream authorises a caller by: SHA-256 of the client certificate key, taken as
 * PKCS#1 DER for RSA (what SeedshareOwnerPubKeys hold) and PKIX DER for ECDSA (what
 * WorkloadOwnerKeyDigests hold). Other key types are refused, as upstream does.
 */
export function authorizationDigest(spkiDer: Uint8Array): Uint8Array {
  const key = parseSpki(spkiDer);
  if (key.asymmetricKeyType === "rsa") return sha256(new Uint8Array(key.export({ type: "pkcs1", format: "der" })));
  // Re-encoded as upstream's MarshalPKIXPublicKey does (named curve, uncompressed point), so an
  // equivalent but differently encoded certificate key still matches the manifest's digest.
  // (OpenSSL keeps a compressed point compressed on export; a JWK round trip does not.)
  if (key.asymmetricKeyType === "ec") {
    const canonical = createPublicKey({ key: key.export({ format: "jwk" }), format: "jwk" });
    return sha256(new Uint8Array(canonical.export({ type: "spki", format: "der" })));
  }
  throw new CoordinatorError(
    "COORDINATOR_CLIENT_KEY_UNSUPPORTED",
    `the client certificate key is ${key.asymmetricKeyType ?? "of an unknown type"}; expected RSA or ECDSA`,
    { hint: "Use the ECDSA workload owner key or the RSA seed share owner key." },
  );
}
