import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { INITDATA_ANNOTATION, POLICY_ANNOTATION } from "@contrast/policy";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { REPO, runBundle, tempDir } from "./helpers.js";

/**
 * The initdata format end to end through the built CLI: `policy generate --annotation initdata`
 * writes cc_init_data and prints the hash the manifest needs and the launch fields the hardware
 * measures; `policy check` reads the policy back from the YAML, the bare annotation value and the
 * TOML file, allows the honest requests and denies a tampered one.
 */
const IMAGES = join(REPO, "testdata/genpolicy/fixture-images.json");
const IMAGE = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const POD = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  runtimeClassName: contrast-cc
  containers:
    - name: app
      image: ${IMAGE}
      command: ["/pause", "--serve"]
`;

const contrast = runBundle;

function annotations(path: string): Record<string, string> {
  return (
    load(readFileSync(path, "utf8").replace(/^---\n/, "")) as { metadata: { annotations: Record<string, string> } }
  ).metadata.annotations;
}

describe("contrast policy generate --annotation initdata", () => {
  it("writes initdata, prints the manifest hash and the measured fields, and policy check reads it back", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "pod.yaml"), POD);
    const gen = contrast(dir, [
      "-o",
      "json",
      "policy",
      "generate",
      "--annotation",
      "initdata",
      "--image-metadata",
      IMAGES,
      "pod.yaml",
    ]);
    expect(gen.stderr).toBe("");
    expect(gen.status).toBe(0);
    const [w] = (
      JSON.parse(gen.stdout) as {
        workloads: { hash: string; annotation: string; measured: { snpHostData: string; tdxMrConfigId: string } }[];
      }
    ).workloads;
    expect(w?.annotation).toBe("initdata");
    const ann = annotations(join(dir, "pod.yaml"));
    expect(ann[POLICY_ANNOTATION]).toBeUndefined();
    const value = ann[INITDATA_ANNOTATION] as string;
    // The hardware's view, computed by the system's tools: gzip -d, then openssl dgst.
    const toml = execFileSync("gzip", ["-dc"], { input: Buffer.from(value, "base64") });
    const sha256 = execFileSync("openssl", ["dgst", "-sha256", "-r"], { input: toml }).toString().split(" ")[0];
    expect(w?.hash).toBe(sha256);
    expect(w?.measured).toEqual({ snpHostData: sha256, tdxMrConfigId: `${sha256}${"00".repeat(16)}` });
    writeFileSync(join(dir, "initdata.toml"), toml);
    writeFileSync(join(dir, "annotation.txt"), `${value}\n`);

    const requests = contrast(dir, ["policy", "requests", "--image-metadata", IMAGES, "pod.yaml"]);
    expect(requests.status).toBe(0);
    writeFileSync(join(dir, "honest.txt"), requests.stdout);
    for (const policy of ["pod.yaml", "annotation.txt", "initdata.toml"]) {
      const check = contrast(dir, ["policy", "check", policy, "--requests", "honest.txt"]);
      expect(check.stderr, policy).toBe("");
      expect(check.status, policy).toBe(0);
    }
    const honest = contrast(dir, ["policy", "check", "--honest", "--image-metadata", IMAGES, "pod.yaml"]);
    expect(honest.status).toBe(0);

    // A host that swaps the workload's command: denied by the policy that came in initdata.
    writeFileSync(join(dir, "tampered.txt"), requests.stdout.replace('"/pause","--serve"', '"/bin/sh","-c","id"'));
    expect(readFileSync(join(dir, "tampered.txt"), "utf8")).not.toBe(requests.stdout);
    const denied = contrast(dir, ["policy", "check", "annotation.txt", "--requests", "tampered.txt"]);
    expect(denied.status).toBe(2);
    expect(denied.stdout + denied.stderr).toContain("CreateContainerRequest");
    // Eight CLI processes one after another: seconds each on a loaded two-core machine.
  }, 90_000);

  it("refuses an unknown format, and a garbled annotation with the initdata error's code", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "pod.yaml"), POD);
    const bad = contrast(dir, ["policy", "generate", "--annotation", "toml", "--image-metadata", IMAGES, "pod.yaml"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("CLI_USAGE");
    // gzip magic, then garbage: base64 "H4sI" + junk.
    writeFileSync(join(dir, "garbled.txt"), "H4sIAAAAAAAA/wAAAAAAAAAAAAAA\n");
    writeFileSync(join(dir, "r.txt"), '["ep":"GetOOMEventRequest",{}],\n');
    const garbled = contrast(dir, ["policy", "check", "garbled.txt", "--requests", "r.txt"]);
    expect(garbled.status).toBe(1);
    expect(garbled.stderr).toContain("POLICY_INITDATA_ENCODING");
    writeFileSync(join(dir, "v.toml"), "version = '0.2.0'\nalgorithm = 'sha256'\n[data]\n");
    const version = contrast(dir, ["policy", "check", "v.toml", "--requests", "r.txt"]);
    expect(version.stderr).toContain("POLICY_INITDATA_VERSION");
  });
});
