import { generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { encodePem } from "@contrast/core";
import {
  authorityKeyIdExtension,
  caBasicConstraintsExtension,
  derCommonNameName,
  ecdsaSigner,
  extKeyUsageExtension,
  KEY_USAGE,
  keyIdentifier,
  keyUsageExtension,
  leafBasicConstraintsExtension,
  signCertificate,
  spkiOfKey,
  subjectKeyIdExtension,
  X509_OIDS,
} from "@contrast/x509";
import type { MeshCredentialFiles } from "../src/index.js";

const DAY = 86_400_000;

/**
 * A mesh CA shaped like the Coordinator's (mesh-pki's CoordinatorCa): a P-384 root, an
 * intermediate signed by it, and the mesh CA, a self-signed twin of the intermediate with the same
 * subject and key. Leaves are P-256, signed with that shared key; their chain file is leaf ‖
 * intermediate, as the initializer writes it.
 */
export class TestMeshCa {
  readonly meshCaPem: string;
  readonly intermediatePem: string;
  readonly #meshKey: KeyObject;
  readonly #meshKeyId: Uint8Array;

  constructor(readonly name = "system:coordinator:intermediate") {
    const root = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const mesh = generateKeyPairSync("ec", { namedCurve: "P-384" });
    this.#meshKey = mesh.privateKey;
    const rootSpki = spkiOfKey(root.publicKey);
    const meshSpki = spkiOfKey(mesh.publicKey);
    const rootId = keyIdentifier(rootSpki);
    this.#meshKeyId = keyIdentifier(meshSpki);
    const rootName = derCommonNameName("system:coordinator:root");
    const meshName = derCommonNameName(name);
    const now = Date.now();
    const ca = (key: KeyObject, issuer: Uint8Array, aki?: Uint8Array) =>
      encodePem(
        "CERTIFICATE",
        signCertificate({
          serial: new Uint8Array(randomBytes(16)),
          signer: ecdsaSigner(key),
          issuer,
          subject: meshName,
          notBefore: new Date(now - DAY),
          notAfter: new Date(now + 365 * DAY),
          subjectPublicKeyInfo: meshSpki,
          extensions: [
            keyUsageExtension([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign]),
            caBasicConstraintsExtension(),
            subjectKeyIdExtension(this.#meshKeyId),
            ...(aki ? [authorityKeyIdExtension(aki)] : []),
          ],
        }),
      );
    this.intermediatePem = ca(root.privateKey, rootName, rootId);
    this.meshCaPem = ca(mesh.privateKey, meshName);
  }

  /** A workload's credential files; `validity` shifts the leaf's dates (an expired leaf). */
  issue(options: { readonly commonName?: string; readonly notAfter?: Date } = {}): MeshCredentialFiles {
    const leaf = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const now = Date.now();
    const notAfter = options.notAfter ?? new Date(now + 365 * DAY);
    const der = signCertificate({
      serial: new Uint8Array(randomBytes(16)),
      signer: ecdsaSigner(this.#meshKey),
      issuer: derCommonNameName(this.name),
      subject: derCommonNameName(options.commonName ?? "workload"),
      notBefore: new Date(Math.min(now - DAY, notAfter.getTime() - DAY)),
      notAfter,
      subjectPublicKeyInfo: spkiOfKey(leaf.publicKey),
      extensions: [
        keyUsageExtension([KEY_USAGE.digitalSignature]),
        extKeyUsageExtension([X509_OIDS.clientAuth, X509_OIDS.serverAuth]),
        leafBasicConstraintsExtension(),
        authorityKeyIdExtension(this.#meshKeyId),
      ],
    });
    return {
      certChain: encodePem("CERTIFICATE", der) + this.intermediatePem,
      key: leaf.privateKey.export({ type: "pkcs8", format: "pem" }) as string,
      meshCa: this.meshCaPem,
    };
  }
}
