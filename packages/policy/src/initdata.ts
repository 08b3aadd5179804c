import { digest, fromBase64, fromUtf8, toBase64, toHex, utf8 } from "@contrast/core";
import { PolicyError } from "./errors.js";
import { DEFAULT_MAX_INITDATA_BYTES, gunzipSingleMember, gzipDeterministic } from "./initdata/gzip.js";
import { parseTomlStrings, tomlKey, tomlString } from "./initdata/toml.js";

/**
 * The pod annotation newer Kata runtimes (and Contrast after v1.5) read the policy from: base64
 * of gzip of an initdata TOML document. Kata: src/runtime/virtcontainers/pkg/annotations.
 */
export const INITDATA_ANNOTATION = "io.katacontainers.config.hypervisor.cc_init_data";

/** The one initdata version the agent, the shim and Contrast accept. */
export const INITDATA_VERSION = "0.1.0";

/** The [data] key the agent takes its policy from (kata agent src/initdata.rs). */
export const INITDATA_POLICY_KEY = "policy.rego";

/** The digests the initdata spec allows; the document names its own. */
export type InitdataAlgorithm = "sha256" | "sha384" | "sha512";
export const INITDATA_ALGORITHMS: readonly InitdataAlgorithm[] = ["sha256", "sha384", "sha512"];

/** genpolicy's default, and the only one whose digest fits Contrast's 32-byte policy hashes. */
export const DEFAULT_INITDATA_ALGORITHM: InitdataAlgorithm = "sha256";

/** The TEE that measures the digest, which decides how many bytes of it the hardware keeps. */
export type InitdataTee = "snp" | "tdx";

/** Bytes of the launch field the digest goes into: SNP HOST_DATA and TDX MRCONFIGID. */
export const INITDATA_FIELD_SIZE: Readonly<Record<InitdataTee, number>> = { snp: 32, tdx: 48 };

/** A parsed initdata document together with the exact bytes it was read from. */
export interface InitdataDocument {
  readonly version: string;
  readonly algorithm: InitdataAlgorithm;
  /** The [data] table: file name to content, in document order. */
  readonly data: ReadonlyMap<string, string>;
  /** The TOML bytes as sent: what the shim hashes. */
  readonly bytes: Uint8Array;
  /** The same bytes as text. */
  readonly toml: string;
}

export interface InitdataOptions {
  /** Default sha256 (genpolicy's default; Contrast accepts no other). */
  readonly algorithm?: InitdataAlgorithm;
  /** More [data] entries next to policy.rego, e.g. "aa.toml", "cdh.toml". */
  readonly data?: Readonly<Record<string, string>>;
}

export interface DecodeInitdataOptions {
  /** Name of the input in messages. */
  readonly source?: string;
  /** Largest decompressed document accepted; default 16 MiB. */
  readonly maxBytes?: number;
}

const STRUCTURE_HINT =
  'An initdata document has version = "0.1.0", algorithm = "sha256" (or sha384, sha512) and a [data] table of strings.';

function isAlgorithm(a: string): a is InitdataAlgorithm {
  return (INITDATA_ALGORITHMS as readonly string[]).includes(a);
}

/**
 * The initdata TOML for a set of [data] entries, deterministic: version and algorithm first (as
 * genpolicy writes them), then the entries sorted by key. For a single policy.rego entry that a
 * multi-line literal string can hold, the bytes are exactly those genpolicy (Kata 3.21 and
 * later) writes for the same policy text.
 */
export function initdataToml(data: Readonly<Record<string, string>>, algorithm = DEFAULT_INITDATA_ALGORITHM): string {
  if (!isAlgorithm(algorithm)) throw unsupportedAlgorithm(algorithm, "initdata");
  const keys = Object.keys(data).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = [`version = ${tomlString(INITDATA_VERSION)}`, `algorithm = ${tomlString(algorithm)}`, "", "[data]"];
  for (const k of keys) lines.push(`${tomlKey(k)} = ${tomlString(data[k] as string)}`);
  return `${lines.join("\n")}\n`;
}

/** The initdata document that carries a policy, built and read back (so it is checked too). */
export function policyInitdata(policyText: string, options: InitdataOptions = {}): InitdataDocument {
  const extra = options.data ?? {};
  if (Object.hasOwn(extra, INITDATA_POLICY_KEY)) {
    throw new PolicyError("POLICY_INITDATA_INVALID", `the extra initdata entries include ${INITDATA_POLICY_KEY}`, {
      hint: "The policy goes into policy.rego; pass only the other entries (aa.toml, cdh.toml, ...).",
    });
  }
  const toml = initdataToml({ ...extra, [INITDATA_POLICY_KEY]: policyText }, options.algorithm);
  return parseInitdata(utf8(toml), "generated initdata");
}

/**
 * Reads an initdata TOML document strictly: valid UTF-8, the string-only TOML subset, version
 * 0.1.0, an algorithm of sha256/sha384/sha512 (spelled so; Contrast's reader also takes
 * "sha-256", the shim and the agent do not), a [data] table of strings, and no other keys.
 */
