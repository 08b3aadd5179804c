import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((e) => {
      const p = join(dir, e);
      return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml(\.in)?$/.test(e) ? [p] : [];
    });
}

/** Real Kubernetes YAML: the corpus of testdata/kube and emojivoto (testdata/k8s), as files hold them. */
export const FILES = [...yamlFiles(join(REPO, "testdata/kube")), ...yamlFiles(join(REPO, "testdata/k8s"))];

export const name = (path: string): string => relative(REPO, path);
export const read = (path: string): string => readFileSync(path, "utf8");
export const emojivoto = (file: string): string => read(join(REPO, "testdata/k8s/emojivoto", file));
