import { open, readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { ContrastError, fromUtf8, toHex, utf8 } from "@contrast/core";
import type { ImageMetadataSource } from "@contrast/oci";
import {
  type AnnotationFormat,
  type GeneratedWorkload,
  generatePolicies,
  initdataLaunchField,
  loadSettings,
  type PolicyData,
  PolicyError,
  type PolicyProfile,
  type PolicyWarning,
  parseInitdata,
  policyDocument,
  policyProfile,
  type Settings,
  settingsToJson,
} from "@contrast/policy";
import type { Outcome } from "../command-spec.js";
import { type Context, resolvePath } from "../context.js";
import { readBounded, writeAllAtomically } from "../files.js";
import { openImageSourceFromFlags } from "../images.js";

export interface PolicyGenerateOptions {
  /** The platform whose runtime the policies are for (--platform); default: DEFAULT_POLICY_PLATFORM. */
  readonly platform?: string;
  readonly settings?: string;
  readonly rules?: string;
  readonly layersCache?: string;
  readonly imageMetadata?: string;
  readonly insecureRegistry?: string[];
  readonly outputFile?: string;
  readonly config?: string[];
  readonly allowUnsupportedFields?: boolean;
  readonly pinImages?: boolean;
  /** Every pod spec gets a policy, not only those of a contrast-cc runtime class. */
  readonly allPods?: boolean;
  /** agent-policy or initdata (--annotation); default: the platform profile's. */
  readonly annotation?: string;
}

const YAML_MAX_BYTES = 64 * 1024 * 1024;
/** Enough policy data for policyDocument to check the rules' text. */
const EMPTY_POLICY_DATA = {} as PolicyData;
const FILE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Annotates every confidential pod template (runtimeClassName contrast-cc*) of the given files
 * with its agent policy, in place or into --output-file, and prints each workload's policy hash.
 * Every file is generated before any is written, so an error leaves all inputs untouched.
 * It has no verdict: it succeeds or throws.
 */
export async function policyGenerate(ctx: Context, paths: string[], opts: PolicyGenerateOptions): Promise<Outcome> {
  const { out } = ctx;
  let images: ImageMetadataSource | undefined;
  try {
    const files = await yamlFiles(paths.map((p) => resolvePath(ctx, p, p)));
    if (files.length === 0) {
      throw new ContrastError("POLICY_NO_INPUT", "no .yml/.yaml files found", {
        hint: "Pass Kubernetes YAML files, or directories that contain some.",
      });
    }
    const profile = policyProfile(opts.platform);
    const annotation = annotationFormat(opts.annotation) ?? profile.annotation;
    if (!out.json) {
      out.info(
        `Platform ${profile.name}${opts.platform === undefined ? " (the default; choose with --platform)" : ""}: ${profile.description}`,
      );
      if (annotation !== profile.annotation) {
        out.info(
          `Writing the policy as ${annotation} (--annotation); the platform's runtime reads ${profile.annotation}`,
        );
      }
    }
    const settings = await readSettings(ctx, opts.settings, profile);
    const rulesPath = resolvePath(ctx, opts.rules, "rules.rego");
    const rules = await readOptional(rulesPath, opts.rules !== undefined);
    if (rules !== undefined) checkRules(rules, rulesPath);
    if (!out.json && (settings !== undefined || rules !== undefined)) {
      // A workspace file silently winning over the platform would surprise whoever chose it.
      const replaced = [settings === undefined ? "" : "settings", rules === undefined ? "" : `rules (${rulesPath})`];
      out.info(`The workspace's ${replaced.filter((x) => x !== "").join(" and ")} replace the platform's`);
    }
    images = await openImageSourceFromFlags(ctx, opts, profile.tarfs);
    const texts = new Map<string, string>();
    for (const f of files) texts.set(f, fromUtf8(await readBounded(f, YAML_MAX_BYTES, "YAML file")));
    const configFiles = [...texts.values()];
    for (const c of opts.config ?? []) {
      const path = resolvePath(ctx, c, c);
      configFiles.push(fromUtf8(await readBounded(path, YAML_MAX_BYTES, "config file")));
    }

    const workloads: GeneratedWorkload[] = [];
    const outputs: string[] = [];
    const rewrites: { file: string; text: string }[] = [];
    const warnings: PolicyWarning[] = [];
    for (const [file, text] of texts) {
      const result = await generatePolicies(text, {
        images,
        profile,
        annotation,
        ...(settings === undefined ? {} : { settings }),
        ...(rules === undefined ? {} : { rules }),
        strict: opts.allowUnsupportedFields !== true,
        pinImages: opts.pinImages === true,
        ...(opts.allPods === true ? { runtimeClassPrefixes: [] } : {}),
        configFiles,
        source: file,
      });
      warnings.push(...result.warnings);
      workloads.push(...result.workloads);
      outputs.push(result.yaml);
      if (opts.outputFile === undefined && result.workloads.length > 0) rewrites.push({ file, text: result.yaml });
    }
    printWarnings(ctx, warnings);
    if (opts.outputFile !== undefined) {
      // A file's first document may have no `---` of its own; joined, it needs one.
      const joined = outputs.map((o) => (o === "" || o.startsWith("---\n") ? o : `---\n${o}`)).join("");
      rewrites.push({ file: resolvePath(ctx, opts.outputFile, opts.outputFile), text: joined });
    }
    await writeAllAtomically(rewrites);

    const outcome: Outcome = {
      ok: true,
      fields: {
        workloads: workloads.map((w) => ({
          kind: w.kind,
          namespace: w.namespace,
          name: w.name,
          hash: w.policyHash,
          annotation: w.annotation,
          ...(w.initdata === undefined ? {} : { measured: measuredFields(w.initdata) }),
        })),
      },
    };
    if (out.json) return outcome;
    if (workloads.length === 0) {
      out.warn(
        opts.allPods === true
          ? "no workload found; nothing was annotated"
          : "no workload with a contrast-cc runtime class found; nothing was annotated",
      );
    }
    for (const w of workloads) {
      const ns = w.namespace === "" ? "" : `${w.namespace}/`;
      out.success(`${w.kind} ${ns}${w.name}: ${w.policyHash}${w.initdata === undefined ? "" : " (initdata)"}`);
    }
    if (workloads.length > 0) {
      out.success(
        `Generated workload policy annotations${opts.outputFile === undefined ? "" : ` in ${opts.outputFile}`}`,
      );
    }
    return outcome;
  } finally {
    await images?.close();
  }
}

/** What the hardware measures of an initdata document: SNP HOST_DATA and TDX MRCONFIGID, hex. */
function measuredFields(toml: string): { snpHostData: string; tdxMrConfigId: string } {
  const doc = parseInitdata(utf8(toml));
  return {
    snpHostData: toHex(initdataLaunchField(doc, "snp")),
    tdxMrConfigId: toHex(initdataLaunchField(doc, "tdx")),
  };
}

/** The --annotation value, checked; undefined when not given. */
function annotationFormat(value: string | undefined): AnnotationFormat | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === "agent-policy" || v === "initdata") return v;
  throw new ContrastError("CLI_USAGE", `--annotation ${JSON.stringify(value)} is not agent-policy or initdata`, {
    hint: "agent-policy writes io.katacontainers.config.agent.policy (Contrast v1.5); initdata writes io.katacontainers.config.hypervisor.cc_init_data (newer runtimes).",
  });
}

