import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadSimulatedAuthority, nodeSimAuthorityFileSystem } from "@contrast/attestation/testing";
import { ContrastError, fromUtf8 } from "@contrast/core";
import {
  type Finding,
  formatFinding,
  isRecord,
  lintWorkloads,
  type PatchOptions,
  parseImageReplacements,
  podTemplates,
  runtimeClassName,
  workloadId,
} from "@contrast/kube";
import {
  type Manifest,
  type ManifestIssue,
  type Platform,
  parseManifest,
  parsePlatform,
  serializeManifest,
} from "@contrast/manifest";
import type { ImageMetadata, ImageMetadataSource } from "@contrast/oci";
import {
  type GeneratedWorkload,
  generatePolicies,
  type PolicyWarning,
  policyProfile,
  settingsToJson,
} from "@contrast/policy";
import type { Outcome } from "../command-spec.js";
import { type Context, resolvePath } from "../context.js";
import { readBounded, writeAllAtomically, writeFileAtomically } from "../files.js";
import { collectYamlFiles, confidentialFiles } from "../generate/inputs.js";
import {
  ensureSeedShareOwnerKey,
  ensureWorkloadOwnerKey,
  type KeyFiles,
  seedShareOwnerHexOfFile,
  workloadOwnerDigestOfFile,
} from "../generate/owner-keys.js";
import { copyFile, findingDetails, type PatchedFile, patchFiles } from "../generate/patch.js";
import {
  buildPolicies,
  POD_ROLE_ANNOTATION,
  type PolicyWorkload,
  WORKLOAD_SECRET_ID_ANNOTATION,
} from "../generate/policies-map.js";
import { initialReferenceValues, SIM_AUTHORITY_FILE, simArkKeyDigest, simDir } from "../generate/reference-values.js";
import { runtimeHandlerFor } from "../generate/runtime.js";
import { openImageSourceFromFlags } from "../images.js";
import { releaseImage } from "../release.js";
import { readSettings } from "./policy-generate.js";

export interface GenerateOptions {
  readonly referenceValues?: string;
  readonly policy?: string;
  readonly settings?: string;
  readonly genpolicyCachePath?: string;
  readonly manifest?: string;
  readonly addWorkloadOwnerKey?: string[];
  readonly addSeedshareOwnerKey?: string[];
  readonly disableUpdates?: boolean;
  readonly imageReplacements?: string;
  readonly skipInitializer?: boolean;
  readonly skipServiceMesh?: boolean;
  readonly outputFile?: string;
  readonly strict?: boolean;
  readonly imageMetadata?: string;
  readonly insecureRegistry?: string[];
  readonly simDir?: string;
}

/**
 * The images `generate` injects: a release build's own, pinned by digest (its embedded
 * release.json); a development build keeps upstream's source defaults, which a release replaces
 * through its image replacements upstream.
 */
export const DEFAULT_INITIALIZER_IMAGE =
  releaseImage("initializer") ?? "ghcr.io/edgelesssys/contrast/initializer:latest";
export const DEFAULT_SERVICE_MESH_IMAGE =
  releaseImage("service-mesh") ?? "ghcr.io/edgelesssys/contrast/service-mesh-proxy:latest";

