import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { yamlFilesUnder } from "@contrast/testkit";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));

/** Real Kubernetes YAML: the corpus of testdata/kube and emojivoto (testdata/k8s), as files hold them. */
export const FILES = [...yamlFilesUnder(join(REPO, "testdata/kube")), ...yamlFilesUnder(join(REPO, "testdata/k8s"))];

export const name = (path: string): string => relative(REPO, path);
export const read = (path: string): string => readFileSync(path, "utf8");
export const emojivoto = (file: string): string => read(join(REPO, "testdata/k8s/emojivoto", file));
