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
  allowMissingCrl?: boolean;
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

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 time. JavaScript's Date rolls impossible dates over (2024-02-30 becomes March 1st),
 * so every field is range-checked first; leap seconds are refused, as Go's time.Parse does.
 */
export function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const invalid = () =>
    usage(`--now ${JSON.stringify(value)} is not an RFC 3339 time`, "Use a time such as 2025-06-01T00:00:00Z.");
  const m = RFC3339.exec(value);
  if (m === null) throw invalid();
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = [1, 2, 3, 4, 5, 6, 8, 9].map((i) =>
    Number(m[i] ?? 0),
  ) as [number, number, number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    offsetHour > 23 ||
    offsetMinute > 59
  )
    throw invalid();
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw invalid();
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
