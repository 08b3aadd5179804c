import { ContrastError, type JsonValue, parseJson, sha256Hex, utf8 } from "@contrast/core";
import { decodeManifest } from "./decode.js";
import { ManifestError } from "./error.js";
import { hasErrors, type ManifestIssue } from "./issues.js";
import { serializeManifest } from "./serialize.js";
import type { Manifest } from "./types.js";
import { validateManifest } from "./validate.js";

/** Manifests with thousands of workloads stay far below this. */
export const MANIFEST_MAX_BYTES = 8 * 1024 * 1024;

export interface ParseManifestOptions {
  /** File name for messages. */
  readonly source?: string;
  readonly maxBytes?: number;
}

export interface ManifestParseResult {
  /** Undefined only when the bytes are not a JSON document at all. */
  readonly manifest: Manifest | undefined;
  /** Every finding: JSON, type and validation problems, expected-missing values, warnings. */
  readonly issues: readonly ManifestIssue[];
  /** SHA-256 of the raw bytes: the identity the Coordinator gives this manifest. */
  readonly hash: string;
  /** True when writing the manifest back would reproduce these bytes exactly. */
  readonly canonical: boolean;
}

/**
 * Reads manifest bytes and reports every problem at once. Never throws for bad input: all
 * problems, including malformed JSON, are issues in the result.
 */
export function parseManifest(bytes: Uint8Array | string, options: ParseManifestOptions = {}): ManifestParseResult {
  const raw = typeof bytes === "string" ? utf8(bytes) : bytes;
  const hash = manifestHash(raw);
  let json: JsonValue;
  try {
    json = parseJson(raw, { maxBytes: options.maxBytes ?? MANIFEST_MAX_BYTES, maxDepth: 16 });
  } catch (e) {
    const err = ContrastError.from(e);
    return {
      manifest: undefined,
      hash,
      canonical: false,
      issues: [
        {
          code: "MANIFEST_JSON_INVALID",
          severity: "error",
          path: "(root)",
          message: err.message,
          hint: err.hint ?? "Fix the JSON syntax.",
        },
      ],
    };
  }
  const decoded = decodeManifest(json);
  // A value that failed to decode was replaced by its zero value; the validator would report
  // that zero value a second time, so its findings on those paths are dropped.
  const reported = new Set(decoded.issues.map((i) => i.path));
  const issues = [...decoded.issues, ...validateManifest(decoded.manifest).filter((i) => !reported.has(i.path))];
  const canonical = Buffer.from(utf8(serializeManifest(decoded.manifest))).equals(Buffer.from(raw));
  return { manifest: decoded.manifest, issues, hash, canonical };
}

/** Like parseManifest, but throws a ManifestError listing every error if there is one. */
export function loadManifest(
  bytes: Uint8Array | string,
  options: ParseManifestOptions = {},
): ManifestParseResult & { manifest: Manifest } {
  const result = parseManifest(bytes, options);
  if (result.manifest === undefined || hasErrors(result.issues)) {
    throw new ManifestError(result.issues, options.source);
  }
  return result as ManifestParseResult & { manifest: Manifest };
}

/** The manifest hash: lower-case hex SHA-256 of the exact bytes, never of a re-serialisation. */
export function manifestHash(bytes: Uint8Array | string): string {
  return sha256Hex(typeof bytes === "string" ? utf8(bytes) : bytes);
}