export function parseInitdata(bytes: Uint8Array, source = "initdata"): InitdataDocument {
  let toml: string;
  try {
    toml = fromUtf8(bytes);
  } catch (e) {
    throw new PolicyError("POLICY_INITDATA_ENCODING", `${source}: the initdata document is not UTF-8 text`, {
      cause: e,
      hint: "TOML documents are UTF-8; the agent refuses anything else.",
    });
  }
  const { root, tables } = parseTomlStrings(toml, source);
  const invalid = (message: string) =>
    new PolicyError("POLICY_INITDATA_INVALID", `${source}: ${message}`, { hint: STRUCTURE_HINT });
  for (const key of root.keys()) {
    if (key !== "version" && key !== "algorithm") throw invalid(`unknown top-level key ${JSON.stringify(key)}`);
  }
  for (const name of tables.keys()) {
    if (name !== "data") throw invalid(`unknown table [${name}]`);
  }
  const version = root.get("version");
  if (version === undefined) throw invalid("no version");
  if (version !== INITDATA_VERSION) {
    throw new PolicyError(
      "POLICY_INITDATA_VERSION",
      `${source}: initdata version ${JSON.stringify(version)} is not supported`,
      {
        hint: `Kata and Contrast read initdata version ${INITDATA_VERSION} only.`,
        details: { version },
      },
    );
  }
  const algorithm = root.get("algorithm");
  if (algorithm === undefined) throw invalid("no algorithm");
  if (!isAlgorithm(algorithm)) throw unsupportedAlgorithm(algorithm, source);
  // The agent deserialises [data] into a map without a default: a document without it fails there.
  const data = tables.get("data");
  if (data === undefined) throw invalid("no [data] table");
  return { version, algorithm, data, bytes, toml };
}

function unsupportedAlgorithm(algorithm: string, source: string): PolicyError {
  return new PolicyError(
    "POLICY_INITDATA_ALGORITHM",
    `${source}: initdata algorithm ${JSON.stringify(algorithm)} is not supported`,
    {
      hint: `Use one of ${INITDATA_ALGORITHMS.join(", ")}, spelled exactly so.`,
      details: { algorithm },
    },
  );
}

/** The annotation value: base64 of gzip of the document's bytes. */
export function encodeInitdataAnnotation(toml: string | Uint8Array): string {
  return toBase64(gzipDeterministic(typeof toml === "string" ? utf8(toml) : toml));
}

/**
 * The initdata document an annotation value carries. The value is untrusted: strict base64, one
 * gzip member and nothing after it, a size limit, UTF-8, then parseInitdata.
 */
export function decodeInitdataAnnotation(value: string, options: DecodeInitdataOptions = {}): InitdataDocument {
  const source = options.source ?? INITDATA_ANNOTATION;
  let gz: Uint8Array;
  try {
    // The shim's base64 reader skips line breaks (a YAML block scalar may add them); so do we.
    gz = fromBase64(value.replace(/[\r\n]/g, ""));
  } catch (e) {
    throw new PolicyError("POLICY_INITDATA_ENCODING", `${source}: the initdata annotation is not base64`, {
      cause: e,
      hint: `${INITDATA_ANNOTATION} holds base64 (standard alphabet, padded) of gzip of the initdata TOML.`,
    });
  }
  let bytes: Uint8Array;
  try {
    bytes = gunzipSingleMember(gz, options.maxBytes ?? DEFAULT_MAX_INITDATA_BYTES);
  } catch (e) {
    if (e instanceof PolicyError) {
      throw new PolicyError(e.code, `${source}: ${e.message}`, {
        cause: e,
        hint: e.hint ?? "",
        details: e.details ?? {},
      });
    }
    throw e;
  }
  return parseInitdata(bytes, source);
}

/** The policy an initdata document carries. */
export function initdataPolicy(doc: InitdataDocument, source = "initdata"): string {
  const policy = doc.data.get(INITDATA_POLICY_KEY);
  if (policy === undefined) {
    throw new PolicyError("POLICY_INITDATA_NO_POLICY", `${source}: the initdata has no ${INITDATA_POLICY_KEY}`, {
      hint: `The agent takes its policy from [data] "${INITDATA_POLICY_KEY}"; without it the pod runs with the guest's default policy.`,
    });
  }
  return policy;
}

/** The document's digest, with the algorithm it names, over its bytes exactly as sent. */
export function initdataDigest(doc: Pick<InitdataDocument, "algorithm" | "bytes">): Uint8Array {
  return digest(doc.algorithm, doc.bytes);
}

/**
 * The launch field the hardware measures: the digest copied into a zeroed field of the TEE's
 * size, cut off when longer. SNP HOST_DATA is 32 bytes, TDX MRCONFIGID 48, so a sha256 digest
 * fills HOST_DATA and is followed by 16 zero bytes in MRCONFIGID, and a sha384 digest is cut to
 * 32 bytes on SNP (Kata: govmm qemu.go adjustProperLength).
 */
export function initdataLaunchField(doc: Pick<InitdataDocument, "algorithm" | "bytes">, tee: InitdataTee): Uint8Array {
  const field = new Uint8Array(INITDATA_FIELD_SIZE[tee]);
  const d = initdataDigest(doc);
  field.set(d.subarray(0, field.length));
  return field;
}

/**
 * The key of the workload in the manifest's Policies map: lowercase hex of the digest. Contrast
 * compares it with HOST_DATA (SNP) and the first 32 bytes of MRCONFIGID (TDX) and requires 64 hex
 * digits, so only a sha256 document can be named in a manifest.
 */
export function initdataPolicyHash(doc: Pick<InitdataDocument, "algorithm" | "bytes">, source = "initdata"): string {
  if (doc.algorithm !== "sha256") {
    throw new PolicyError(
      "POLICY_INITDATA_ALGORITHM",
      `${source}: a ${doc.algorithm} initdata digest cannot name a workload in a Contrast manifest`,
      {
        hint: 'Contrast matches 32-byte policy hashes against HOST_DATA / MRCONFIGID[:32]; use algorithm = "sha256".',
        details: { algorithm: doc.algorithm },
      },
    );
  }
  return toHex(initdataDigest(doc));
}
