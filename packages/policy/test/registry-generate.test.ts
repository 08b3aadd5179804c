import { createImageMetadataSource, type Fetcher, type ImageMetadataSource, tarWithIndex } from "@contrast/oci";
import { type BuiltImage, buildImage, LocalRegistry, veritysetupRoot } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentPolicy,
  applyJsonPatch,
  DEFAULT_SETTINGS,
  generatePolicies,
  honestRequestsForYaml,
} from "../src/index.js";

// The whole path a user takes: images built here are pushed to a real registry (Debian's
// docker-registry on 127.0.0.1), fetched through the distribution API, hashed, turned into a
// policy, and the policy is evaluated by our Rego engine against the request the runtime sends.
const fetcher: Fetcher = (url, init) => fetch(url, init);
let registry: LocalRegistry;
let app: BuiltImage;
let pause: BuiltImage;
let source: ImageMetadataSource;

beforeAll(async () => {
  registry = await LocalRegistry.start();
  app = await buildImage(
    [
      [
        { name: "etc/", type: "directory" },
        { name: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\nweb:x:1000:1000::/srv:/bin/sh\n" },
        { name: "etc/group", content: "root:x:0:\nweb:x:1000:\n" },
      ],
      [{ name: "bin/web", content: "#!/bin/sh\nexec true\n", mode: 0o755 }],
    ],
    { config: { Env: ["PATH=/bin", "MODE=prod"], Entrypoint: ["/bin/web"], Cmd: ["--port", "8080"], User: "web" } },
  );
  pause = await buildImage([[{ name: "pause", content: "pause", mode: 0o755 }]], {
    config: { Entrypoint: ["/pause"], User: "65535:65535" },
  });
  await registry.pushImage("team/web", "v1", app);
  await registry.pushImage("pause", "3.6", pause);
  source = createImageMetadataSource({ fetch: fetcher, hashThreads: 0 });
}, 60_000);

afterAll(async () => {
  await source?.close();
  await registry?.stop();
});

const pod = (image: string) => `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  runtimeClassName: contrast-cc
  containers:
    - name: web
      image: ${image}
`;

describe.each([
  ["guest pull", true],
  ["host-pulled layers (dm-verity)", false],
])("policies from a real registry (%s)", (_mode, guestPull) => {
  const settings = () =>
    applyJsonPatch(DEFAULT_SETTINGS, [
      { op: "replace", path: "/cluster_config/guest_pull", value: guestPull },
      { op: "replace", path: "/cluster_config/pause_container_image", value: `${registry.host}/pause:3.6` },
    ]);

  it("admits the container the pod describes, and nothing else", async () => {
    const image = `${registry.host}/team/web:v1`;
    const result = await generatePolicies(pod(image), { images: source, settings: settings() });
    const w = result.workloads[0];
    if (w === undefined) throw new Error("no workload");
    expect(w.policyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(result.warnings.map((x) => x.code)).toContain("POLICY_IMAGE_UNPINNED");
    const process = w.policyData.containers[1]?.OCI.Process;
    expect(process?.Args).toEqual(["/bin/web", "--port", "8080"]);
    expect(process?.Env).toContain("MODE=prod");
    expect(process?.User).toMatchObject({ UID: 1000, GID: 1000 }); // resolved through the image's /etc/passwd
    if (!guestPull) {
      // The layer hashes in the policy are dm-verity roots of "tar ‖ tarfs index", as veritysetup computes them.
      const expected = app.layers.map((l) => veritysetupRoot(tarWithIndex(l.tar)));
      expect(JSON.stringify(w.policyData)).toContain(expected[0]);
      expect(JSON.stringify(w.policyData)).toContain(expected[1]);
    } else {
      expect(JSON.stringify(w.policyData)).toContain(app.manifestDigest);
    }

    // The runtime's requests, built from the pod, the registry's images and the settings.
    const [built] = await honestRequestsForYaml(pod(image), { images: source, settings: settings() });
    if (built === undefined) throw new Error("no pod template");
    const agent = new AgentPolicy(w.policy);
    const decisions = agent.decideAll(built.stream.requests);
    expect(decisions.filter((d) => !d.allowed).map((d) => d.reasons?.map((r) => r.message))).toEqual([]);
    const create = built.stream.requests[built.stream.containers[1]?.create ?? -1];
    const tampered = structuredClone(create?.input) as { OCI: { Process: { Args: string[] } } };
    tampered.OCI.Process.Args.push("--debug");
    const denied = agent.decide("CreateContainerRequest", tampered);
    expect(denied.allowed).toBe(false);
    expect(denied.reasons?.map((r) => r.message)).toContain(
      'container "web": extra arg at index 3: "--debug" (the policy has 3 args)',
    );
  }, 60_000);
});
