import { writeFile } from "node:fs/promises";
import { ContrastError, fromUtf8 } from "@contrast/core";
import type { PodTemplate } from "@contrast/kube";
import type { ImageMetadataSource } from "@contrast/oci";
import {
  formatRequestStream,
  type HonestStream,
  honestRequestsForYaml,
  parseYamlDocuments,
  policyOfAnnotations,
  policyProfile,
  type SandboxIdentity,
} from "@contrast/policy";
import type { Outcome } from "../command-spec.js";
import { type Context, resolvePath } from "../context.js";
import { readBounded } from "../files.js";
import { openImageSourceFromFlags } from "../images.js";
import { readSettings } from "./policy-generate.js";

/** Where the honest requests' inputs come from: the options `policy generate` takes. */
export interface HonestOptions {
  /** The platform whose runtime sends the requests (--platform); default: DEFAULT_POLICY_PLATFORM. */
  readonly platform?: string;
  readonly settings?: string;
  readonly layersCache?: string;
  readonly imageMetadata?: string;
  readonly insecureRegistry?: string[];
  readonly config?: string[];
  readonly sandboxName?: string;
  readonly namespace?: string;
  /** Only the pod template of this workload (its name). */
  readonly workload?: string;
}

export interface PolicyRequestsOptions extends HonestOptions {
  readonly outputFile?: string;
}

export interface WorkloadStream {
  /** "Kind/name". */
  readonly workload: string;
  readonly template: PodTemplate;
  /** The Rego text of the template's policy (agent-policy or initdata annotation), when it has one. */
  readonly policy: string | undefined;
  readonly stream: HonestStream;
}

const YAML_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The request streams an honest runtime would send for each pod template of a YAML file, built
 * from the pod specs, the images and the settings (not from the policies).
 */
export async function honestStreams(ctx: Context, file: string, opts: HonestOptions): Promise<WorkloadStream[]> {
  const path = resolvePath(ctx, file, file);
  const text = fromUtf8(await readBounded(path, YAML_MAX_BYTES, "YAML file"));
  const configDocuments: unknown[] = [];
  for (const c of opts.config ?? []) {
    const p = resolvePath(ctx, c, c);
    configDocuments.push(
      ...parseYamlDocuments(fromUtf8(await readBounded(p, YAML_MAX_BYTES, "config file")), p).map((d) => d.value),
    );
  }
  const profile = policyProfile(opts.platform);
  const settings = await readSettings(ctx, opts.settings, profile);
  let images: ImageMetadataSource | undefined;
  try {
    images = await openImageSourceFromFlags(ctx, opts, profile.tarfs);
    const identity: SandboxIdentity = {
      ...(opts.sandboxName === undefined ? {} : { sandboxName: opts.sandboxName }),
      ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
    };
    const built = await honestRequestsForYaml(text, {
      images,
      profile,
      ...(settings === undefined ? {} : { settings }),
      identity,
      configDocuments,
      source: path,
    });
    const out: WorkloadStream[] = [];
    for (const { template, stream } of built) {
      const name = template.name || template.generateName || "?";
      if (opts.workload !== undefined && name !== opts.workload) continue;
      const workload = `${template.kind}/${name}`;
      const found = policyOfAnnotations(template.podMetadata.annotations, `${path}: ${workload}`);
      out.push({ workload, template, policy: found?.policy, stream });
    }
    if (out.length === 0) {
      throw new ContrastError(
        "POLICY_NO_WORKLOAD",
        `${path}: no pod template${opts.workload === undefined ? "" : ` named ${opts.workload}`}`,
        {
          hint: "Pass Kubernetes YAML with a Pod, Deployment, StatefulSet, ... (and check --workload).",
        },
      );
    }
    return out;
  } finally {
    await images?.close();
  }
}

/**
 * Writes the honest request stream of a workload (the format `policy check --requests` reads).
 * It has no verdict: it succeeds or throws.
 */
export async function policyRequests(ctx: Context, file: string, opts: PolicyRequestsOptions): Promise<Outcome> {
  const { out } = ctx;
  const streams = await honestStreams(ctx, file, opts);
  const text = streams.map((s) => formatRequestStream(s.stream.requests)).join("\n");
  if (!out.json && opts.outputFile === undefined) out.info(text.trimEnd());
  if (opts.outputFile !== undefined) {
    await writeFile(resolvePath(ctx, opts.outputFile, opts.outputFile), text);
    for (const s of streams)
      ctx.log.info("wrote requests", { workload: s.workload, requests: s.stream.requests.length });
  }
  return {
    ok: true,
    fields: {
      workloads: streams.map((s) => ({
        workload: s.workload,
        identity: s.stream.identity,
        requests: s.stream.requests,
      })),
    },
  };
}
