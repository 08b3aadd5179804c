import { ContrastError } from "@contrast/core";
import {
  isRecord,
  type PodTemplate,
  pathKeys,
  podMetadataPath,
  runtimeClassName,
  serializeYamlDocuments,
  unknownPodSpecFields,
  workloadId,
  type YamlDocument,
  type YamlEdit,
} from "@contrast/kube";
import { type ImageMetadata, type ImageMetadataSource, isPinned, parseImageReference } from "@contrast/oci";
import { collectConfigSources } from "./config-sources.js";
import { DEFAULT_RULES } from "./default-rules.js";
import { describeFindings, policyDialectError, policyDialectFindings, profileDialect } from "./dialect.js";
import { encodePolicyAnnotation, POLICY_ANNOTATION, policyDocument, policyHash } from "./document.js";
import { PolicyError } from "./errors.js";
import { encodeInitdataAnnotation, INITDATA_ANNOTATION, initdataPolicyHash, policyInitdata } from "./initdata.js";
import { parseYamlDocuments, podTemplates, unsupportedFieldError } from "./kube-input.js";
import { builtinPauseImage, DEFAULT_PAUSE_IMAGE } from "./pause-image.js";
import { buildPolicyData, podContainerEntries } from "./policy-data/build.js";
import { checkVolumeMounts } from "./policy-data/mounts.js";
import type { PolicyData } from "./policy-data/types.js";
import type { AnnotationFormat, PolicyProfile } from "./profiles/types.js";
import { DEFAULT_SETTINGS } from "./settings/defaults.js";
import type { Settings } from "./settings/types.js";
import type { PolicyWarningCode } from "./warning-codes.js";

/** The runtime class prefix of confidential workloads. */
export const CONFIDENTIAL_RUNTIME_PREFIX = "contrast-cc";

export interface GenerateOptions {
  /** Image configs and layer hashes; the registry client in the CLI, fixtures in tests. */
  readonly images: ImageMetadataSource;
  /**
   * The platform whose runtime the policy is for (policyProfile); its settings and rules are the
   * defaults of `settings` and `rules`. Default: stock Kata (the `kata` profile).
   */
  readonly profile?: PolicyProfile;
  /** Settings with drop-ins applied (loadSettings); default: the profile's settings. */
  readonly settings?: Settings;
  /** The Rego rules the policy starts with; default: the profile's rules (this package's rules.rego). */
  readonly rules?: string;
  /**
   * Where the policy goes: `agent-policy` (io.katacontainers.config.agent.policy, Contrast v1.5)
   * or `initdata` (io.katacontainers.config.hypervisor.cc_init_data, newer runtimes, sha256).
   * Default: the profile's format, else agent-policy.
   */
  readonly annotation?: AnnotationFormat;
  /** Unknown pod-spec fields are errors (true, default) or warnings (false). */
  readonly strict?: boolean;
  /**
   * Pod specs whose runtimeClassName starts with one of these get a policy; an empty list
   * selects every pod spec. Default: ["contrast-cc"].
   */
  readonly runtimeClassPrefixes?: readonly string[];
  /** More YAML texts whose ConfigMaps and Secrets env vars and volumes may refer to. */
  readonly configFiles?: readonly string[];
  /** Name of the input in messages. */
  readonly source?: string;
  /**
   * Rewrite image references that name a tag to the digest they resolve to now, so that the
   * workload runs exactly the image its policy was made for (otherwise a warning is given).
   */
  readonly pinImages?: boolean;
}

export interface PolicyWarning {
  readonly code: PolicyWarningCode;
  readonly message: string;
  readonly path?: string;
  /** POLICY_IMAGE_UNPINNED: the image reference; there is one warning per image and input. */
  readonly image?: string;
  /** POLICY_IMAGE_UNPINNED: the containers that use it, as `<Kind>/<name> container <name>`. */
  readonly usedBy?: readonly string[];
}

export interface GeneratedWorkload {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** `<group or core>/<version>/<Kind>/<namespace or default>/<name>`, Contrast's workload ID. */
  readonly workloadId: string;
  /**
   * The workload's key in the manifest's Policies map, lowercase hex SHA-256: of the policy text
   * (agent-policy), or of the initdata TOML that carries it (initdata).
   */
  readonly policyHash: string;
  readonly policy: string;
  /** The annotation the policy was written to. */
  readonly annotation: AnnotationFormat;
  /** initdata only: the TOML document whose digest is policyHash. */
  readonly initdata?: string;
  readonly policyData: PolicyData;
}