/**
 * Unsupported-field warnings as they are; unpinned images once per image across all files, with
 * where they are used, then one summary line.
 */
function printWarnings(ctx: Context, warnings: readonly PolicyWarning[]): void {
  const unpinned = new Map<string, string[]>();
  const said = new Set<string>();
  for (const w of warnings) {
    // The rules' dialect warning comes once per input file; once is enough.
    if (w.code === "POLICY_REGO_DIALECT") {
      if (said.has(w.message)) continue;
      said.add(w.message);
    }
    if (w.code === "POLICY_IMAGE_UNPINNED" && w.image !== undefined) {
      unpinned.set(w.image, [...(unpinned.get(w.image) ?? []), ...(w.usedBy ?? [])]);
    } else {
      const { code, message, ...details } = w;
      ctx.out.warn(message, code, details);
    }
  }
  for (const [image, usedBy] of unpinned) {
    const users = usedBy.length === 1 ? (usedBy[0] ?? "") : `${usedBy.length} containers`;
    ctx.out.warn(`image ${image} is not pinned by digest (used by ${users})`, "POLICY_IMAGE_UNPINNED", {
      image,
      usedBy,
    });
  }
  // The summary is for a reader; the JSON document already lists every image.
  if (unpinned.size > 0 && !ctx.out.json) {
    const n = unpinned.size;
    ctx.out.warn(
      `${n} image${n === 1 ? " is" : "s are"} not pinned by digest: each policy pins the digest its tag resolves to now, so a moved tag stops the pod; --pin-images writes the digests into the YAML`,
      "POLICY_IMAGE_UNPINNED",
    );
  }
}

/** Rules that cannot make a policy fail before any image is fetched, naming their file. */
function checkRules(rules: string, path: string): void {
  try {
    policyDocument(rules, EMPTY_POLICY_DATA);
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    throw new PolicyError(e.code, `${path}: ${e.message}`, { hint: e.hint ?? "", cause: e, file: path });
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
 * `<name>.d/` next to it. Without the default file, the drop-ins of `settings.d/` apply to the
 * platform profile's settings; undefined (the profile's settings as they are) when there are none
 * either.
 */
export async function readSettings(
  ctx: Context,
  explicit: string | undefined,
  profile: PolicyProfile,
): Promise<Settings | undefined> {
  const path = resolvePath(ctx, explicit, "settings.json");
  const text = await readOptional(path, explicit !== undefined);
  const dropInDir = join(dirname(path), `${basename(path, extname(path))}.d`);
  const dropIns: { name: string; text: string }[] = [];
  try {
    for (const name of (await readdir(dropInDir)).sort()) {
      // Named by path, so that an error names the file; the order is the names' order still.
      if (name.endsWith(".json"))
        dropIns.push({ name: join(dropInDir, name), text: await readFile(join(dropInDir, name), "utf8") });
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  if (text === undefined) {
    if (dropIns.length === 0) return undefined;
    return loadSettings(settingsToJson(profile.settings), dropIns, `built-in settings of ${profile.id}`);
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
