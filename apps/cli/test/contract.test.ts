import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseManifest, serializeManifest } from "@contrast/manifest";
import { describe, expect, it } from "vitest";
import { SPECS } from "../src/specs.js";
import { MANIFESTS, REPO, runBundle, tempDir } from "./helpers.js";

// The CLI contract (docs/cli.md, "Exit status" and "JSON output"), through the built bundle as a
// user runs it: 0 done, 1 could not run, 2 a negative verdict; one JSON envelope everywhere.

const SNP = join(REPO, "testdata/attestation/snp");
const KATA = join(REPO, "testdata/rego/regorus-kata");
const EVIDENCE = [
  join(SNP, "virtee-milan-report.bin"),
  "--vcek",
  join(SNP, "virtee-milan-vcek.der"),
  "--now",
  "2024-01-01T00:00:00Z",
];
const PINNED = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const TAGGED = "mcr.microsoft.com/oss/kubernetes/pause:3.6";
const image = (digest: string) => ({
  digest,
  platform: { os: "linux", architecture: "amd64" },
  config: { User: "65535:65535", Entrypoint: ["/pause"] },
  layers: [{ diffId: `sha256:${"1".repeat(64)}`, verityHash: "2".repeat(64) }],
});
const pod = (img: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  runtimeClassName: contrast-cc\n  containers: [{name: app, image: "${img}"}]\n`;

/** A workspace with a pod, offline image metadata for both images, and a manifest for S2's report. */
function workspace(img = PINNED): string {
  const dir = tempDir();
  writeFileSync(join(dir, "pod.yaml"), pod(img));
  writeFileSync(
    join(dir, "images.json"),
    JSON.stringify({
      schema: "contrast.image-metadata/v1",
      images: { [PINNED]: image(PINNED.split("@")[1] as string), [TAGGED]: image(`sha256:${"3".repeat(64)}`) },
    }),
  );
  const base = parseManifest(readFileSync(join(MANIFESTS, "v1.5-metal-qemu-snp.json"))).manifest;
  if (base === undefined) throw new Error("fixture");
  const entry = {
    ...(base.ReferenceValues.snp[0] as (typeof base.ReferenceValues.snp)[number]),
    // Not the report's measurement: genuine evidence that does not match.
    TrustedMeasurement: "ab".repeat(48),
    MinimumTCB: { BootloaderVersion: 3, TEEVersion: 0, SNPVersion: 8, MicrocodeVersion: 115 },
  };
  writeFileSync(
    join(dir, "manifest.json"),
    serializeManifest({ ...base, ReferenceValues: { snp: [entry], tdx: [], sim: [] } }),
  );
  return dir;
}

interface Envelope {
  ok: boolean;
  error?: { code: string; kind: string; message: string; hint?: string };
  warnings: { code?: string; message: string; [k: string]: unknown }[];
  [field: string]: unknown;
}

function json(dir: string, args: string[]): { status: number | null; doc: Envelope; stderr: string } {
  const r = runBundle(dir, ["-o", "json", ...args]);
  // Exactly one JSON document on stdout, whatever happened.
  const doc = JSON.parse(r.stdout) as Envelope;
  expect(Object.keys(doc)[0]).toBe("ok");
  expect(Array.isArray(doc.warnings)).toBe(true);
  expect(doc.ok).toBe(r.status === 0);
  return { status: r.status, doc, stderr: r.stderr };
}

describe("exit status: one rule for every command", () => {
  it("1 for a usage error, whether commander or the command's body finds it", () => {
    const dir = workspace();
    // commander: an unknown option, for every command.
    for (const spec of SPECS) {
      const r = runBundle(dir, [...spec.path, "--no-such-flag"]);
      expect(r.status, spec.path.join(" ")).toBe(1);
      expect(r.stderr).toContain("[CLI_USAGE]");
    }
    // The planned commands are not registered (docs/cli.md): unknown commands, named as such.
    for (const args of [["runtime"], ["policy", "nope"]]) {
      const r = json(dir, args);
      expect(r.status, args.join(" ")).toBe(1);
      expect(r.doc.error?.code).toBe("CLI_USAGE");
      expect(r.doc.error?.message).toContain(`unknown command '${args[0] === "policy" ? "nope" : args[0]}'`);
    }
    // The bodies: each of these exited 2 before, or 1, depending on where it was caught.
    const policy = join(KATA, "web/policy.rego");
    const found = [
      ["policy", "check", policy],
      ["policy", "check", policy, "--requests", "x.txt", "--trace", "many"],
      ["policy", "check", policy, "--workload", "web", "--requests", "x.txt"],
      ["policy", "generate", "pod.yaml", "--image-metadata", "images.json", "--annotation", "toml"],
      ["generate", "pod.yaml"],
      ["generate", "--reference-values", "sim", "-d", "-w", "x.pem", "pod.yaml"],
      ["set"],
      ["verify"],
      ["recover", "-c", "127.0.0.1:1313", "--timeout", "soon"],
      ["attestation", "verify", ...EVIDENCE.slice(0, -1), "2024-02-30T00:00:00Z"],
      ["attestation", "verify", ...EVIDENCE, "--report-data", "00"],
    ];
    for (const args of found) {
      const r = json(dir, args);
      expect(r.status, args.join(" ")).toBe(1);
      expect(r.doc.error?.code, args.join(" ")).toBe("CLI_USAGE");
      expect(r.doc.error?.hint).toBeTruthy();
    }
  }, 120_000);

  it("1 when a command cannot read its input", () => {
    const dir = workspace();
    const cases = [
      ["manifest", "validate", "missing.json"],
      ["attestation", "verify", "missing.bin"],
      ["policy", "check", "missing.rego", "--requests", "x.txt"],
      ["policy", "requests", "missing.yaml", "--image-metadata", "images.json"],
      ["policy", "generate", "missing.yaml", "--image-metadata", "images.json"],
      ["set", "-c", "127.0.0.1:1313", "-m", "missing.json"],
      ["verify", "-c", "127.0.0.1:1313", "-m", "missing.json"],
      ["recover", "-c", "127.0.0.1:1313", "-m", "missing.json"],
    ];
    for (const args of cases) {
      const r = json(dir, args);
      expect(r.status, args.join(" ")).toBe(1);
      expect(r.doc.error).toMatchObject({ code: "FILE_NOT_FOUND", kind: "io" });
    }
  }, 120_000);

  it("2 for each command's negative verdict, 0 for a positive one", () => {
    const dir = workspace();
    const broken = json(dir, ["manifest", "validate", join(MANIFESTS, "broken.json")]);
    expect(broken.status).toBe(2);
    expect(broken.doc.error).toBeUndefined();
    expect((broken.doc.summary as { errors: number }).errors).toBeGreaterThan(0);
    expect(json(dir, ["manifest", "validate", join(MANIFESTS, "v1.5-metal-qemu-snp.json")]).status).toBe(0);

    // Genuine evidence that does not match the reference values: an error of kind policy.
    const mismatch = json(dir, [
      "attestation",
      "verify",
      ...EVIDENCE,
      "--skip-id-block",
      "--allow-missing-crl",
      "--reference-values",
      "manifest.json",
    ]);
    expect(mismatch.status).toBe(2);
    expect(mismatch.doc.error).toMatchObject({ code: "ATTESTATION_MEASUREMENT_MISMATCH", kind: "policy" });
    const genuine = json(dir, ["attestation", "verify", ...EVIDENCE]);
    expect(genuine.status).toBe(0);
    expect(genuine.doc.claims).toMatchObject({ product: "Milan" });
    // Verified, but without AMD's CRL: a script can see that revocation was not checked.
    expect(genuine.doc.warnings).toEqual([
      expect.objectContaining({ code: "CLI_REVOCATION_UNCHECKED", crlUrl: expect.stringContaining("/crl") }),
    ]);

    // A denied request.
    const gen = runBundle(dir, ["policy", "generate", "pod.yaml", "--image-metadata", "images.json"]);
    expect(gen.status, gen.stderr).toBe(0);
    const req = runBundle(dir, ["policy", "requests", "pod.yaml", "--image-metadata", "images.json"]);
    expect(req.status, req.stderr).toBe(0);
    writeFileSync(join(dir, "honest.txt"), req.stdout);
    writeFileSync(join(dir, "tampered.txt"), req.stdout.replace('"/pause"', '"/bin/sh"'));
    expect(json(dir, ["policy", "check", "pod.yaml", "--requests", "honest.txt"]).status).toBe(0);
    const denied = json(dir, ["policy", "check", "pod.yaml", "--requests", "tampered.txt"]);
    expect(denied.status).toBe(2);
    expect(denied.doc.error).toBeUndefined();
    expect(denied.doc.denied).toBeGreaterThan(0);
    // The same in text mode.
    expect(runBundle(dir, ["policy", "check", "pod.yaml", "--requests", "tampered.txt"]).status).toBe(2);
  }, 120_000);
});

describe("the JSON envelope", () => {
  it("wraps every command's result, --version included", () => {
    const dir = workspace();
    const version = json(dir, ["--version"]);
    expect(version.doc).toMatchObject({ ok: true, warnings: [] });
    expect(typeof version.doc.version).toBe("string");
    const generated = json(dir, ["policy", "generate", "pod.yaml", "--image-metadata", "images.json"]);
    expect(generated.status).toBe(0);
    // Not a bare array any more.
    expect(generated.doc.workloads).toEqual([
      expect.objectContaining({ kind: "Pod", name: "web", annotation: "agent-policy" }),
    ]);
    const requests = json(dir, ["policy", "requests", "pod.yaml", "--image-metadata", "images.json"]);
    expect((requests.doc.workloads as { workload: string }[]).map((w) => w.workload)).toEqual(["Pod/web"]);
    const validated = json(dir, ["manifest", "validate"]);
    expect(validated.doc).toMatchObject({ ok: true, summary: { errors: 0 } });
  }, 120_000);

  it("carries the warnings text mode prints to stderr, with their codes and details", () => {
    const dir = workspace(TAGGED);
    const text = runBundle(dir, ["policy", "generate", "pod.yaml", "--image-metadata", "images.json"]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stderr).toContain(
      `Warning: image ${TAGGED} is not pinned by digest (used by Pod/web container app) [POLICY_IMAGE_UNPINNED]`,
    );
    writeFileSync(join(dir, "pod.yaml"), pod(TAGGED));
    const r = json(dir, ["policy", "generate", "pod.yaml", "--image-metadata", "images.json"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.doc.warnings).toEqual([
      {
        code: "POLICY_IMAGE_UNPINNED",
        message: `image ${TAGGED} is not pinned by digest (used by Pod/web container app)`,
        image: TAGGED,
        usedBy: ["Pod/web container app"],
      },
    ]);

    // policy check: the dialect findings are warnings too.
    const check = json(dir, [
      "policy",
      "check",
      join(KATA, "web/policy.rego"),
      "--requests",
      join(KATA, "web/inputs.txt"),
      "--platform",
      "metal-qemu-snp",
    ]);
    expect(check.doc.warnings.map((w) => w.code)).toContain("REGO_DIALECT_BUILTIN");
    expect(check.doc.warnings[0]).toMatchObject({ file: "policy.rego", line: expect.any(Number) });

    // And an error does not lose the warnings given before it.
    const failed = json(dir, [
      "policy",
      "generate",
      "pod.yaml",
      "--image-metadata",
      "images.json",
      "--output-file",
      "/nonexistent/dir/out.yaml",
    ]);
    expect(failed.status).toBe(1);
    expect(failed.doc.error?.code).toMatch(/^FILE_/);
    expect(failed.doc.warnings.map((w) => w.code)).toEqual(["POLICY_IMAGE_UNPINNED"]);
  }, 120_000);
});
