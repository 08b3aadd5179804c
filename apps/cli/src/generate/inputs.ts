import { readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { ContrastError, fromUtf8 } from "@contrast/core";
import { readBounded } from "../files.js";

const YAML_MAX_BYTES = 64 * 1024 * 1024;

/** The runtime class prefix that marks a confidential workload; upstream filters files by it. */
export const CONFIDENTIAL_MARK = "contrast-cc";

export interface InputFile {
  readonly path: string;
  readonly text: string;
}

/**
 * Files named on the command line, and every .yml/.yaml file below named directories (sorted,
 * so the order, and with it the manifest, does not depend on the file system).
 */
export async function collectYamlFiles(paths: readonly string[]): Promise<InputFile[]> {
  const found: string[] = [];
  const walk = async (path: string, named: boolean): Promise<void> => {
    let s: Awaited<ReturnType<typeof stat>>;
    try {
      s = await stat(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      throw new ContrastError("CLI_PATH_NOT_FOUND", `${path}: no such file or directory`, {
        kind: "io",
        hint: "Pass existing YAML files or directories.",
        details: { path },
      });
    }
    if (s.isDirectory()) {
      for (const entry of (await readdir(path)).sort()) await walk(join(path, entry), false);
    } else if ((named && s.isFile()) || [".yml", ".yaml"].includes(extname(path))) found.push(path);
  };
  for (const p of paths) await walk(p, true);
  const files: InputFile[] = [];
  for (const path of [...new Set(found)]) {
    files.push({ path, text: fromUtf8(await readBounded(path, YAML_MAX_BYTES, "YAML file")) });
  }
  if (files.length === 0) {
    throw new ContrastError("POLICY_NO_INPUT", "no .yml/.yaml files found", {
      hint: "Pass Kubernetes YAML files, or directories that contain some.",
    });
  }
  return files;
}

/**
 * The files upstream patches: those whose text mentions `contrast-cc` at all (a cheap filter; a
 * file with only other workloads is left alone, byte for byte).
 */
export function confidentialFiles(files: readonly InputFile[]): InputFile[] {
  const kept = files.filter((f) => f.text.includes(CONFIDENTIAL_MARK));
  if (kept.length === 0) {
    throw new ContrastError(
      "CLI_GENERATE_NO_CONFIDENTIAL_WORKLOAD",
      "no .yml/.yaml files with 'contrast-cc' runtime found",
      {
        hint: "Set `runtimeClassName: contrast-cc` in the pod spec of every workload that should run confidentially.",
      },
    );
  }
  return kept;
}