const FILE_MAX_BYTES = 16 * 1024 * 1024;
/** A line that makes an object a ConfigMap or a Secret (upstream remembers such files too). */
const CONFIG_KIND = /^\s*(?:-\s+)?kind:\s*["']?(?:ConfigMap|Secret)["']?\s*(?:#.*)?$/m;
const MANIFEST_MAX_BYTES = 8 * 1024 * 1024;

/**
 * `contrast generate`: upstream's steps (reference §2.2) in order, but every output is computed
 * before the first file is written, so a failure leaves the workspace as it was (apart from the
 * default settings and rules, which upstream writes first too).
 */
export async function generate(ctx: Context, paths: string[], opts: GenerateOptions): Promise<Outcome> {
  const { out } = ctx;
  if (opts.referenceValues === undefined) {
    throw new ContrastError("CLI_USAGE", "required option '--reference-values <platform>' not specified", {
      hint: "Name the platform the deployment runs on, e.g. `contrast generate --reference-values metal-qemu-snp resources/`; `contrast --version` lists them.",
    });
  }
  const ownerKeysGiven = (opts.addWorkloadOwnerKey ?? []).length > 0;
  if (opts.disableUpdates === true && ownerKeysGiven) {
    throw new ContrastError("CLI_USAGE", "--disable-updates and --add-workload-owner-key cannot be used together", {
      hint: "--disable-updates leaves the manifest without workload owner keys; drop one of the two.",
    });
  }
  const platform = parsePlatform(opts.referenceValues);
  const profile = policyProfile(platform.id);
  const handler = runtimeHandlerFor(platform, profile);
  if (platform.simulated && !out.json) {
    out.warn(
      "platform sim: the simulated TEE proves nothing; use this manifest for development, tests and demos only",
      "CLI_EVIDENCE_SIMULATED",
    );
  }

  // 1-2: the inputs, and the files with confidential workloads.
  const inputs = await collectYamlFiles(paths.map((p) => resolvePath(ctx, p, p)));
  const targets = confidentialFiles(inputs);

  // 4: the manifest to update, or a new one with the platform's reference values.
  const manifestPath = resolvePath(ctx, opts.manifest, "manifest.json");
  const manifest = await loadOrCreateManifest(ctx, manifestPath, platform, opts);

  // 6: patch every target file; every problem in every resource is reported at once.
  const replacements =
    opts.imageReplacements === undefined
      ? new Map<string, string>()
      : await readImageReplacements(resolvePath(ctx, opts.imageReplacements, opts.imageReplacements));
  const patchOptions: PatchOptions = {
    runtimeHandler: handler,
    ...(opts.skipInitializer === true ? {} : { initializer: { image: DEFAULT_INITIALIZER_IMAGE } }),
    ...(opts.skipServiceMesh === true ? {} : { serviceMesh: { image: DEFAULT_SERVICE_MESH_IMAGE } }),
    imageReplacements: replacements,
  };
  const patch = patchFiles(targets, patchOptions);
  const patched = patch.files;
  if (!out.json) out.success("Patched targets");

  // 7: settings.json and rules.rego from the platform's defaults unless they exist.
  const created: string[] = [];
  const settingsPath = resolvePath(ctx, opts.settings, "settings.json");
  const rulesPath = resolvePath(ctx, opts.policy, "rules.rego");
  if (await createExclusive(settingsPath, settingsToJson(profile.settings), 0o644)) created.push(settingsPath);
  if (await createExclusive(rulesPath, profile.rules, 0o644)) created.push(rulesPath);
  const cachePath = resolvePath(ctx, opts.genpolicyCachePath, "layers-cache.json");
  if (await createExclusive(cachePath, "[]\n", 0o644)) created.push(cachePath);
  const settings = await readSettings(ctx, settingsPath, profile);
  const rules = fromUtf8(await readBounded(rulesPath, FILE_MAX_BYTES, "rules file"));

  // 8: the policies, one file at a time, with every input's ConfigMaps and Secrets at hand.
  let images: ImageMetadataSource | undefined;
  const seen = new Map<string, ImageMetadata>();
  const generated: { file: PatchedFile; yaml: string; workloads: readonly GeneratedWorkload[] }[] = [];
  const warnings: PolicyWarning[] = [];
  try {
    images = recording(
      await openImageSourceFromFlags(
        ctx,
        {
          ...(opts.imageMetadata === undefined ? {} : { imageMetadata: opts.imageMetadata }),
          layersCache: cachePath,
          insecureRegistry: opts.insecureRegistry ?? [],
        },
        profile.tarfs,
      ),
      seen,
    );
    // Only files that can hold ConfigMaps or Secrets are worth parsing again for every file.
    const configFiles = inputs.filter((f) => CONFIG_KIND.test(f.text)).map((f) => f.text);
    for (const file of patched) {
      const result = await generatePolicies(file.docs, {
        images,
        profile,
        ...(settings === undefined ? {} : { settings }),
        rules,
        configFiles,
        source: file.path,
      });
      warnings.push(...result.warnings);
      generated.push({
        file,
        yaml: result.workloads.length > 0 ? result.yaml : file.text,
        workloads: result.workloads,
      });
    }
  } finally {
    await images?.close();
  }
  // Unpinned images are the workload lints' (with a fix hint), once per container.
  for (const w of warnings) {
    if (w.code === "POLICY_IMAGE_UNPINNED") continue;
    const { code, message, ...details } = w;
    out.warn(message, code, details);
  }
  if (!out.json) out.success("Generated workload policy annotations");

  // Beyond upstream: the workload lints on the patched resources, warnings unless --strict.
  const findings = [
    ...patch.warnings,
    // On the patched documents: the policy annotations (tens of KiB each) would only slow parsing.
    ...lintWorkloads(
      patched.map((f) => copyFile({ source: f.path, documents: f.docs })),
      {
        podOverheadMiB: platform.podOverheadMiB,
        bareMetal: !platform.simulated && platform.id !== "aks-clh-snp",
        imageSize: (image) => compressedSize(seen.get(image)),
      },
    ),
  ];
  const blocking = findings.filter((f) => f.severity !== "info");
  for (const f of findings) {
    // Information (each pod VM's computed memory) is for --log-level info; warnings are for everyone.
    if (f.severity === "info") ctx.log.info(formatFinding(f), { code: f.code });
    else out.warn(`${formatFinding(f)}; ${f.hint}`, f.code, findingDetails(f));
  }
  if (opts.strict === true && blocking.length > 0) {
    if (!out.json)
      out.problem(`--strict: ${blocking.length} workload warning(s); the YAML and the manifest were not written`);
    return { ok: false, fields: { platform: platform.id, findings: blocking.map(findingJson) } };
  }

  // 9-10: the workloads with a policy, and the Policies map.
  const workloads = generated.flatMap((g) => policyWorkloads(g.file, g.workloads));
  const policies = buildPolicies(workloads);
  if (![...policies.values()].some((p) => p.Role === "coordinator") && !platform.simulated) {
    out.warn(
      "No Coordinator resource found, did you forget to add it to your resources?",
      "CLI_GENERATE_NO_COORDINATOR",
    );
  }

  // 11, 13, 14: owner keys.
  const keyFiles = nodeKeyFiles();
  const workloadKeys = ownerKeyPaths(ctx, opts.addWorkloadOwnerKey, "workload-owner.pem");
  const seedKeys = ownerKeyPaths(ctx, opts.addSeedshareOwnerKey, "seedshare-owner.pem");
  if (opts.disableUpdates !== true && workloadKeys.length === 1) {
    const [path] = workloadKeys as [string];
    if (await ensureWorkloadOwnerKey(keyFiles, path)) created.push(path);
  }
  if (seedKeys.length === 1) {
    const [path] = seedKeys as [string];
    if ((await keyFiles.read(path)) === undefined) out.progress("Generating an RSA-4096 seed share owner key…");
    if (await ensureSeedShareOwnerKey(keyFiles, path)) created.push(path);
    out.progress(undefined);
  }
  manifest.Policies = policies;
  if (opts.disableUpdates === true) {
    manifest.WorkloadOwnerKeyDigests = null;
  } else {
    const digests = new Set(manifest.WorkloadOwnerKeyDigests ?? []);
    for (const path of workloadKeys) digests.add(await workloadOwnerDigestOfFile(keyFiles, path));
    manifest.WorkloadOwnerKeyDigests = [...digests].sort();
  }
  const seedShareKeys = new Set(manifest.SeedshareOwnerPubKeys ?? []);
  for (const path of seedKeys) seedShareKeys.add(await seedShareOwnerHexOfFile(keyFiles, path));
  manifest.SeedshareOwnerPubKeys = [...seedShareKeys].sort();

  // 12: validate; values the user must fill in are a warning, anything else is fatal.
  const manifestText = serializeManifest(manifest);
  const toFill = checkManifest(parseManifest(manifestText, { source: manifestPath }).issues, manifestPath, manifest);
  if (toFill.length > 0) {
    out.warn(`Please fill in the reference values for ${platform.name}`, "CLI_REFERENCE_VALUES_TO_FILL", {
      platform: platform.id,
      paths: toFill.map((i) => i.path),
    });
  }

  // Write: the YAML (in place or --output-file), then the manifest.
  const rewrites: { file: string; text: string }[] = [];
  if (opts.outputFile !== undefined) {
    // Every input, in order, so that the one file is the whole deployment: the patched files as
    // generated, the others (Namespaces, Services without a confidential pod) as they are.
    const byPath = new Map(generated.map((g) => [g.file.path, g.yaml]));
    const joined = inputs
      .map((f) => byPath.get(f.path) ?? f.text)
      .map((y) => (y === "" || y.startsWith("---\n") ? y : `---\n${y.endsWith("\n") || y === "" ? y : `${y}\n`}`))
      .join("");
    rewrites.push({ file: resolvePath(ctx, opts.outputFile, opts.outputFile), text: joined });
  } else {
    for (const g of generated) {
      if (g.file.changed || g.yaml !== g.file.input) rewrites.push({ file: g.file.path, text: g.yaml });
    }
  }
  const unchanged = new Set<string>();
  for (const r of rewrites) {
    const before = await readFile(r.file, "utf8").catch(() => undefined);
    if (before === r.text) unchanged.add(r.file);
  }
  await writeAllAtomically(rewrites.filter((r) => !unchanged.has(r.file)));
  const manifestBefore = await readFile(manifestPath, "utf8").catch(() => undefined);
  const manifestChanged = manifestBefore !== manifestText;
  if (manifestChanged) await writeFileAtomically(manifestPath, manifestText, 0o644);
  if (!out.json) out.success(`Updated manifest ${manifestPath}`);

  return {
    ok: true,
    fields: {
      platform: platform.id,
      runtimeHandler: handler,
      manifest: manifestPath,
      workloads: workloads.map((w) => ({
        kind: w.kind,
        namespace: w.namespace,
        name: w.name,
        hash: w.policyHash,
        workloadSecretId: w.workloadSecretId ?? w.workloadId,
        ...(w.role === "" ? {} : { role: w.role }),
        file: w.file,
      })),
      files: {
        created,
        // Files whose bytes changed; a repeated run on unchanged input writes none.
        written: [
          ...rewrites.filter((r) => !unchanged.has(r.file)).map((r) => r.file),
          ...(manifestChanged ? [manifestPath] : []),
        ],
      },
    },
  };
}

/** Fetches each image once, and records its metadata for the tmpfs lint. */
function recording(source: ImageMetadataSource, seen: Map<string, ImageMetadata>): ImageMetadataSource {
  const pending = new Map<string, Promise<ImageMetadata>>();
  return {
    // Each file is generated on its own; an image several files use is fetched once.
    get: (reference) => {
      let p = pending.get(reference);
      if (p === undefined) {
        p = source.get(reference).then((m) => {
          seen.set(reference, m);
          return m;
        });
        pending.set(reference, p);
      }
      return p;
    },
    close: () => source.close(),
  };
}

/** The compressed image size (sum of the layer blobs), when every layer's size is known. */
function compressedSize(m: ImageMetadata | undefined): number | undefined {
  if (m === undefined || m.layers.some((l) => l.size === undefined)) return undefined;
  return m.layers.reduce((sum, l) => sum + (l.size ?? 0), 0);
}

function findingJson(f: Finding): Record<string, unknown> {
  return { code: f.code, severity: f.severity, message: f.message, ...findingDetails(f) };
}

async function readImageReplacements(path: string): Promise<ReadonlyMap<string, string>> {
  return parseImageReplacements(fromUtf8(await readBounded(path, FILE_MAX_BYTES, "image replacements file")), path);
}

/**
 * The generated workloads of one file with the annotations upstream reads from the pod metadata
 * (role, workload secret ID), which policy generation does not touch. generatePolicies reports
 * workloads in document order, so the confidential pod templates of the patched YAML line up
 * with them.
 */
function policyWorkloads(patched: PatchedFile, generated: readonly GeneratedWorkload[]): PolicyWorkload[] {
  const file = patched.path;
  const templates = patched.docs
    .flatMap((d) => (isRecord(d.value) ? podTemplates(structuredClone(d.value)) : []))
    .filter((t) => runtimeClassName(t.spec).startsWith("contrast-cc"));
  if (templates.length !== generated.length) {
    throw new ContrastError("INTERNAL", `${file}: ${generated.length} policies for ${templates.length} workloads`, {
      kind: "internal",
      hint: "This is a bug in contrast; please report it with the input file.",
    });
  }
  return generated.map((g, i) => {
    const t = templates[i] as (typeof templates)[number];
    if (workloadId(t) !== g.workloadId) {
      throw new ContrastError("INTERNAL", `${file}: workload ${g.workloadId} does not line up with ${workloadId(t)}`, {
        kind: "internal",
        hint: "This is a bug in contrast; please report it with the input file.",
      });
    }
    const annotations = isRecord(t.podMetadata.annotations) ? t.podMetadata.annotations : {};
    const role = annotations[POD_ROLE_ANNOTATION];
    const secretId = annotations[WORKLOAD_SECRET_ID_ANNOTATION];
    return {
      kind: g.kind,
      namespace: g.namespace,
      name: t.name,
      workloadId: g.workloadId,
      policyHash: g.policyHash,
      role: typeof role === "string" ? role : "",
      workloadSecretId: typeof secretId === "string" && secretId !== "" ? secretId : undefined,
      file,
    };
  });
}

async function loadOrCreateManifest(
  ctx: Context,
  path: string,
  platform: Platform,
  opts: GenerateOptions,
): Promise<Manifest> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readBounded(path, MANIFEST_MAX_BYTES, "manifest");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  if (bytes === undefined) {
    let ark: string | undefined;
    if (platform.simulated) {
      const dir = simDir(opts.simDir === undefined ? undefined : resolvePath(ctx, opts.simDir, opts.simDir), ctx.env);
      const sim = await simArkKeyDigest(dir);
      ark = sim.digest;
      if (sim.created && !ctx.out.json) ctx.out.info(`Created a simulated TEE authority in ${dir}`);
    }
    return {
      Policies: null,
      ReferenceValues: initialReferenceValues(platform, ark),
      WorkloadOwnerKeyDigests: null,
      SeedshareOwnerPubKeys: null,
    };
  }
  const parsed = parseManifest(bytes, { source: path });
  if (parsed.manifest === undefined) throw manifestInvalid(path, parsed.issues);
  checkManifest(parsed.issues, path, parsed.manifest);
  const sims = parsed.manifest.ReferenceValues.sim;
  if (platform.simulated && sims.length > 0) {
    // A Coordinator started on another sim directory will be refused by set and verify: say so now.
    const dir = simDir(opts.simDir === undefined ? undefined : resolvePath(ctx, opts.simDir, opts.simDir), ctx.env);
    const local = await loadSimulatedAuthority(join(dir, SIM_AUTHORITY_FILE), nodeSimAuthorityFileSystem);
    if (local !== undefined && !sims.some((s) => s.ArkKeyDigest === local.arkKeyDigest)) {
      ctx.out.warn(
        `${path} trusts another simulated TEE than the one in ${dir}; a Coordinator using ${dir} will be refused. Move the manifest away to start anew with this one`,
        "CLI_SIM_AUTHORITY_MISMATCH",
        { simDir: dir, arkKeyDigest: local.arkKeyDigest },
      );
    }
  }
  return parsed.manifest;
}

