import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { yamlFilesUnder } from "@contrast/testkit";
import { REPO } from "./helpers.js";

/**
 * The real-world corpus of testdata/kube (Kata's runtimeclass_workloads, microservices-demo,
 * Istio's bookinfo, the Kubernetes docs' StatefulSets): its files, their texts after Kata's
 * envsubst step, and the placeholders and deliberate failures of testdata/kube/corpus.json.
 */
export const CORPUS = join(REPO, "testdata/kube");

interface CorpusData {
  readonly placeholders: Record<string, string>;
  readonly syntheticBase64: Record<string, string>;
  readonly expectedFailures: Record<string, { code: string; reason: string }>;
}
export const CORPUS_DATA = JSON.parse(readFileSync(join(CORPUS, "corpus.json"), "utf8")) as CorpusData;

const VALUES: Record<string, string> = {
  ...CORPUS_DATA.placeholders,
  ...Object.fromEntries(
    Object.entries(CORPUS_DATA.syntheticBase64).map(([k, what]) => [
      k,
      Buffer.from(`synthetic ${what} for the contrast corpus test`).toString("base64"),
    ]),
  ),
};
/** envsubst with a variable list, as Kata's test scripts run it before applying a workload. */
const substitute = (text: string) =>
  text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a, b) => VALUES[a ?? b] ?? whole);

export const CORPUS_FILES = yamlFilesUnder(CORPUS);

/** A corpus file's text as a user would apply it. */
export function corpusText(path: string): string {
  const raw = readFileSync(path, "utf8");
  return relative(CORPUS, path).startsWith("kata-runtimeclass-workloads/") ? substitute(raw) : raw;
}

/** The other files of the same folder: they hold the ConfigMaps and Secrets a file refers to. */
export function corpusConfigFiles(path: string): string[] {
  return CORPUS_FILES.filter((p) => p !== path && dirname(p) === dirname(path));
}

/** The number of workloads in the corpus; a silently shrinking corpus fails the tests. */
export const CORPUS_WORKLOADS = 116;
