/**
 * The real-world manifest corpus (testdata/kube/, sources and licences in testdata/SOURCES.md)
 * for tests that iterate over it: which files there are, the text each is generated from, the
 * other files of its directory (ConfigMaps and Secrets, as `policy generate <dir>` passes them),
 * the deliberate failures, and the image metadata for its images.
 *
 * Images cannot be pulled here, so testdata/kube/images.json describes every corpus image with
 * SYNTHETIC metadata derived deterministically from the reference (see syntheticImage): its
 * digests, config and layer hashes are not the real image's. Policies made from it are real
 * policies for those synthetic images; they are not the policies of the published images.
 */

import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import {
  createOfflineImageSource,
  exportImageMetadata,
  type ImageMetadata,
  type ImageMetadataDocument,
  type ImageMetadataSource,
  parseImageMetadataDocument,
  serializeImageMetadataDocument,
} from "@contrast/oci";
import { REPO_ROOT } from "@contrast/testkit";

export const REPO = REPO_ROOT;
export const CORPUS_DIR = join(REPO, "testdata/kube");
/** The offline image-metadata file (docs/image-metadata.md) for every corpus image; synthetic. */
export const CORPUS_IMAGES = join(CORPUS_DIR, "images.json");

/**
 * testdata/kube/corpus.json: the values Kata's test scripts fill placeholders with (envsubst,
 * before applying a workload), and the files that fail on purpose. A data file, because the CLI's
 * corpus test reads it too and test code cannot be shared across workspaces.
 */
interface CorpusData {
  readonly placeholders: Readonly<Record<string, string>>;
  readonly syntheticBase64: Readonly<Record<string, string>>;
  readonly expectedFailures: Readonly<Record<string, { code: string; reason: string }>>;
}
const DATA = JSON.parse(readFileSync(join(CORPUS_DIR, "corpus.json"), "utf8")) as CorpusData;

/**
 * The placeholder values: fixed where Kata's scripts fix them (versions.yaml's nginx digest,
 * tests_common.sh's agnhost 2.21), synthetic otherwise (base64 of a marker text for keys and
 * certificates). Variables not listed (those inside shell scripts of commands) are left alone, as
 * envsubst with a variable list does.
 */
export const KATA_PLACEHOLDERS: Readonly<Record<string, string>> = {
  ...DATA.placeholders,
  ...Object.fromEntries(
    Object.entries(DATA.syntheticBase64).map(([k, what]) => [
      k,
      Buffer.from(`synthetic ${what} for the contrast corpus test`).toString("base64"),
    ]),
  ),
};

export function substituteKataPlaceholders(text: string): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a, b) => {
    const value = KATA_PLACEHOLDERS[(a ?? b) as string];
    return value ?? whole;
  });
}

/** Corpus files that fail on purpose, with the code and why. Each is listed in docs/policy.md. */
export const CORPUS_EXPECTED_FAILURES: Readonly<Record<string, { code: string; reason: string }>> =
  DATA.expectedFailures;

export interface CorpusFile {
  /** Path below testdata/kube/, e.g. "istio-bookinfo/bookinfo.yaml". */
  readonly name: string;
  readonly path: string;
  /** The text generation starts from: the file, with Kata's placeholders substituted. */
  readonly text: string;
  /** The other YAML files of the same directory (after substitution), for ConfigMaps and Secrets. */
  readonly configFiles: readonly string[];
  readonly expectedFailure: { code: string; reason: string } | undefined;
}

const YAML = /\.ya?ml(\.in)?$/;

/** Every YAML file of the corpus (`.yaml`, `.yml`, and Kata's `.yaml.in` templates), sorted. */
export function corpusFiles(): CorpusFile[] {
  const paths: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const p = join(dir, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (YAML.test(entry)) paths.push(p);
    }
  };
  walk(CORPUS_DIR);
  const texts = new Map(
    paths.map((p) => {
      const raw = readFileSync(p, "utf8");
      const name = relative(CORPUS_DIR, p);
      return [p, name.startsWith("kata-runtimeclass-workloads/") ? substituteKataPlaceholders(raw) : raw];
    }),
  );
  return paths.map((path) => {
    const name = relative(CORPUS_DIR, path);
    return {
      name,
      path,
      text: texts.get(path) ?? "",
      configFiles: paths.filter((p) => p !== path && dirname(p) === dirname(path)).map((p) => texts.get(p) ?? ""),
      expectedFailure: CORPUS_EXPECTED_FAILURES[name],
    };
  });
}

const hex = (s: string) => createHash("sha256").update(s).digest("hex");

/**
 * Synthetic metadata for an image reference, a pure function of it: the digest it is pinned to
 * (or sha256 of a marker and the reference), a shell config, one layer whose diff ID and verity
 * hash are hashes of the reference. NOT the published image's metadata.
 */
export function syntheticImage(reference: string): ImageMetadata {
  const at = reference.indexOf("@");
  return {
    reference,
    digest: at >= 0 ? reference.slice(at + 1) : `sha256:${hex(`contrast-corpus:digest:${reference}`)}`,
    platform: { os: "linux", architecture: "amd64" },
    config: {
      Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      Cmd: ["/bin/sh"],
      WorkingDir: "/",
    },
    layers: [
      {
        diffId: `sha256:${hex(`contrast-corpus:diff:${reference}`)}`,
        verityHash: hex(`contrast-corpus:verity:${reference}`),
      },
    ],
  };
}

/** An image source that makes up synthetic metadata for any reference and records them. */
export function syntheticImageSource(): ImageMetadataSource & { readonly references: Set<string> } {
  const references = new Set<string>();
  return {
    references,
    async get(reference: string) {
      references.add(reference);
      return syntheticImage(reference);
    },
    async close() {},
  };
}

/** The offline document for a set of references, exactly as testdata/kube/images.json holds it. */
export async function syntheticImageDocument(references: Iterable<string>): Promise<string> {
  const doc: ImageMetadataDocument = await exportImageMetadata({
    source: { get: async (r) => syntheticImage(r), close: async () => {} },
    references,
  });
  return serializeImageMetadataDocument(doc);
}

/**
 * The options every corpus test generates a file with: every pod spec selected (the corpus names
 * Kata's runtime classes or none), the directory's other files as ConfigMap/Secret sources, the
 * corpus image metadata (or `images`), and the file's corpus name as source.
 */
export function corpusOptions(file: CorpusFile, images: ImageMetadataSource = corpusImageSource()) {
  return { images, runtimeClassPrefixes: [] as string[], configFiles: file.configFiles, source: file.name };
}

/** The corpus image source: testdata/kube/images.json, read as the CLI's --image-metadata reads it. */
export function corpusImageSource(): ImageMetadataSource {
  return createOfflineImageSource(parseImageMetadataDocument(readFileSync(CORPUS_IMAGES)));
}