/**
 * Fails on errors, except values the user has to fill in for their hardware (empty reference
 * values), which it returns: upstream's "expected missing" values and, since our release has no
 * embedded reference values yet, the empty measured values of a new manifest.
 */
function checkManifest(issues: readonly ManifestIssue[], path: string, m: Manifest): ManifestIssue[] {
  const productNameEmpty = (issue: ManifestIssue) => {
    const index = /^ReferenceValues\.snp\[(\d+)\]\.ProductName$/.exec(issue.path)?.[1];
    return index !== undefined && m.ReferenceValues.snp[Number(index)]?.ProductName === "";
  };
  const toFill = issues.filter(
    (i) =>
      i.path.startsWith("ReferenceValues") &&
      (i.code === "MANIFEST_VALUE_EXPECTED_MISSING" ||
        i.code === "MANIFEST_VALUE_REQUIRED" ||
        (i.code === "MANIFEST_PRODUCT_NAME_UNKNOWN" && productNameEmpty(i))),
  );
  const errors = issues.filter((i) => i.severity === "error" && !toFill.includes(i));
  if (errors.length > 0) throw manifestInvalid(path, errors);
  return toFill;
}

function manifestInvalid(path: string, issues: readonly ManifestIssue[]): ContrastError {
  const [first] = issues;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return new ContrastError(
    "CLI_GENERATE_MANIFEST_INVALID",
    `${path}: ${first === undefined ? "invalid" : `${first.path}: ${first.message}`}${more}`,
    {
      hint: `Run \`contrast manifest validate ${path}\` for every finding, fix them (or move the file away to start anew) and run generate again.`,
      details: { path, issues: issues.map((i) => ({ code: i.code, path: i.path, message: i.message })) },
    },
  );
}

/** The key files named by a repeatable flag, or the default file in --workspace-dir. */
function ownerKeyPaths(ctx: Context, given: readonly string[] | undefined, defaultName: string): string[] {
  if (given === undefined || given.length === 0) return [resolvePath(ctx, undefined, defaultName)];
  return given.map((p) => resolvePath(ctx, p, p));
}

function nodeKeyFiles(): KeyFiles {
  return {
    read: async (path) => {
      try {
        return await readBounded(path, 64 * 1024, "key file");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
    createExclusive: (path, content) => createExclusive(path, content, 0o600),
  };
}

/** Creates a file that must not exist yet, with its mode; false when it exists (never overwritten). */
async function createExclusive(path: string, content: string, mode: number): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "wx", mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
  try {
    await handle.writeFile(content);
    // The umask may have taken bits away; the mode is part of the contract (keys are 0600).
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
  return true;
}
