import type { KeyObject } from "node:crypto";
import { type Clock, encodePem, isContrastError, utf8 } from "@contrast/core";
import {
  authorityKeyIdExtension,
  type CertificateExtension,
  caBasicConstraintsExtension,
  checkedSpki,
  derCommonNameName,
  derOctetString,
  ecdsaSigner,
  encodeExtension,
  extKeyUsageExtension,
  KEY_USAGE,
  keyIdentifier,
  keyUsageExtension,
  leafBasicConstraintsExtension,
  type Signer,
  signCertificate,
  spkiOfKey,
  subjectAltNameExtension,
  subjectKeyIdExtension,
  X509_OIDS,
} from "@contrast/x509";
import { deriveEcdsaKey } from "./det-keygen.js";
import { MeshPkiError } from "./errors.js";
import { PEM_TYPES, publicKeyDer } from "./keys.js";
import { drawRandom, type RandomSource } from "./random.js";
import { classifySans } from "./san.js";
import type { SeedEngine } from "./seed-engine.js";

/** Contrast: the workload secret ID of the pod a mesh certificate was issued to. */
export const WORKLOAD_SECRET_ID_OID = "1.3.9901.3.1";

export const ROOT_CA_COMMON_NAME = "system:coordinator:root";
export const INTERMEDIATE_CA_COMMON_NAME = "system:coordinator:intermediate";

const HOUR_MS = 60 * 60 * 1000;
export const CA_VALIDITY_YEARS = 10;
export const LEAF_VALIDITY_YEARS = 1;

/** File names the initializer writes into /contrast/tls-config. */
export const TLS_CONFIG_FILES = {
  meshCa: "mesh-ca.pem",
  certChain: "certChain.pem",
  key: "key.pem",
  rootCa: "coordinator-root-ca.pem",
} as const;

export interface CaOptions {
  readonly clock: Clock;
  /** Serial numbers and, when no mesh CA key is given, the mesh CA key come from here. */
  readonly random: RandomSource;
}

export interface LeafRequest {
  /** The workload's public key (the initializer's aTLS key), as a key object or PKIX DER. */
  readonly publicKey: KeyObject | Uint8Array;
  /** The policy entry's SANs; the first DNS name becomes the common name. */
  readonly sans: readonly string[];
  /** When set, written as extension 1.3.9901.3.1, the last one (after the claims, as upstream). */
  readonly workloadSecretId?: string;
  /** Attestation claims and anything else to carry, appended after the standard extensions. */
  readonly extensions?: readonly CertificateExtension[];
}

export interface IssuedLeaf {
  readonly der: Uint8Array;
  readonly pem: string;
  /** `certChain.pem`: the leaf, then the intermediate CA. */
  readonly certChainPem: string;
}

/** A fresh mesh CA key (ECDSA P-384), drawn through det-keygen from injected randomness. */
export function generateMeshCaKey(random: RandomSource): KeyObject {
  return deriveEcdsaKey("P-384", drawRandom(random, 64)).privateKey;
}

// Go draws serials uniformly below 2^128.
const SERIAL_BYTES = 16;
// Leaf serials are drawn from the random source this many at a time: one call per certificate
// cost ~10 µs, about as much as the rest of a serial's life.
const SERIALS_PER_DRAW = 64;

function serial(random: RandomSource): Uint8Array {
  return drawRandom(random, SERIAL_BYTES);
}

function addYears(date: Date, years: number): Date {
  const d = new Date(date.getTime());
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
}

function validity(clock: Clock, years: number): { notBefore: Date; notAfter: Date } {
  const now = clock.now();
  if (Number.isNaN(now.getTime())) {
    throw new MeshPkiError("CERT_VALIDITY_INVALID", "the clock returned an invalid date", {
      kind: "internal",
      hint: "The injected Clock must return a valid Date.",
    });
  }
  // Seconds only: certificates carry no fractions, and a later parse must give the same dates.
  const whole = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return { notBefore: new Date(whole.getTime() - HOUR_MS), notAfter: addYears(whole, years) };
}

/**
 * The Coordinator's certificate authority for one manifest generation: the root CA (key derived
 * from the seed, so stable across updates and recoveries), the intermediate CA signed by it, and
 * the mesh CA, a self-signed twin of the intermediate with the same subject and key. Workload
 * certificates are signed with that shared key, so they verify to the mesh CA (trust in this
 * manifest) and, through the intermediate, to the root CA (trust across updates).
 */
export class CoordinatorCa {
  readonly rootCaDer: Uint8Array;
  readonly intermediateCaDer: Uint8Array;
  readonly meshCaDer: Uint8Array;
  readonly rootCaPem: string;
  readonly intermediateCaPem: string;
  readonly meshCaPem: string;
  readonly meshCaKey: KeyObject;
  readonly #options: CaOptions;
  readonly #meshSigner: Signer;
  readonly #issuerName: Uint8Array;
  readonly #leafFixedExtensions: readonly Uint8Array[];
  /** Random bytes for the next leaf serials, used from `#serialAt` on, each byte once. */
  #serials: Uint8Array = new Uint8Array(0);
  #serialAt = 0;

