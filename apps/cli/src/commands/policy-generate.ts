import { open, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { ContrastError, fromUtf8 } from "@contrast/core";
import {
  DEFAULT_RULES,
  type GeneratedWorkload,
  generatePolicies,
  type ImageMetadataSource,
  loadSettings,
  type Settings,
} from "@contrast/policy";
import { type Context, resolvePath } from "../context.js";
import { readBounded } from "../files.js";
import { openImageSource } from "../images.js";

export interface PolicyGenerateOptions {
  readonly settings?: string;
  readonly rules?: string;
  readonly layersCache?: string;
  readonly imageMetadata?: string;
  readonly insecureRegistry?: string[];
  readonly outputFile?: string;
  readonly config?: string[];
  readonly allowUnsupportedFields?: boolean;
  readonly pinImages?: boolean;
}

const YAML_MAX_BYTES = 64 * 1024 * 1024;
const FILE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Annotates every confidential pod template (runtimeClassName contrast-cc*) of the given files
 * with its agent policy, in place or into --output-file, and prints each workload's policy hash.
 * Exit status 0 on success, 2 on an error.
 */
export async function policyGenerate(ctx: Context, paths: string[], opts: PolicyGenerateOptions): Promise<number> {
  const { out } = ctx;
  let images: ImageMetadataSource | undefined;
  try {
    const files = await yamlFiles(paths.map((p) => resolvePath(ctx, p, p)));
    if (files.length === 0) {
      throw new ContrastError("POLICY_NO_INPUT", "no .yml/.yaml files found", {
        hint: "Pass Kubernetes YAML files, or directories that contain some.",
      });
    }
    const settings = await readSettings(ctx, opts.settings);
    const rules = await readOptional(resolvePath(ctx, opts.rules, "rules.rego"), opts.rules !== undefined);
    images = await openImageSource(ctx, {
      ...(opts.imageMetadata === undefined
        ? {}
        : { imageMetadata: resolvePath(ctx, opts.imageMetadata, opts.imageMetadata) }),
      layersCache: resolvePath(ctx, opts.layersCache, "layers-cache.json"),
      insecureRegistries: opts.insecureRegistry ?? [],
    });
    const texts = new Map<string, string>();
    for (const f of files) texts.set(f, fromUtf8(await readBounded(f, YAML_MAX_BYTES, "YAML file")));
    const configFiles = [...texts.values()];
    for (const c of opts.config ?? []) {
      const path = resolvePath(ctx, c, c);
      configFiles.push(fromUtf8(await readBounded(path, YAML_MAX_BYTES, "config file")));
    }

    const workloads: GeneratedWorkload[] = [];
    const outputs: string[] = [];
    for (const [file, text] of texts) {
      const result = await generatePolicies(text, {
        images,
        ...(settings === undefined ? {} : { settings }),
        rules: rules ?? DEFAULT_RULES,
        strict: opts.allowUnsupportedFields !== true,
        pinImages: opts.pinImages === true,
        configFiles,
        source: file,
      });
      for (const w of result.warnings) out.warn(`${w.message} [${w.code}]`);
      workloads.push(...result.workloads);
      outputs.push(result.yaml);
      if (opts.outputFile === undefined && result.workloads.length > 0) await writeFile(file, result.yaml);
    }
    if (opts.outputFile !== undefined) {
      await writeFile(resolvePath(ctx, opts.outputFile, opts.outputFile), outputs.join(""));
    }

    if (out.json) {
      out.result(workloads.map((w) => ({ kind: w.kind, namespace: w.namespace, name: w.name, hash: w.policyHash })));
      return 0;
    }
    if (workloads.length === 0) out.warn("no workload with a contrast-cc runtime class found; nothing was annotated");
    for (const w of workloads) {
      const ns = w.namespace === "" ? "" : `${w.namespace}/`;
      out.success(`${w.kind} ${ns}${w.name}: ${w.policyHash}`);
    }
    if (workloads.length > 0) {
      out.success(
        `Generated workload policy annotations${opts.outputFile === undefined ? "" : ` in ${opts.outputFile}`}`,
      );
    }
    return 0;
  } catch (e) {
    out.progress(undefined);
    out.error(ContrastError.from(e));
    return 2;
  } finally {
    await images?.close();
  }
}

/** Files named on the command line, and every .yml/.yaml file below named directories. */
async function yamlFiles(paths: readonly string[]): Promise<string[]> {
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
 * settings.json from the workspace (or --settings) with its drop-ins, the JSON-Patch files of
 * `<name>.d/` next to it; undefined (the built-in settings) when the default file does not exist.
 */
export async function readSettings(ctx: Context, explicit: string | undefined): Promise<Settings | undefined> {
  const path = resolvePath(ctx, explicit, "settings.json");
  const text = await readOptional(path, explicit !== undefined);
  if (text === undefined) return undefined;
  const dropInDir = join(dirname(path), `${basename(path, extname(path))}.d`);
  const dropIns: { name: string; text: string }[] = [];
  try {
    for (const name of (await readdir(dropInDir)).sort()) {
      if (name.endsWith(".json")) dropIns.push({ name, text: await readFile(join(dropInDir, name), "utf8") });
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  return loadSettings(text, dropIns, path);
}

async function readOptional(path: string, required: boolean): Promise<string | undefined> {
  try {
    const handle = await open(path, "r");
    await handle.close();
  } catch (e) {
    if (!required && (e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return fromUtf8(await readBounded(path, FILE_MAX_BYTES, basename(path)));
}
