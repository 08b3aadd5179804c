import {
  ContrastError,
  fromBase64,
  isHex,
  type JsonObject,
  type JsonValue,
  parseJson,
  stringifyJson,
  toBase64,
} from "@contrast/core";

/** The default file name that `contrast set` writes and `contrast recover` reads. */
export const SEED_SHARES_FILE = "seed-shares.json";
export const SEED_SALT_BYTES = 32;

export interface SeedShare {
  /** Hex PKCS#1 DER public key of the owner this share is encrypted for. */
  PublicKey: string;
  /** The seed, RSA-OAEP encrypted (SHA-256, label "seedshare"). */
  EncryptedSeed: Uint8Array;
}

/** The SeedShareDocument of the user API, as JSON (protobuf field names; bytes as base64). */
export interface SeedShareDocument {
  SeedShares: SeedShare[];
  salt: Uint8Array;
}

export function serializeSeedShareDocument(doc: SeedShareDocument): string {
  // Protobuf-generated Go structs tag every field omitempty.
  const shares = doc.SeedShares.map(
    (s) =>
      new Map([
        ["PublicKey", s.PublicKey === "" ? undefined : s.PublicKey],
        ["EncryptedSeed", s.EncryptedSeed.length === 0 ? undefined : toBase64(s.EncryptedSeed)],
      ]),
  );
  return `${stringifyJson(
    new Map<string, unknown>([
      ["SeedShares", shares.length === 0 ? undefined : shares],
      ["salt", doc.salt.length === 0 ? undefined : toBase64(doc.salt)],
    ]) as never,
  )}\n`;
}

/** Reads seed-shares.json, reporting every problem in one error. */
export function parseSeedShareDocument(bytes: Uint8Array | string, source = SEED_SHARES_FILE): SeedShareDocument {
  const problems: string[] = [];
  const json = parseJson(bytes, { maxBytes: 4 * 1024 * 1024, maxDepth: 8, source });
  const obj = asObject(json, "(root)", problems);
  for (const k of Object.keys(obj ?? {})) if (k !== "SeedShares" && k !== "salt") problems.push(`${k}: unknown field`);
  const doc: SeedShareDocument = { SeedShares: [], salt: new Uint8Array() };
  const shares = obj?.SeedShares;
  if (shares !== undefined && shares !== null && !Array.isArray(shares)) problems.push("SeedShares: expected an array");
  if (Array.isArray(shares)) {
    shares.forEach((raw, i) => {
      const p = `SeedShares[${i}]`;
      const share = asObject(raw, p, problems);
      if (!share) return;
      for (const k of Object.keys(share)) {
        if (k !== "PublicKey" && k !== "EncryptedSeed") problems.push(`${p}.${k}: unknown field`);
      }
      const pub = share.PublicKey ?? "";
      if (typeof pub !== "string" || !isHex(pub) || pub === "")
        problems.push(`${p}.PublicKey: expected hex PKCS#1 public key`);
      const enc = decodeB64(share.EncryptedSeed, `${p}.EncryptedSeed`, problems);
      if (enc.length === 0) problems.push(`${p}.EncryptedSeed: must not be empty`);
      doc.SeedShares.push({ PublicKey: typeof pub === "string" ? pub : "", EncryptedSeed: enc });
    });
  }
  doc.salt = decodeB64(obj?.salt, "salt", problems);
  if (doc.salt.length !== SEED_SALT_BYTES)
    problems.push(`salt: expected ${SEED_SALT_BYTES} bytes, got ${doc.salt.length}`);
  if (problems.length > 0) {
    throw new ContrastError("SEED_SHARES_INVALID", `${source} is invalid: ${problems.join("; ")}`, {
      hint: "Use the seed-shares.json written when the manifest was first set, unmodified.",
      details: { problems },
    });
  }
  return doc;
}

function asObject(v: JsonValue | undefined, path: string, problems: string[]): JsonObject | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) {
    problems.push(`${path}: expected an object`);
    return undefined;
  }
  return v;
}

function decodeB64(v: JsonValue | undefined, path: string, problems: string[]): Uint8Array {
  if (v === undefined || v === null) return new Uint8Array();
  if (typeof v !== "string") {
    problems.push(`${path}: expected a base64 string`);
    return new Uint8Array();
  }
  try {
    return fromBase64(v);
  } catch {
    problems.push(`${path}: invalid base64`);
    return new Uint8Array();
  }
}