export interface GenerateResult {
  /** The input with each selected pod template annotated; other documents are kept verbatim. */
  readonly yaml: string;
  readonly workloads: readonly GeneratedWorkload[];
  readonly warnings: readonly PolicyWarning[];
}

interface Selected {
  readonly doc: number;
  readonly template: PodTemplate;
}

/**
 * Generates an agent policy for every confidential pod template of a multi-document YAML text
 * and annotates the template with it: `io.katacontainers.config.agent.policy`, or initdata in
 * `io.katacontainers.config.hypervisor.cc_init_data` (see GenerateOptions.annotation).
 */
export async function generatePolicies(
  yamlText: string | readonly YamlDocument[],
  options: GenerateOptions,
): Promise<GenerateResult> {
  const source = options.source ?? "input";
  try {
    return await generate(yamlText, options, source);
  } catch (e) {
    throw withFile(e, source);
  }
}

/**
 * Every error names the input it is about: a PolicyError raised where the file is not known
 * gets it added (in the message and in details.file), keeping its code, path and hint.
 */
function withFile(e: unknown, file: string): unknown {
  if (!(e instanceof PolicyError) || e.file !== undefined) return e;
  // Rules and settings errors are about those inputs, not the YAML file; the caller names them.
  if (e.code.startsWith("POLICY_RULES_") || e.code.startsWith("POLICY_SETTINGS_") || e.code === "POLICY_REGO_DIALECT")
    return e;
  const message = e.message.startsWith(`${file}`) ? e.message : `${file}: ${e.message}`;
  const { path: _path, file: _file, ...details } = e.details ?? {};
  return new PolicyError(e.code, message, {
    hint: e.hint ?? "",
    kind: e.kind,
    cause: e.cause ?? e,
    file,
    ...(e.path === undefined ? {} : { path: e.path }),
    details,
  });
}

