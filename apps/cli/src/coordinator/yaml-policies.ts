import { readdir, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { ContrastError, fromUtf8, sha256Hex, utf8 } from "@contrast/core";
import { podTemplates, runtimeClassName } from "@contrast/kube";
import { initdataPolicyHash, parseYamlDocuments, policyOfAnnotations } from "@contrast/policy";
import { readBounded } from "../files.js";

const YAML_MAX_BYTES = 64 * 1024 * 1024;
/** The runtime classes upstream's `set` takes policies from (before and after the handler rewrite). */
const CONFIDENTIAL_PREFIX = "contrast-cc";

/** One confidential workload's policy as the YAML carries it. */
export interface WorkloadPolicy {
  /** "Kind namespace/name", for messages. */
  readonly workload: string;
  readonly file: string;
  /** The manifest's key: SHA-256 of `bytes`, lower-case hex. */
  readonly hash: string;
  /** What SetManifest sends: the Rego text, or for initdata the TOML document. */
  readonly bytes: Uint8Array;
}

/** Files named on the command line, and every .yml/.yaml file below named directories, sorted. */
export async function yamlFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string, named: boolean): Promise<void> => {
    const s = await stat(path);
    if (s.isDirectory()) {
      for (const entry of (await readdir(path)).sort()) await walk(join(path, entry), false);
    } else if (named || [".yml", ".yaml"].includes(extname(path))) out.push(path);
  };
  for (const p of paths) await walk(p, true);
  return out;
}

/**
 * The policy of every workload with a contrast-cc runtime class, in file and document order, as
 * upstream's `set` reads them to check them against the manifest and to send them along. A
 * confidential workload without a policy annotation is an error: it could never start.
 */
export async function workloadPolicies(files: readonly string[]): Promise<WorkloadPolicy[]> {
  const out: WorkloadPolicy[] = [];
  for (const file of files) {
    const text = fromUtf8(await readBounded(file, YAML_MAX_BYTES, "YAML file"));
    for (const doc of parseYamlDocuments(text, file)) {
      for (const t of podTemplates(doc.value)) {
        if (!runtimeClassName(t.spec).startsWith(CONFIDENTIAL_PREFIX)) continue;
        const workload = `${t.kind} ${t.namespace ?? "default"}/${t.name || t.generateName || "?"}`;
        const found = policyOfAnnotations(t.podMetadata.annotations, `${file}: ${workload}`);
        if (found === undefined) {
          throw new ContrastError("POLICY_ANNOTATION_MISSING", `${file}: ${workload} has no policy annotation`, {
            hint: "Run `contrast generate` on the file first: a confidential pod without its policy is refused.",
            details: { file, workload },
          });
        }
        if (found.initdata !== undefined) {
          const hash = initdataPolicyHash(found.initdata, `${file}: ${workload}`);
          out.push({ workload, file, hash, bytes: new Uint8Array(found.initdata.bytes) });
        } else {
          const bytes = utf8(found.policy);
          out.push({ workload, file, hash: sha256Hex(bytes), bytes });
        }
      }
    }
  }
  return out;
}
