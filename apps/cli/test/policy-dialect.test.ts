import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLE, REPO, tempDir } from "./helpers.js";

const KATA = join(REPO, "testdata/rego/regorus-kata");
const IMAGE = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const METADATA = {
  schema: "contrast.image-metadata/v1",
  images: {
    [IMAGE]: {
      digest: IMAGE.split("@")[1],
      platform: { os: "linux", architecture: "amd64" },
      config: { User: "65535:65535", Entrypoint: ["/pause"] },
      layers: [{ diffId: `sha256:${"1".repeat(64)}`, verityHash: "2".repeat(64) }],
    },
  },
};
const pod = (name: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  runtimeClassName: contrast-cc
  containers: [{name: app, image: "${IMAGE}"}]
`;

function contrast(args: string[], cwd = REPO) {
  return spawnSync(process.execPath, [BUNDLE, ...args], {
    cwd,
    encoding: "utf8",
    env: { NO_COLOR: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
}

describe("the agent's Rego dialect in the built CLI", () => {
  it("policy check warns about built-ins the platform agent lacks, and with --platform decides as that agent", () => {
    const args = [
      "policy",
      "check",
      join(KATA, "web/policy.rego"),
      "--requests",
      join(KATA, "web/inputs.txt"),
      "-o",
      "json",
    ];
    const expected = JSON.parse(readFileSync(join(KATA, "web/outputs.json"), "utf8")) as boolean[];
    type Result = {
      decisions: { allowed: boolean; kind: string; outcome: string }[];
      dialect?: { dialect: string; findings: { code: string; name: string }[] };
    };

    // Kata 3.13/3.14's regorus has no base64 built-ins; the policy (made for AKS) calls them.
    const metal = JSON.parse(contrast([...args, "--platform", "metal-qemu-snp"]).stdout) as Result;
    expect(metal.dialect?.dialect).toBe("regorus-0.2.8-kata");
    expect(metal.dialect?.findings.map((f) => `${f.code} ${f.name}`).sort()).toEqual([
      "REGO_DIALECT_BUILTIN base64.decode",
      "REGO_DIALECT_BUILTIN base64.is_valid",
      "REGO_DIALECT_BUILTIN base64url.encode",
    ]);
    // That agent fails the container creations whose layer check decodes base64, nothing else.
    const differ = metal.decisions.filter((d, i) => d.allowed !== expected[i]);
    expect(differ.length).toBeGreaterThan(0);
    for (const d of differ) {
      expect(d).toMatchObject({ kind: "CreateContainerRequest", allowed: false, outcome: "eval-error" });
    }

    // Without --platform: the default platform's warnings, our engine's decisions.
    const text = contrast(args.slice(0, -2));
    expect(text.stderr).toMatch(
      /built-in base64\.decode is not available in regorus-0\.2\.8-kata.*\[REGO_DIALECT_BUILTIN\]/,
    );
    const plain = JSON.parse(contrast(args).stdout) as Result;
    expect(plain.decisions.map((d) => d.allowed)).toEqual(expected);

    // The Microsoft fork's agent, which the policy was made for, has them all.
    const aks = JSON.parse(contrast([...args, "--platform", "aks-clh-snp"]).stdout) as Result;
    expect(aks).not.toHaveProperty("dialect");
    expect(aks.decisions.map((d) => d.allowed)).toEqual(expected);
    expect(contrast([...args.slice(0, -2), "--platform", "aks-clh-snp"]).stderr).not.toMatch(/REGO_DIALECT/);
  });

  it("policy check is silent about our own generated policies", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "pod.yaml"), pod("web"));
    writeFileSync(join(dir, "images.json"), JSON.stringify(METADATA));
    const gen = contrast(["policy", "generate", "pod.yaml", "--image-metadata", "images.json"], dir);
    expect(gen.status, gen.stderr).toBe(0);
    expect(gen.stderr).not.toMatch(/REGO_DIALECT/);
    const check = contrast(
      ["policy", "check", "pod.yaml", "--honest", "--image-metadata", "images.json", "--platform", "metal-qemu-snp"],
      dir,
    );
    expect(check.stderr).not.toMatch(/REGO_DIALECT/);
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it("policy generate warns once about workspace rules that use what the agent lacks", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.yaml"), pod("a"));
    writeFileSync(join(dir, "b.yaml"), pod("b"));
    writeFileSync(join(dir, "images.json"), JSON.stringify(METADATA));
    const rules = readFileSync(join(REPO, "packages/policy/rules.rego"), "utf8");
    writeFileSync(join(dir, "rules.rego"), `${rules}\nfresh if time.now_ns() > 0\n`);
    const r = contrast(["policy", "generate", "a.yaml", "b.yaml", "--image-metadata", "images.json"], dir);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split("\n").filter((l) => l.includes("[POLICY_REGO_DIALECT]"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/time\.now_ns/);
  });
});
