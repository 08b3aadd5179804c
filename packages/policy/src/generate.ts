import { ContrastError } from "@contrast/core";
import { DEFAULT_RULES } from "./default-rules.js";
import { encodePolicyAnnotation, POLICY_ANNOTATION, policyDocument, policyHash } from "./document.js";
import { PolicyError } from "./errors.js";
import {
  type ImageMetadata,
  type ImageMetadataSource,
  isPinned,
  parseImageReference,
  pinnedReference,
} from "./image.js";
import { collectConfigSources } from "./kube/config-sources.js";
import { unknownPodSpecFields, unsupportedFieldError } from "./kube/fields.js";
import { isRecord, type PodTemplate, podTemplates, runtimeClassName, workloadId } from "./kube/workloads.js";
import { parseYamlDocuments, serializeYamlDocuments, type YamlDocument } from "./kube/yaml.js";
import { buildPolicyData, podContainers } from "./policy-data/build.js";
import type { PolicyData } from "./policy-data/types.js";
import { DEFAULT_SETTINGS } from "./settings/defaults.js";
import type { Settings } from "./settings/types.js";

/** The runtime class prefix of confidential workloads. */
export const CONFIDENTIAL_RUNTIME_PREFIX = "contrast-cc";

export interface GenerateOptions {
  /** Image configs and layer hashes; the registry client in the CLI, fixtures in tests. */
  readonly images: ImageMetadataSource;
  /** Settings with drop-ins applied (loadSettings); default: the built-in settings. */
  readonly settings?: Settings;
  /** The Rego rules the policy starts with; default: this package's rules.rego. */
  readonly rules?: string;
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
  readonly code: "POLICY_UNSUPPORTED_FIELD" | "POLICY_IMAGE_UNPINNED";
  readonly message: string;
  readonly path?: string;
}

export interface GeneratedWorkload {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** `<group or core>/<version>/<Kind>/<namespace or default>/<name>`, Contrast's workload ID. */
  readonly workloadId: string;
  /** Lowercase hex SHA-256 of the policy text. */
  readonly policyHash: string;
  readonly policy: string;
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
 * and annotates the template with it (`io.katacontainers.config.agent.policy`).
 */
export async function generatePolicies(yamlText: string, options: GenerateOptions): Promise<GenerateResult> {
  const source = options.source ?? "input";
  const settings = options.settings ?? DEFAULT_SETTINGS;
  const rules = options.rules ?? DEFAULT_RULES;
  const strict = options.strict ?? true;
  const prefixes = options.runtimeClassPrefixes ?? [CONFIDENTIAL_RUNTIME_PREFIX];
  const docs = parseYamlDocuments(yamlText, source);
  const extra = (options.configFiles ?? []).flatMap((text, i) =>
    parseYamlDocuments(text, `config file ${i + 1}`).map((d) => d.value),
  );
  const sources = collectConfigSources([...docs.map((d) => d.value), ...extra]);
  const warnings: PolicyWarning[] = [];

  const selected: Selected[] = [];
  docs.forEach((d, i) => {
    for (const template of podTemplates(d.value)) {
      const rc = runtimeClassName(template.spec);
      if (prefixes.length > 0 && !prefixes.some((p) => rc.startsWith(p))) continue;
      selected.push({ doc: i, template });
    }
  });

  // Check every pod spec before pulling anything: a typo should fail in milliseconds.
  const references = new Set<string>([settings.cluster_config.pause_container_image]);
  for (const { template } of selected) {
    const where = `${source}: ${template.kind}/${template.name || template.generateName || "?"}`;
    if (template.kind === "Pod" && template.name === "" && (template.generateName ?? "") === "") {
      throw new PolicyError("POLICY_POD_NAME_MISSING", `${where}: the pod has neither a name nor a generateName`, {
        hint: "Set metadata.name (or metadata.generateName) of the pod.",
      });
    }
    for (const problem of unknownPodSpecFields(template.spec, `${template.itemPath}${template.specPath}`)) {
      if (strict) throw unsupportedFieldError(where, problem);
      warnings.push({ code: "POLICY_UNSUPPORTED_FIELD", message: `${where}: ${problem.message}`, path: problem.path });
    }
    for (const c of podContainers(template.spec)) {
      if (typeof c.image !== "string" || c.image === "") {
        throw new PolicyError("POLICY_OBJECT_INVALID", `${where}: container ${String(c.name ?? "?")} has no image`, {
          hint: "Every container needs an image reference.",
        });
      }
      parseImageReference(c.image);
      if (!isPinned(c.image) && options.pinImages !== true) {
        warnings.push({
          code: "POLICY_IMAGE_UNPINNED",
          message: `${where}: image ${c.image} is not pinned by digest; the policy pins the digest it resolves to now`,
        });
      }
      references.add(c.image);
    }
  }

  const images = new Map<string, ImageMetadata>();
  if (selected.length > 0) {
    for (const ref of references) images.set(ref, await fetchImage(options.images, ref));
  }

  if (options.pinImages === true) {
    for (const { template } of selected) {
      for (const c of podContainers(template.spec)) {
        const image = typeof c.image === "string" ? images.get(c.image) : undefined;
        if (image === undefined || isPinned(c.image as string)) continue;
        const pinned = pinnedReference(c.image as string, image.digest);
        images.set(pinned, image);
        c.image = pinned;
      }
    }
  }

  const replaced = new Set<number>();
  const workloads: GeneratedWorkload[] = [];
  for (const { doc, template } of selected) {
    const data = buildPolicyData(template, { settings, sources, images });
    const text = policyDocument(rules, data);
    const annotations = isRecord(template.podMetadata.annotations) ? template.podMetadata.annotations : {};
    annotations[POLICY_ANNOTATION] = encodePolicyAnnotation(text);
    template.podMetadata.annotations = annotations;
    replaced.add(doc);
    workloads.push({
      kind: template.kind,
      namespace: template.namespace ?? "",
      name: template.name || template.generateName || "",
      workloadId: workloadId(template),
      policyHash: policyHash(text),
      policy: text,
      policyData: data,
    });
  }
  const yaml = serializeYamlDocuments(
    docs.map((d: YamlDocument, i) => (replaced.has(i) ? { raw: d.raw, replacement: d.value } : { raw: d.raw })),
  );
  return { yaml, workloads, warnings };
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
