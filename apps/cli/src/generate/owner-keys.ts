import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { ContrastError, decodePem, fromUtf8, sha256Hex } from "@contrast/core";
import {
  encodeEcPrivateKey,
  encodeSeedShareOwnerKey,
  generateSeedShareOwnerKey,
  MeshPkiError,
  parseSeedShareOwnerKey,
  parseWorkloadOwnerKey,
  seedShareOwnerPublicKeyHex,
  workloadOwnerKeyDigest,
} from "@contrast/mesh-pki";
/** Reading and exclusive creation of key files; the command passes the real file system. */
export interface KeyFiles {
  /** The file's bytes, or undefined when it does not exist. */
  read(path: string): Promise<Uint8Array | undefined>;
  /** Creates the file with mode 0600; false when it exists already (never overwrites). */
  createExclusive(path: string, content: string): Promise<boolean>;
}

/**
 * A new workload owner key file (ECDSA P-384, PEM "EC PRIVATE KEY") when the file is missing, as
 * upstream's generate does for a single `--add-workload-owner-key`. Returns true when created.
 */
export async function ensureWorkloadOwnerKey(files: KeyFiles, path: string): Promise<boolean> {
  if ((await files.read(path)) !== undefined) return false;
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
  return files.createExclusive(path, encodeEcPrivateKey(privateKey));
}

/** A new seed share owner key file (RSA-4096, PEM "RSA PRIVATE KEY") when the file is missing. */
export async function ensureSeedShareOwnerKey(files: KeyFiles, path: string): Promise<boolean> {
  if ((await files.read(path)) !== undefined) return false;
  const key = await generateSeedShareOwnerKey();
  return files.createExclusive(path, encodeSeedShareOwnerKey(key));
}

/**
 * The `WorkloadOwnerKeyDigests` entry of a key file: SHA-256 of the PKIX public key, from an
 * "EC PRIVATE KEY" or a "PUBLIC KEY" block (whose bytes upstream hashes as they are).
 */
export async function workloadOwnerDigestOfFile(files: KeyFiles, path: string): Promise<string> {
  const pem = await readKeyFile(files, path, "workload owner key");
  const type = pemType(pem);
  if (type === "PUBLIC KEY") {
    const der = (decodePem(pem)[0] as { der: Uint8Array }).der;
    const key = keyOrWrongType(() => createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" }), path);
    if (key.asymmetricKeyType !== "ec")
      throw wrongType(path, "workload owner key", `an ${key.asymmetricKeyType} public key`, "ECDSA");
    return sha256Hex(der);
  }
  return withPath(path, () => workloadOwnerKeyDigest(parseWorkloadOwnerKey(pem)));
}

/**
 * The `SeedshareOwnerPubKeys` entry of a key file: hex of the PKCS#1 RSA public key, from an
 * "RSA PRIVATE KEY" or a PKIX "PUBLIC KEY" block. Upstream copies a "PUBLIC KEY" block's PKIX
 * bytes verbatim, which its own Coordinator then cannot parse as PKCS#1; we convert them
 * (docs/deviations.md).
 */
export async function seedShareOwnerHexOfFile(files: KeyFiles, path: string): Promise<string> {
  const pem = await readKeyFile(files, path, "seed share owner key");
  if (pemType(pem) === "PUBLIC KEY") {
    const der = (decodePem(pem)[0] as { der: Uint8Array }).der;
    const key = keyOrWrongType(() => createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" }), path);
    if (key.asymmetricKeyType !== "rsa")
      throw wrongType(path, "seed share owner key", `an ${key.asymmetricKeyType} public key`, "RSA");
    return withPath(path, () => seedShareOwnerPublicKeyHex(key));
  }
  return withPath(path, () => seedShareOwnerPublicKeyHex(parseSeedShareOwnerKey(pem)));
}

async function readKeyFile(files: KeyFiles, path: string, role: string): Promise<string> {
  const bytes = await files.read(path);
  if (bytes === undefined) {
    throw new ContrastError("CLI_KEY_FILE_MISSING", `${path}: the ${role} file does not exist`, {
      kind: "io",
      hint: "Check the path; `contrast generate` creates a missing key only when it is the only one of its kind named.",
      details: { path },
    });
  }
  return fromUtf8(bytes);
}

function pemType(pem: string): string | undefined {
  try {
    const blocks = decodePem(pem);
    return blocks.length === 1 ? blocks[0]?.type : undefined;
  } catch {
    return undefined;
  }
}

function keyOrWrongType<T>(parse: () => T, path: string): T {
  try {
    return parse();
  } catch (cause) {
    throw new MeshPkiError("KEY_MALFORMED", `${path}: the public key does not parse`, {
      cause,
      hint: "The key file is damaged or holds a different kind of key.",
      details: { path },
    });
  }
}

function wrongType(path: string, role: string, got: string, want: "ECDSA" | "RSA"): MeshPkiError {
  return new MeshPkiError("KEY_WRONG_TYPE", `${path}: the ${role} is ${got}, not ${want}`, {
    hint:
      want === "ECDSA"
        ? "Pass an ECDSA P-384 key with --add-workload-owner-key (`openssl ecparam -name secp384r1 -genkey -noout` creates one); RSA keys are seed share owner keys."
        : "Pass an RSA-4096 key with --add-seedshare-owner-key (`openssl genrsa -traditional 4096` creates one); EC keys are workload owner keys.",
    details: { path },
  });
}

/** The key's error, its message prefixed with the file, code and hint kept. */
function withPath<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const err = ContrastError.from(e);
    throw new ContrastError(err.code, `${path}: ${err.message}`, {
      kind: err.kind,
      cause: e,
      ...(err.hint === undefined ? {} : { hint: err.hint }),
      details: { ...(err.details ?? {}), path },
    });
  }
}
