import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseYamlDocuments } from "@contrast/kube";
import {
  createOciLayoutSource,
  exportImageMetadata,
  nodeFileSystem,
  serializeImageMetadataDocument,
} from "@contrast/oci";
import { policyProfile } from "@contrast/policy";
import { expectCode, REPO_ROOT, scratchDir } from "@contrast/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { checkReleaseCli } from "../src/index.mjs";
import { writeTinyLayout } from "./layout.js";

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML and JSON walked by known paths; a wrong path fails the test
type Json = any;

const TOOL = join(REPO_ROOT, "tools/release/src/cli.mjs");
const DEV_CLI = join(REPO_ROOT, "apps/cli/dist/contrast.cjs");
const PREFIX = "registry.example.com:5000/contrast";

const run = (args: string[], cwd = REPO_ROOT) =>
  spawnSync(process.execPath, args, { cwd, encoding: "utf8", timeout: 120_000 });

type Release = {
  version: string;
  images: Record<string, string>;
  platforms: Record<string, { runtimeHandler: string; coordinatorPolicyHash: string; referenceValues?: unknown }>;
};

// The whole path as a release takes it: the tool's command line renders the YAMLs and release.json
// and bundles the CLI with the release embedded; then the built bundle runs as a process.
describe("a CLI built by `release render`", () => {
  const layout = scratchDir("release-e2e-layout-");
  const out = scratchDir("release-e2e-out-");
  let release: Release;
  const referenceValues = {
    "metal-qemu-snp": {
      snp: [
        {
          TrustedMeasurement: "ab".repeat(48),
          MinimumTCB: { BootloaderVersion: 3, TEEVersion: 0, SNPVersion: 8, MicrocodeVersion: 115 },
        },
      ],
    },
  };

  /** The release tool as a release pipeline runs it, on the tiny layout, into `dir`. */
  const renderInto = (dir: string) =>
    run([
      TOOL,
      "render",
      "--images",
      join(layout, "images.json"),
      "--layout",
      layout,
      "--image-prefix",
      PREFIX,
      "--reference-values",
      join(layout, "rv.json"),
      "--out",
      dir,
    ]);

  beforeAll(async () => {
    await writeTinyLayout(layout);
    writeFileSync(join(layout, "rv.json"), JSON.stringify(referenceValues));
    const r = renderInto(out);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    release = JSON.parse(readFileSync(join(out, "release.json"), "utf8"));
  }, 180_000);

  it("renders the same bytes again into another directory, the CLI bundle included", () => {
    const again = scratchDir("release-e2e-again-");
    const r = renderInto(again);
    expect(r.status, r.stderr).toBe(0);
    const list = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? list(join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name]))
        .sort();
    expect(list(again)).toEqual(list(out));
    expect(list(out)).toContain("cli/contrast.cjs");
    for (const f of list(out)) expect(readFileSync(join(again, f)).equals(readFileSync(join(out, f))), f).toBe(true);
    expect(statSync(join(out, "cli/contrast.cjs")).mode & 0o777).toBe(0o755);
  }, 120_000);

  it("prints the embedded images, handlers, reference values and Coordinator policy hashes", () => {
    const r = run([join(out, "cli/contrast.cjs"), "--version"]);
    expect(r.status).toBe(0);
    const text = r.stdout;
    expect(text).toContain("container image versions:");
    for (const ref of Object.values(release.images)) expect(text).toContain(`  ${ref}\n`);
    for (const [id, p] of Object.entries(release.platforms)) {
      expect(text).toMatch(
        new RegExp(
          `  ${id} .*\\n      runtime handler: +${p.runtimeHandler}\\n      coordinator policy hash: +${p.coordinatorPolicyHash}\\n`,
        ),
      );
    }
    expect(text).toContain(`snp.0.TrustedMeasurement: ${"ab".repeat(48)}`);
    expect(text).toContain("snp.0.MinimumTCB.SNPVersion: 8");
    // metal-qemu-tdx was given no reference values.
    expect(text).toMatch(/ {2}metal-qemu-tdx[^\n]*\n(?: {6}[^\n]*\n){2} {6}reference values: +\(no default\)\n/);
  });

  it("--output json carries the same data", () => {
    const r = run([join(out, "cli/contrast.cjs"), "--version", "--output", "json"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      images: Record<string, string>;
      platforms: { id: string; runtimeHandler?: string; coordinatorPolicyHash?: string; referenceValues?: unknown }[];
    };
    expect(doc.images).toEqual(release.images);
    const snp = doc.platforms.find((p) => p.id === "metal-qemu-snp");
    expect(snp?.runtimeHandler).toBe(release.platforms["metal-qemu-snp"]?.runtimeHandler);
    expect(snp?.coordinatorPolicyHash).toBe(release.platforms["metal-qemu-snp"]?.coordinatorPolicyHash);
    expect(snp?.referenceValues).toEqual(referenceValues["metal-qemu-snp"]);
    expect(doc.platforms.find((p) => p.id === "sim")?.runtimeHandler).toBeUndefined();
  });

  it("the tool's self-check accepts the release bundle and refuses a bundle without the release", () => {
    checkReleaseCli(join(out, "cli"), release);
    expectCode(() => checkReleaseCli(dirname(DEV_CLI), release), "RELEASE_CLI_EMBED_FAILED");
    const other = structuredClone(release);
    (other.platforms["metal-qemu-tdx"] as { runtimeHandler: string }).runtimeHandler =
      "contrast-cc-metal-qemu-tdx-00000000";
    expectCode(() => checkReleaseCli(join(out, "cli"), other), "RELEASE_CLI_EMBED_FAILED");
  });

  it("a development build has no release", () => {
    const r = run([DEV_CLI, "--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain("container image versions:");
    expect(r.stdout).not.toContain("runtime handler:");
  });

  it("generate writes the release's runtime handler, initializer and service-mesh images", async () => {
    const ws = scratchDir("release-e2e-ws-");
    const platform = "metal-qemu-snp";
    const app = release.images.coordinator as string; // any image of the layout serves as the workload's
    writeFileSync(
      join(ws, "app.yml"),
      [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        "  name: app",
        "  annotations:",
        '    contrast.edgeless.systems/servicemesh-ingress: "web#8080#false"',
        "spec:",
        "  selector:",
        "    matchLabels: {app: app}",
        "  template:",
        "    metadata:",
        "      labels: {app: app}",
        "    spec:",
        "      runtimeClassName: contrast-cc",
        "      containers:",
        "        - name: app",
        `          image: ${app}`,
        "          resources: {limits: {memory: 100Mi}, requests: {memory: 100Mi}}",
        "",
      ].join("\n"),
    );
    // Offline image metadata for the images generate needs, read from the release's own layout.
    const source = createOciLayoutSource({
      dir: layout,
      fs: nodeFileSystem,
      tarfs: policyProfile(platform).tarfs,
      hashThreads: 0,
    });
    try {
      const doc = await exportImageMetadata({
        source,
        references: [app, release.images.initializer as string, release.images["service-mesh"] as string],
      });
      writeFileSync(join(ws, "images.json"), serializeImageMetadataDocument(doc));
    } finally {
      await source.close();
    }
    const r = run(
      [
        join(out, "cli/contrast.cjs"),
        "generate",
        "--reference-values",
        platform,
        "--image-metadata",
        "images.json",
        "app.yml",
      ],
      ws,
    );
    expect(r.status, r.stderr).toBe(0);
    const [deployment] = parseYamlDocuments(readFileSync(join(ws, "app.yml"), "utf8")).map((d) => d.value as Json);
    const spec = deployment.spec.template.spec;
    expect(spec.runtimeClassName).toBe(release.platforms[platform]?.runtimeHandler);
    expect(spec.initContainers.map((c: { image: string }) => c.image)).toEqual([
      release.images.initializer,
      release.images["service-mesh"],
    ]);
  }, 120_000);
});
