import { createPrivateKey, createPublicKey, randomBytes, X509Certificate } from "node:crypto";
import { chmod, link, mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ContrastError, decodePemBlock, encodePem, fromHex, parseJson, stringifyJson, toHex } from "@contrast/core";
import {
  assembleAuthority,
  type CreateSimulatedAuthorityOptions,
  createSimulatedAuthority,
  type SimAuthorityParts,
  type SimulatedAuthority,
  simAuthorityParts,
} from "./tee.js";

/** The file operations saving and loading need; injected, because libraries do not touch disks. */
export interface SimAuthorityFileSystem {
  /** Resolves undefined when the file does not exist. */
  readFile(path: string): Promise<Uint8Array | undefined>;
  /** Writes the whole file atomically with the given mode (the bundle holds private keys: 0600). */
  writeFile(path: string, data: Uint8Array, mode: number): Promise<void>;
  /** Creates the file only if there is none (atomically, whole); false when one exists already. */
  createFile(path: string, data: Uint8Array, mode: number): Promise<boolean>;
}

/** The node:fs implementation: temp file, then rename, so that a reader never sees half a bundle. */
export const nodeSimAuthorityFileSystem: SimAuthorityFileSystem = {
  readFile: (path) =>
    readFile(path).then(
      (b) => new Uint8Array(b),
      (e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return undefined;
        throw e;
      },
    ),
  writeFile: async (path, data, mode) => {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(tmp, data, { mode, flag: "wx" });
    await chmod(tmp, mode);
    await rename(tmp, path);
  },
  // A whole temporary file hard-linked to the final name: link fails when the name exists, so of
  // two processes creating at once exactly one wins and the other reads the winner's file.
  createFile: async (path, data, mode) => {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(tmp, data, { mode, flag: "wx" });
    try {
      await chmod(tmp, mode);
      await link(tmp, path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw e;
    } finally {
      await unlink(tmp).catch(() => {});
    }
  },
};

const FORMAT = "contrast-sim-authority/v1";

function invalid(message: string, cause?: unknown): ContrastError {
  return new ContrastError("SIM_AUTHORITY_INVALID", message, {
    kind: "input",
    hint: "The saved simulated TEE is damaged; delete it to make a new one (and update the manifest's ArkKeyDigest).",
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * The simulated TEE as a small JSON bundle: its three private keys (PKCS#8 PEM), its certificates
 * (PEM), chip ID and TCB. Anyone holding it can sign "evidence" that the manifests naming its ARK
 * accept, so it is a secret of the development machine that made it.
 */
export function encodeSimulatedAuthority(authority: SimulatedAuthority): string {
  const parts = simAuthorityParts(authority);
  if (parts === undefined) {
    throw new ContrastError(
      "SIM_AUTHORITY_INVALID",
      "this simulated authority was not made by createSimulatedAuthority",
      {
        kind: "input",
        hint: "Save authorities made by createSimulatedAuthority or loadSimulatedAuthority.",
      },
    );
  }
  const key = (k: SimAuthorityParts["arkKey"]) => k.export({ type: "pkcs8", format: "pem" }).toString();
  return `${stringifyJson(
    {
      format: FORMAT,
      arkKey: key(parts.arkKey),
      askKey: key(parts.askKey),
      vcekKey: key(parts.vcekKey),
      ark: encodePem("CERTIFICATE", parts.ark),
      ask: encodePem("CERTIFICATE", parts.ask),
      vcek: encodePem("CERTIFICATE", parts.vcek),
      chipId: toHex(parts.chipId),
      tcb: { ...parts.tcb },
    },
    { indent: 2 },
  )}\n`;
}

/** Reads a bundle written by encodeSimulatedAuthority; checks that every key fits its certificate. */
export function decodeSimulatedAuthority(
  text: string,
  options: { random?: (size: number) => Uint8Array } = {},
): SimulatedAuthority {
  let parts: SimAuthorityParts;
  try {
    const j = parseJson(text, { maxBytes: 1 << 20 }) as Record<string, unknown>;
    if (j.format !== FORMAT) throw invalid(`not a ${FORMAT} bundle`);
    const str = (k: string) => {
      const v = j[k];
      if (typeof v !== "string") throw invalid(`field ${k} is missing`);
      return v;
    };
    const cert = (k: string) => new Uint8Array(decodePemBlock(str(k), "CERTIFICATE").der);
    const tcb = j.tcb as Record<string, unknown> | undefined;
    const n = (k: string) => {
      const v = tcb?.[k];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 255) throw invalid(`tcb.${k} is not a byte`);
      return v;
    };
    parts = {
      arkKey: createPrivateKey(str("arkKey")),
      askKey: createPrivateKey(str("askKey")),
      vcekKey: createPrivateKey(str("vcekKey")),
      ark: cert("ark"),
      ask: cert("ask"),
      vcek: cert("vcek"),
      chipId: fromHex(str("chipId"), 64),
      tcb: { bootloader: n("bootloader"), tee: n("tee"), snp: n("snp"), microcode: n("microcode") },
    };
  } catch (e) {
    if (e instanceof ContrastError && e.code === "SIM_AUTHORITY_INVALID") throw e;
    throw invalid("the simulated TEE bundle cannot be read", e);
  }
  const pairs: [SimAuthorityParts["arkKey"], Uint8Array, string][] = [
    [parts.arkKey, parts.ark, "ARK"],
    [parts.askKey, parts.ask, "ASK"],
    [parts.vcekKey, parts.vcek, "VCEK"],
  ];
  for (const [k, c, what] of pairs) {
    const certKey = new X509Certificate(c).publicKey.export({ type: "spki", format: "der" });
    const own = createPublicKey(k).export({ type: "spki", format: "der" });
    if (!certKey.equals(own)) throw invalid(`the ${what} key does not belong to the ${what} certificate`);
  }
  const random = options.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
  return assembleAuthority(parts, random);
}

/** Saves the authority's bundle at `path` (mode 0600). */
export async function saveSimulatedAuthority(
  authority: SimulatedAuthority,
  path: string,
  fs: SimAuthorityFileSystem,
): Promise<void> {
  await fs.writeFile(path, new TextEncoder().encode(encodeSimulatedAuthority(authority)), 0o600);
}

/** Loads the bundle at `path`; undefined when there is none (the app then creates and saves one). */
export async function loadSimulatedAuthority(
  path: string,
  fs: SimAuthorityFileSystem,
  options: { random?: (size: number) => Uint8Array } = {},
): Promise<SimulatedAuthority | undefined> {
  const data = await fs.readFile(path);
  if (data === undefined) return undefined;
  return decodeSimulatedAuthority(new TextDecoder().decode(data), options);
}

/**
 * Loads the authority at `path`, or creates and saves one there when there is none. Creation is
 * create-if-absent, so processes starting at once on one sim directory (two Coordinators, or
 * `contrast generate` and a Coordinator) end up with the same authority.
 */
export async function openSimulatedAuthority(
  path: string,
  fs: SimAuthorityFileSystem,
  options: CreateSimulatedAuthorityOptions,
): Promise<{ readonly authority: SimulatedAuthority; readonly created: boolean }> {
  const existing = await loadSimulatedAuthority(path, fs, options);
  if (existing !== undefined) return { authority: existing, created: false };
  const made = createSimulatedAuthority(options);
  if (await fs.createFile(path, new TextEncoder().encode(encodeSimulatedAuthority(made)), 0o600)) {
    return { authority: made, created: true };
  }
  const theirs = await loadSimulatedAuthority(path, fs, options);
  if (theirs === undefined) throw invalid(`${path} vanished while it was being created`);
  return { authority: theirs, created: false };
}