  private constructor(rootKey: KeyObject, meshKey: KeyObject, options: CaOptions) {
    this.#options = options;
    const rootSigner = signerFor(rootKey);
    this.#meshSigner = signerFor(meshKey);
    this.meshCaKey = meshKey;

    const rootSpki = publicKeyDer(rootKey);
    const meshSpki = publicKeyDer(meshKey);
    const rootKeyId = keyIdentifier(rootSpki);
    const meshKeyId = keyIdentifier(meshSpki);
    const rootName = derCommonNameName(ROOT_CA_COMMON_NAME);
    const meshName = derCommonNameName(INTERMEDIATE_CA_COMMON_NAME);
    const caUsage = keyUsageExtension([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign]);

    const ca = (
      signer: Signer,
      issuer: Uint8Array,
      subject: Uint8Array,
      spki: Uint8Array,
      ski: Uint8Array,
      aki?: Uint8Array,
    ) =>
      signCertificate({
        serial: serial(options.random),
        signer,
        issuer,
        subject,
        ...validity(options.clock, CA_VALIDITY_YEARS),
        subjectPublicKeyInfo: spki,
        extensions: [
          caUsage,
          caBasicConstraintsExtension(),
          subjectKeyIdExtension(ski),
          ...(aki ? [authorityKeyIdExtension(aki)] : []),
        ],
      });

    // Go sets the authority key ID only when the issuer differs from the subject.
    this.rootCaDer = ca(rootSigner, rootName, rootName, rootSpki, rootKeyId);
    this.intermediateCaDer = ca(rootSigner, rootName, meshName, meshSpki, meshKeyId, rootKeyId);
    this.meshCaDer = ca(this.#meshSigner, meshName, meshName, meshSpki, meshKeyId);
    this.rootCaPem = encodePem(PEM_TYPES.certificate, this.rootCaDer);
    this.intermediateCaPem = encodePem(PEM_TYPES.certificate, this.intermediateCaDer);
    this.meshCaPem = encodePem(PEM_TYPES.certificate, this.meshCaDer);

    this.#issuerName = meshName;
    // Go's order for upstream's leaf template: key usage, extended key usage, basic constraints,
    // authority key ID (no subject key ID: Go makes one only for CAs), then the SANs.
    this.#leafFixedExtensions = [
      keyUsageExtension([KEY_USAGE.digitalSignature]),
      extKeyUsageExtension([X509_OIDS.clientAuth, X509_OIDS.serverAuth]),
      leafBasicConstraintsExtension(),
      authorityKeyIdExtension(meshKeyId),
    ];
  }

  /**
   * Builds the CA for a manifest generation. Without `meshCaKey` a new random one is made, as on
   * every SetManifest and user recovery; peer recovery passes the key it received.
   */
  static create(engine: SeedEngine, options: CaOptions & { readonly meshCaKey?: KeyObject }): CoordinatorCa {
    const meshKey = options.meshCaKey ?? generateMeshCaKey(options.random);
    return new CoordinatorCa(engine.rootCaKey.privateKey, meshKey, options);
  }

  /** Issues a mesh certificate for a workload's public key, signed with the mesh CA key. */
  issueLeaf(request: LeafRequest): IssuedLeaf {
    const spki = leafSpki(request.publicKey);
    const sans = classifySans(request.sans);
    const commonName = sans.dns[0] ?? "";
    const extensions = [...this.#leafFixedExtensions];
    if (sans.dns.length + sans.ip.length + sans.uri.length > 0) {
      // RFC 5280 §4.2.1.6: with an empty subject the SAN extension must be critical.
      extensions.push(subjectAltNameExtension(sans, commonName === ""));
    }
    // Upstream hands Go the claims first and appends the workload secret ID after them.
    for (const ext of request.extensions ?? []) extensions.push(encodeExtension(ext));
    if (request.workloadSecretId !== undefined && request.workloadSecretId !== "") {
      extensions.push(
        encodeExtension({ oid: WORKLOAD_SECRET_ID_OID, value: derOctetString(utf8(request.workloadSecretId)) }),
      );
    }
    const der = signCertificate({
      serial: this.#leafSerial(),
      signer: this.#meshSigner,
      issuer: this.#issuerName,
      subject: derCommonNameName(commonName),
      ...validity(this.#options.clock, LEAF_VALIDITY_YEARS),
      subjectPublicKeyInfo: spki,
      extensions,
    });
    const pem = encodePem(PEM_TYPES.certificate, der);
    return { der, pem, certChainPem: pem + this.intermediateCaPem };
  }

  #leafSerial(): Uint8Array {
    if (this.#serialAt + SERIAL_BYTES > this.#serials.length) {
      this.#serials = drawRandom(this.#options.random, SERIAL_BYTES * SERIALS_PER_DRAW);
      this.#serialAt = 0;
    }
    const s = this.#serials.slice(this.#serialAt, this.#serialAt + SERIAL_BYTES);
    this.#serialAt += SERIAL_BYTES;
    return s;
  }
}

function signerFor(key: KeyObject): Signer {
  try {
    return ecdsaSigner(key);
  } catch (cause) {
    throw new MeshPkiError("KEY_WRONG_TYPE", "CA keys must be ECDSA private keys on P-256, P-384 or P-521", {
      cause,
      hint: "Contrast's CA keys are ECDSA P-384.",
    });
  }
}

function leafSpki(key: KeyObject | Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array)) return spkiOfKey(key);
  try {
    return checkedSpki(key);
  } catch (cause) {
    // A workload's key is mesh-pki input: its code stays KEY_MALFORMED, as for every other key.
    if (!isContrastError(cause, "X509_PUBLIC_KEY_MALFORMED")) throw cause;
    throw new MeshPkiError("KEY_MALFORMED", cause.message, {
      cause,
      hint: "Pass the public key as SubjectPublicKeyInfo DER or a KeyObject.",
    });
  }
}
