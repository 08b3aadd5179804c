import { stat } from "node:fs/promises";
import { join } from "node:path";
import { ContrastError, fromHex } from "@contrast/core";
import { parseManifest, type ReferenceValues } from "@contrast/manifest";
import { type Context, resolvePath } from "../../context.js";
import { readBounded } from "../../files.js";

export interface AttestationVerifyOptions {
  platform: "snp" | "sim" | "tdx";
  acceptTcbStatus?: string;
  crl?: string;
  vcek?: string;
  certChain?: string;
  collateral?: string;
  collateralDir?: string;
  fetchCollateral?: boolean;
  pcsUrl?: string;
  referenceValues?: string;
  reportData?: string;
  hostData?: string;
  product?: string;
  skipIdBlock?: boolean;
  now?: string;
}

// Documents may carry collateral (TCB info, QE identity, CRLs), which dwarfs the evidence itself.
export const MAX_EVIDENCE = 4 * 1024 * 1024;
export const MAX_CERT = 64 * 1024;

export function usage(message: string, hint: string): ContrastError {
  return new ContrastError("CLI_USAGE", message, { hint });
}

export function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(d.getTime())) {
    throw usage(`--now ${JSON.stringify(value)} is not an RFC 3339 time`, "Use a time such as 2025-06-01T00:00:00Z.");
  }
  return d;
}

export function hexOption(name: string, value: string | undefined, bytes: number): Uint8Array | undefined {
  if (value === undefined) return undefined;
  try {
    return fromHex(value, bytes);
  } catch (e) {
    const err = ContrastError.from(e);
    throw usage(`${name}: ${err.message}`, `Pass ${bytes} bytes as ${bytes * 2} hex characters.`);
  }
}

export async function collateralFile(
  ctx: Context,
  explicit: string | undefined,
  dir: string | undefined,
  names: string[],
): Promise<string | undefined> {
  if (explicit !== undefined) return resolvePath(ctx, explicit, explicit);
  if (dir === undefined) return undefined;
  for (const n of names) {
    const p = join(resolvePath(ctx, dir, dir), n);
    if (
      await stat(p).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return p;
  }
  return undefined;
}

/** Reference values from a manifest, or a bare ReferenceValues object, or an array of entries. */
export async function loadReferenceValues<K extends "snp" | "sim" | "tdx">(
  ctx: Context,
  file: string,
  platform: K,
): Promise<ReferenceValues[K]> {
  const path = resolvePath(ctx, file, file);
  const bytes = await readBounded(path, 8 * 1024 * 1024, "reference values file");
  const text = Buffer.from(bytes).toString("utf8");
  const trimmed = text.trimStart();
  const wrapped = trimmed.startsWith("[")
    ? `{"ReferenceValues": {"${platform}": ${text}}}`
    : /"ReferenceValues"\s*:/.test(text)
      ? text
      : `{"ReferenceValues": ${text}}`;
  const result = parseManifest(wrapped, { source: path });
  const errors = result.issues.filter((i) => i.severity !== "warning");
  if (result.manifest === undefined || errors.length > 0) {
    const first = errors[0];
    throw new ContrastError(
      "REFERENCE_VALUES_INVALID",
      `${path}: ${errors.length} problem(s)${first ? `; first: ${first.path}: ${first.message}` : ""}`,
      {
        hint: "Run `contrast manifest validate` on the file; expected-missing values (bare-metal TCB) must be filled in to verify.",
        details: { issues: errors },
      },
    );
  }
  const entries = result.manifest.ReferenceValues[platform];
  if (entries.length === 0) {
    throw new ContrastError("REFERENCE_VALUES_INVALID", `${path} has no ${platform} reference values`, {
      hint:
        platform === "sim"
          ? "Simulated evidence is checked only against ReferenceValues.sim."
          : `Pass the manifest of a ${platform.toUpperCase()} platform.`,
    });
  }
  return entries;
}

export async function readText(path: string, what: string): Promise<string> {
  return Buffer.from(await readBounded(path, 4 * 1024 * 1024, what)).toString("utf8");
}

/** Collateral from a dcap-qvl JSON file, or a directory of PCS responses. */