async function generate(
  input: string | readonly YamlDocument[],
  options: GenerateOptions,
  source: string,
): Promise<GenerateResult> {
  const settings = options.settings ?? options.profile?.settings ?? DEFAULT_SETTINGS;
  const rules = options.rules ?? options.profile?.rules ?? DEFAULT_RULES;
  const format = options.annotation ?? options.profile?.annotation ?? "agent-policy";
  const strict = options.strict ?? true;
  const prefixes = options.runtimeClassPrefixes ?? [CONFIDENTIAL_RUNTIME_PREFIX];
  // Documents a caller already parsed (and perhaps edited, as `contrast generate` injects the
  // initializer first) are used as they are, so their text is parsed and written once; their
  // values are copied because reading pod templates fills in defaults.
  const docs: readonly YamlDocument[] =
    typeof input === "string"
      ? parseYamlDocuments(input, source)
      : input.map((d) => ({ ...d, value: structuredClone(d.value) }));
  const extra = (options.configFiles ?? []).flatMap((text, i) =>
    parseYamlDocuments(text, `config file ${i + 1}`).map((d) => d.value),
  );
  const sources = collectConfigSources([...docs.map((d) => d.value), ...extra]);
  const warnings: PolicyWarning[] = [];

  // A policy the agent's regorus cannot evaluate denies requests on a real node: our own rules
  // must keep to its dialect (an error), rules the user brought may target another agent (a warning).
  const dialect = profileDialect(options.profile);
  const findings = policyDialectFindings(rules, dialect);
  if (findings.length > 0) {
    if (options.rules === undefined) throw policyDialectError(findings, dialect);
    warnings.push({
      code: "POLICY_REGO_DIALECT",
      message: `the rules use what the Kata agent's Rego engine lacks (${dialect.id}), so it denies requests that reach it: ${describeFindings(findings)}`,
    });
  }

  const selected: Selected[] = [];
  docs.forEach((d, i) => {
    for (const template of podTemplates(d.value)) {
      const rc = runtimeClassName(template.spec);
      if (prefixes.length > 0 && !prefixes.some((p) => rc.startsWith(p))) continue;
      selected.push({ doc: i, template });
    }
  });

  // Check every pod spec before pulling anything: a typo should fail in milliseconds.
  // Each image with the first field that names it, for messages.
  const references = new Map<string, string>();
  const unpinned = new Map<string, string[]>();
  for (const { template } of selected) {
    const workload = `${template.kind}/${template.name || template.generateName || "?"}`;
    const where = `${source}: ${workload}`;
    const specPath = `${template.itemPath}${template.specPath}`;
    if (template.kind === "Pod" && template.name === "" && (template.generateName ?? "") === "") {
      throw new PolicyError("POLICY_POD_NAME_MISSING", `${where}: the pod has neither a name nor a generateName`, {
        path: `${template.itemPath}metadata.name`,
        file: source,
        hint: "Set metadata.name (or metadata.generateName) of the pod.",
      });
    }
    for (const problem of unknownPodSpecFields(template.spec, specPath)) {
      if (strict) throw unsupportedFieldError(where, problem, source);
      warnings.push({ code: "POLICY_UNSUPPORTED_FIELD", message: `${where}: ${problem.message}`, path: problem.path });
    }
    for (const { container: c, path } of podContainerEntries(template.spec, specPath)) {
      if (typeof c.image !== "string" || c.image === "") {
        throw new PolicyError(
          "POLICY_OBJECT_INVALID",
          `${where}: ${path}.image: container ${String(c.name ?? "?")} has no image`,
          {
            path: `${path}.image`,
            file: source,
            hint: "Every container needs an image reference.",
          },
        );
      }
      try {
        // The distribution grammar: a template placeholder such as ${IMAGE} is no image.
        const ref = parseImageReference(c.image);
        if (ref.digest !== undefined && !ref.digest.startsWith("sha256:")) {
          // The runtime and the rules compare SHA-256 image digests; another algorithm would
          // never match them.
          throw new PolicyError("POLICY_IMAGE_REFERENCE_INVALID", `${c.image} is not pinned by a sha256 digest`, {
            hint: "Use registry/repository[:tag][@sha256:<64 hex digits>].",
          });
        }
      } catch (e) {
        if (!(e instanceof ContrastError)) throw e;
        throw new PolicyError("POLICY_IMAGE_REFERENCE_INVALID", `${where}: ${path}.image: ${e.message}`, {
          path: `${path}.image`,
          file: source,
          hint: `${e.hint ?? ""} A placeholder (\${...}) must be substituted before generating policies.`.trim(),
          cause: e,
        });
      }
      if (!isPinned(c.image) && options.pinImages !== true) {
        unpinned.set(c.image, [...(unpinned.get(c.image) ?? []), `${workload} container ${String(c.name ?? "?")}`]);
      }
      if (!references.has(c.image)) references.set(c.image, `${path}.image`);
      checkVolumeMounts(c, {
        volumes: Array.isArray(template.spec.volumes) ? template.spec.volumes.filter(isRecord) : [],
        claimTemplates: template.claimTemplates,
        where,
        file: source,
        specPath,
        containerPath: path,
      });
    }
  }
  // One warning per image, however many containers use it.
  for (const [image, usedBy] of unpinned) {
    const users = usedBy.length === 1 ? (usedBy[0] ?? "") : `${usedBy.length} containers (${usedBy.join(", ")})`;
    warnings.push({
      code: "POLICY_IMAGE_UNPINNED",
      message: `${source}: image ${image} is not pinned by digest (used by ${users}); the policy pins the digest it resolves to now`,
      image,
      usedBy,
    });
  }

  const images = new Map<string, ImageMetadata>();
  if (selected.length > 0) {
    const pause = settings.cluster_config.pause_container_image;
    images.set(pause, builtinPauseImage(pause) ?? (await fetchPauseImage(options.images, pause)));
    for (const [ref, path] of references) {
      if (images.has(ref)) continue;
      try {
        images.set(ref, await fetchImage(options.images, ref));
      } catch (e) {
        // Registry and image-file errors keep their code; they gain the file and the field.
        if (e instanceof PolicyError) {
          throw new PolicyError(e.code, `${source}: ${path}: ${e.message}`, {
            kind: e.kind,
            cause: e.cause ?? e,
            hint: e.hint ?? "",
            file: source,
            path,
          });
        }
        const err = ContrastError.from(e);
        throw new ContrastError(err.code, `${source}: ${path}: ${err.message}`, {
          kind: err.kind,
          cause: e,
          ...(err.hint === undefined ? {} : { hint: err.hint }),
          details: { ...(err.details ?? {}), file: source, path },
        });
      }
    }
  }

  // What changes in each document's text: the annotation, and pinned image references.
  const edits = new Map<number, YamlEdit[]>();
  const edit = (doc: number, e: YamlEdit) => edits.set(doc, [...(edits.get(doc) ?? []), e]);
  if (options.pinImages === true) {
    for (const { doc, template } of selected) {
      for (const { container: c, path } of podContainerEntries(
        template.spec,
        `${template.itemPath}${template.specPath}`,
      )) {
        const image = typeof c.image === "string" ? images.get(c.image) : undefined;
        if (image === undefined || isPinned(c.image as string)) continue;
        // The reference as the user wrote it, pinned: only the digest is added.
        const pinned = `${c.image as string}@${image.digest}`;
        images.set(pinned, image);
        c.image = pinned;
        edit(doc, { path: [...pathKeys(path), "image"], value: pinned });
      }
    }
  }

  const replaced = new Set<number>();
  const workloads: GeneratedWorkload[] = [];
  for (const { doc, template } of selected) {
    const data = buildPolicyData(template, { settings, sources, images, file: source });
    const text = policyDocument(rules, data);
    const initdata = format === "initdata" ? policyInitdata(text) : undefined;
    const [key, other] =
      initdata === undefined ? [POLICY_ANNOTATION, INITDATA_ANNOTATION] : [INITDATA_ANNOTATION, POLICY_ANNOTATION];
    const annotations = isRecord(template.podMetadata.annotations) ? template.podMetadata.annotations : {};
    annotations[key] = initdata === undefined ? encodePolicyAnnotation(text) : encodeInitdataAnnotation(initdata.bytes);
    template.podMetadata.annotations = annotations;
    const metadataPath = podMetadataPath(template);
    edit(doc, { path: [...pathKeys(metadataPath), "annotations", key], value: annotations[key] as string });
    // A policy left in the other annotation by an earlier run would compete with the new one.
    if (Object.hasOwn(annotations, other)) {
      delete annotations[other];
      edit(doc, { path: [...pathKeys(metadataPath), "annotations", other], value: "", remove: true });
    }
    replaced.add(doc);
    workloads.push({
      kind: template.kind,
      namespace: template.namespace ?? "",
      name: template.name || template.generateName || "",
      workloadId: workloadId(template),
      policyHash: initdata === undefined ? policyHash(text) : initdataPolicyHash(initdata),
      policy: text,
      annotation: format,
      ...(initdata === undefined ? {} : { initdata: initdata.toml }),
      policyData: data,
    });
  }
  const yaml = serializeYamlDocuments(
    docs.map((d: YamlDocument, i) =>
      replaced.has(i)
        ? {
            raw: d.raw,
            replacement: d.value,
            edits: [...(d.edits ?? []), ...(edits.get(i) ?? [])],
            ...(d.opened === false ? { opened: false } : {}),
          }
        : {
            raw: d.raw,
            ...(d.edits !== undefined && d.edits.length > 0 ? { value: d.value, edits: d.edits } : {}),
            ...(d.preamble === true ? { preamble: true } : {}),
            ...(d.opened === false ? { opened: false } : {}),
          },
    ),
  );
  return { yaml, workloads, warnings };
}

