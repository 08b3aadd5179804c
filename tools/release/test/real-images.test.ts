import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as imagesTool from "@contrast/images";
import { parseYamlDocuments, removeAnnotation, serializeYamlDocuments } from "@contrast/kube";
import { PLATFORMS } from "@contrast/manifest";
import { createImageMetadataSource, type Fetcher, nodeFileSystem } from "@contrast/oci";
import { generatePolicies, POLICY_ANNOTATION, policyProfile } from "@contrast/policy";
import { LocalRegistry, REPO_ROOT, scratchDir } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderRelease } from "../src/index.mjs";

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML and JSON walked by known paths; a wrong path fails the test
type Json = any;
const { buildImages, pushLayout } = imagesTool as {
  buildImages: (o: {
    root: string;
    out: string;
  }) => Promise<{ version: string; images: Record<string, { digest: string }> }>;
  pushLayout: (o: { layout: string; target: string; tag?: string; insecure?: boolean }) => Promise<unknown[]>;
};

const byId = (id: string) => PLATFORMS.find((p) => p.id === id) as (typeof PLATFORMS)[number];
// One platform per tarfs flavour (Kata's, Microsoft's), to keep the shared machine's CPU for others.
const PLATFORMS_UNDER_TEST = [byId("metal-qemu-snp"), byId("aks-clh-snp")];

// The release as it is made: `pnpm images` builds the real images (the apps' bundles on the Node
// runtime layer), they are pushed to a registry, and the YAML is rendered for that prefix. Then
// every pinned reference must be pullable from the registry, and the Coordinator policy that
// `contrast generate`'s generator computes from the registry must be the one the release embeds.
describe("a release of the real images, pushed to a registry", () => {
  const layout = join(scratchDir("release-real-"), "layout");
  let registry: LocalRegistry;
  let prefix: string;
  let rendered: Awaited<ReturnType<typeof renderRelease>>;
  let built: Awaited<ReturnType<typeof buildImages>>;

  beforeAll(async () => {
    built = await buildImages({ root: REPO_ROOT, out: layout });
    registry = await LocalRegistry.start();
    prefix = `${registry.host}/contrast`;
    await pushLayout({ layout, target: prefix, tag: built.version, insecure: true });
    rendered = await renderRelease({
      imagesJson: readFileSync(join(layout, "images.json"), "utf8"),
      layoutDir: layout,
      fs: nodeFileSystem,
      imagePrefix: prefix,
      platforms: PLATFORMS_UNDER_TEST,
    });
  }, 300_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it("pins the four images, each pullable by its digest and by its tag", () => {
    const release = rendered.release as Json;
    expect(Object.keys(release.images)).toEqual(["coordinator", "initializer", "node-installer", "service-mesh"]);
    for (const [name, ref] of Object.entries(release.images) as [string, string][]) {
      const digest = built.images[name]?.digest as string;
      expect(ref).toBe(`${prefix}/${name}:${built.version}@${digest}`);
      for (const pull of [`${prefix}/${name}@${digest}`, `${prefix}/${name}:${built.version}`]) {
        const raw = execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${pull}`]);
        expect(`sha256:${createHash("sha256").update(raw).digest("hex")}`).toBe(digest);
      }
    }
  });

  it("the Coordinator policy, generated again from the registry, has the release's hash", async () => {
    const release = rendered.release as Json;
    for (const platform of PLATFORMS_UNDER_TEST) {
      const text = rendered.files.find((f) => f.name === `coordinator-${platform.id}.yml`)?.text as string;
      // The YAML without its policy, as a user would hand it to `contrast generate`.
      const bare = serializeYamlDocuments(
        parseYamlDocuments(text).map((d) => {
          const v = d.value as Json;
          return v?.kind === "StatefulSet" ? removeAnnotation(d, POLICY_ANNOTATION) : d;
        }),
      );
      expect(bare).not.toContain(POLICY_ANNOTATION);
      const profile = policyProfile(platform.id);
      const source = createImageMetadataSource({
        fetch: globalThis.fetch as unknown as Fetcher,
        tarfs: profile.tarfs,
        insecureRegistries: [registry.host],
        hashThreads: 0,
      });
      try {
        const again = await generatePolicies(bare, { images: source, profile });
        const coordinator = again.workloads.find((w) => w.name === "coordinator");
        expect(coordinator?.policyHash).toBe(release.platforms[platform.id].coordinatorPolicyHash);
        expect(again.yaml).toBe(text);
      } finally {
        await source.close();
      }
    }
  }, 180_000);
});
