import { randomBytes } from "node:crypto";
import { mkdir, readFile, rmdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ContrastError, toHex } from "@contrast/core";
import type { AttestationErrorCode } from "../error-codes.js";

/** Where Linux (6.7+) exposes the TSM report interface for SEV-SNP and TDX guests. */
export const CONFIGFS_TSM_REPORT = "/sys/kernel/config/tsm/report";

/** The file operations the issuer needs; injected so tests can play the kernel's part. */
export interface TsmFileSystem {
  exists(path: string): Promise<boolean>;
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
}

export const nodeTsmFileSystem: TsmFileSystem = {
  exists: (p) =>
    stat(p).then(
      () => true,
      () => false,
    ),
  mkdir: (p) => mkdir(p),
  rmdir: (p) => rmdir(p),
  writeFile: (p, d) => writeFile(p, d),
  readFile: async (p) => new Uint8Array(await readFile(p)),
};

export interface TsmReport {
  /** "sev_guest", "tdx_guest", ... as the kernel names the provider. */
  provider: string;
  /** SNP: the 1184-byte report; TDX: the quote. */
  outblob: Uint8Array;
  /** SNP extended report: the certificate table the host supplied, if any. */
  auxblob: Uint8Array | undefined;
}

export interface ConfigfsTsmOptions {
  readonly fs?: TsmFileSystem;
  readonly root?: string;
  /** Names the per-request directory; random by default. */
  readonly random?: (size: number) => Uint8Array;
  /** SNP: the VMPL to request (privlevel); Contrast uses 0. */
  readonly privlevel?: number;
}

function tsmError(code: AttestationErrorCode, message: string, hint: string, cause?: unknown): ContrastError {
  return new ContrastError(code, message, { kind: "io", hint, cause });
}

/**
 * Requests attestation evidence from the kernel's configfs-tsm interface: create a report
 * directory, write the 64 bytes of report data, read the evidence, and check the generation
 * counter so that a concurrent writer cannot make us return evidence for someone else's data.
 */
export async function issueTsmReport(reportData: Uint8Array, options: ConfigfsTsmOptions = {}): Promise<TsmReport> {
  if (reportData.length !== 64) {
    throw new ContrastError("TSM_REPORT_DATA_INVALID", `report data must be 64 bytes, got ${reportData.length}`, {
      hint: "Pass the 64-byte binding (e.g. SHA-512 of key and nonce).",
    });
  }
  const fs = options.fs ?? nodeTsmFileSystem;
  const root = options.root ?? CONFIGFS_TSM_REPORT;
  if (!(await fs.exists(root))) {
    throw tsmError(
      "TSM_UNAVAILABLE",
      `${root} does not exist`,
      "This is not a confidential VM, or the kernel lacks configfs-tsm (Linux 6.7+, CONFIG_TSM_REPORTS) or configfs is not mounted.",
    );
  }
  const dir = join(root, `contrast-${toHex((options.random ?? ((n) => new Uint8Array(randomBytes(n))))(8))}`);
  try {
    await fs.mkdir(dir);
  } catch (cause) {
    throw tsmError(
      "TSM_UNAVAILABLE",
      `cannot create ${dir}`,
      "Run with permission to write to configfs (root in the guest).",
      cause,
    );
  }
  try {
    if (options.privlevel !== undefined)
      await fs.writeFile(join(dir, "privlevel"), new TextEncoder().encode(`${options.privlevel}\n`));
    await fs.writeFile(join(dir, "inblob"), reportData);
    const readGeneration = async () =>
      Number(new TextDecoder().decode(await fs.readFile(join(dir, "generation"))).trim());
    const before = await readGeneration();
    const outblob = await fs.readFile(join(dir, "outblob"));
    const auxblob = (await fs.exists(join(dir, "auxblob"))) ? await fs.readFile(join(dir, "auxblob")) : undefined;
    const after = await readGeneration();
    if (!Number.isInteger(before) || before !== after) {
      throw tsmError(
        "TSM_RACE",
        `the report request was changed while it was read (generation ${before} -> ${after})`,
        "Another process wrote to the same report directory; retry.",
      );
    }
    const provider = new TextDecoder().decode(await fs.readFile(join(dir, "provider"))).trim();
    if (outblob.length === 0)
      throw tsmError(
        "TSM_EMPTY_REPORT",
        "the kernel returned an empty report",
        "Check the guest's dmesg for sev-guest or tdx-guest errors.",
      );
    return { provider, outblob, auxblob: auxblob !== undefined && auxblob.length > 0 ? auxblob : undefined };
  } finally {
    await fs.rmdir(dir).catch(() => {});
  }
}

/** GUIDs of the SEV-SNP extended report certificate table (GHCB spec, table of certificates). */
export const SNP_CERT_GUIDS = {
  vcek: "63da758d-e664-4564-adc5-f4b93be8accd",
  vlek: "a8074bc2-a25a-483e-aae6-39c045a0b8a1",
  ask: "4ab7b379-bbac-4fe4-a02f-05aef327c782",
  ark: "c0b406a4-a803-4952-9743-3fb6014cd0ae",
} as const;

function guid(b: Uint8Array): string {
  // Mixed-endian as UUIDs are stored by firmware: the first three fields are little-endian.
  const h = (i: number, n: number, le: boolean) => {
    const part = Array.from(b.subarray(i, i + n));
    return toHex(new Uint8Array(le ? part.reverse() : part));
  };
  return `${h(0, 4, true)}-${h(4, 2, true)}-${h(6, 2, true)}-${h(8, 2, false)}-${h(10, 6, false)}`;
}

/** Splits an SNP extended-report certificate table into certificates by GUID. */
export function parseSnpCertTable(table: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
  for (let pos = 0; ; pos += 24) {
    if (pos + 24 > table.length) {
      throw new ContrastError("SNP_CERT_TABLE_MALFORMED", "certificate table has no terminating entry", {
        hint: "The host supplied a damaged certificate table.",
      });
    }
    const id = table.subarray(pos, pos + 16);
    const offset = v.getUint32(pos + 16, true);
    const length = v.getUint32(pos + 20, true);
    if (id.every((x) => x === 0) && offset === 0 && length === 0) return out;
    if (offset + length > table.length || offset < pos + 24) {
      throw new ContrastError(
        "SNP_CERT_TABLE_MALFORMED",
        `certificate table entry at ${pos} points outside the table`,
        {
          hint: "The host supplied a damaged certificate table.",
        },
      );
    }
    out.set(guid(id), table.subarray(offset, offset + length));
  }
}

/** Builds a certificate table (for the simulated TEE and tests). */
export function buildSnpCertTable(certs: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const header = (certs.size + 1) * 24;
  const total = header + [...certs.values()].reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  let pos = 0;
  let offset = header;
  for (const [id, cert] of certs) {
    const hex = id.replace(/-/g, "");
    const bytes = Buffer.from(hex, "hex");
    out.set([...bytes.subarray(0, 4)].reverse(), pos);
    out.set([...bytes.subarray(4, 6)].reverse(), pos + 4);
    out.set([...bytes.subarray(6, 8)].reverse(), pos + 6);
    out.set(bytes.subarray(8, 16), pos + 8);
    v.setUint32(pos + 16, offset, true);
    v.setUint32(pos + 20, cert.length, true);
    out.set(cert, offset);
    offset += cert.length;
    pos += 24;
  }
  return out;
}