/**
 * A pause image other than the built-in default is fetched like any image; its failures say that
 * the image comes from the settings, since no workload names it.
 */
async function fetchPauseImage(images: ImageMetadataSource, reference: string): Promise<ImageMetadata> {
  try {
    return await fetchImage(images, reference);
  } catch (e) {
    const err = ContrastError.from(e);
    const setting = "cluster_config.pause_container_image";
    throw new ContrastError(err.code, `pause image ${reference} (settings ${setting}): ${err.message}`, {
      kind: err.kind,
      cause: e,
      hint: `${err.hint ?? ""} The pause image comes from the settings' ${setting}; the built-in metadata covers only the default (${DEFAULT_PAUSE_IMAGE}).`.trim(),
      details: { ...(err.details ?? {}), setting: `/${setting.replace(".", "/")}` },
    });
  }
}

async function fetchImage(images: ImageMetadataSource, reference: string): Promise<ImageMetadata> {
  try {
    return await images.get(reference);
  } catch (e) {
    if (e instanceof ContrastError) throw e;
    throw new PolicyError("POLICY_IMAGE_METADATA", `cannot get the metadata of image ${reference}`, {
      kind: "io",
      cause: e,
      hint: "Check the image reference and that its registry is reachable, or provide image metadata.",
    });
  }
}
