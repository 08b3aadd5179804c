import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatRequestStream, parseRequestStream, policyProfiles } from "@contrast/policy";
import { describe, expect, it } from "vitest";
import { REPO, runBundle, tempDir } from "./helpers.js";
import type { Checked } from "./tampers.js";

/**
 * One golden pod per platform through the built CLI: a Contrast workload (the contrast-secrets
 * emptyDir at /contrast, an initializer, a privileged service-mesh sidecar, a mount with
 * propagation; an H100 on the GPU platforms) generated with `--platform <p>`, then the requests
 * that platform's runtime sends plus variants of them, checked with `policy check`. Each variant
 * is a thing that differs between platforms' runtimes; the table says which runtime sends it, so
 * which policies must allow it.
 */
const PINNED = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const pod = (gpu: boolean) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata:
      annotations: ${gpu ? "{cdi.k8s.io/gpu: nvidia.com/pgpu=0}" : "{}"}
    spec:
      runtimeClassName: contrast-cc
      volumes:
        - {name: contrast-secrets, emptyDir: {}}
        - {name: cache, emptyDir: {}}
      initContainers:
        - name: contrast-initializer
          image: ${PINNED}
          volumeMounts: [{name: contrast-secrets, mountPath: /contrast}]
      containers:
        - name: app
          image: ${PINNED}
          resources:
            limits: ${gpu ? "{nvidia.com/GH100_H100_PCIE: 1}" : "{memory: 1Gi}"}
          volumeMounts:
            - {name: contrast-secrets, mountPath: /contrast, readOnly: true}
            - {name: cache, mountPath: /cache, mountPropagation: HostToContainer}
        - name: contrast-service-mesh
          image: ${PINNED}
          securityContext: {privileged: true}
          volumeMounts: [{name: contrast-secrets, mountPath: /contrast, readOnly: true}]
`;

const contrast = runBundle;

// biome-ignore lint/suspicious/noExplicitAny: requests are changed field by field
type Req = { name: string; input: Record<string, any> };
const IMAGES = ["--image-metadata", "images.json"];

/** The variants, each a request (or a change of one) that some platforms' runtimes send. */
function variants(honest: Req[]): { what: string; request: Req }[] {
  const creates = honest.filter((r) => r.name === "CreateContainerRequest");
  const pause = creates[0] as Req;
  const app = creates[2] as Req;
  const out: { what: string; request: Req }[] = [];
  const change = (what: string, base: Req, f: (r: Req) => void) => {
    const request = structuredClone(base);
    f(request);
    out.push({ what, request });
  };
  change("OCI 1.2.0", app, (r) => {
    r.input.OCI.Version = "1.2.0";
  });
  out.push({
    what: "log read",
    request: { name: "ReadStreamRequest", input: { container_id: app.input.container_id, len: 4096 } },
  });
  change("pause /sys RO<->RW", pause, (r) => {
    for (const m of r.input.OCI.Mounts) {
      if (m.type_ === "sysfs") m.options = m.options.map((o: string) => (o === "ro" ? "rw" : o === "rw" ? "ro" : o));
    }
  });
  change("no guest-pull storage", app, (r) => {
    r.input.storages = r.input.storages.filter((s: { driver: string }) => s.driver !== "image_guest_pull");
  });
  return out;
}

type Flavour = "kata" | "contrast-kata" | "sim" | "microsoft";
/** Allowed (true) or denied, per variant and profile flavour, as that platform's runtime decides. */
const EXPECTED: Record<string, Record<Flavour, boolean>> = {
  // Contrast removed the OCI version check; stock Kata and the AKS fork compare it.
  "OCI 1.2.0": { kata: false, "contrast-kata": true, sim: true, microsoft: false },
  // Contrast's settings allow kubectl logs; stock Kata's deny them.
  "log read": { kata: false, "contrast-kata": true, sim: true, microsoft: true },
  // containerd before/after 2.0.4 mounts /sys of a privileged pod RO/RW; Contrast accepts both.
  "pause /sys RO<->RW": { kata: false, "contrast-kata": true, sim: true, microsoft: false },
  // Guest pull is required on Contrast's QEMU runtime; stock Kata lets a container without one
  // through; AKS pulls on the node (tardev), so the request never had one (unchanged, allowed).
  "no guest-pull storage": { kata: true, "contrast-kata": false, sim: false, microsoft: true },
};

describe("golden requests per platform through the built CLI", () => {
  for (const profile of policyProfiles()) {
    it(`${profile.id}: the runtime's own requests allowed; the platform differences decided as its runtime would`, () => {
      const dir = tempDir();
      writeFileSync(join(dir, "pod.yaml"), pod(profile.id.endsWith("-gpu")));
      copyFileSync(join(REPO, "testdata/genpolicy/fixture-images.json"), join(dir, "images.json"));
      const platform = ["--platform", profile.id];
      const gen = contrast(dir, ["policy", "generate", "pod.yaml", ...platform, ...IMAGES]);
      expect(gen.status, gen.stderr).toBe(0);
      expect(gen.stdout.split("\n")[0]).toContain(`Platform ${profile.name}:`);

      const req = contrast(dir, ["policy", "requests", "pod.yaml", ...platform, ...IMAGES, "--output-file", "h.txt"]);
      expect(req.status, req.stderr).toBe(0);
      const honest = parseRequestStream(readFileSync(join(dir, "h.txt"), "utf8")) as unknown as Req[];
      const extra = variants(honest);
      writeFileSync(
        join(dir, "golden.txt"),
        formatRequestStream([...honest, ...extra.map((v) => v.request)] as Parameters<typeof formatRequestStream>[0]),
      );
      const check = contrast(dir, ["policy", "check", "pod.yaml", "--requests", "golden.txt", "-o", "json"]);
      const json = JSON.parse(check.stdout) as Checked;
      const denied = json.decisions
        .slice(0, honest.length)
        .filter((d) => !d.allowed)
        .map((d) => `${d.kind}: ${d.reasons?.map((r) => r.message).join("; ")}`);
      expect(denied).toEqual([]);
      const got = Object.fromEntries(extra.map((v, i) => [v.what, json.decisions[honest.length + i]?.allowed]));
      const want = Object.fromEntries(Object.entries(EXPECTED).map(([what, by]) => [what, by[profile.flavour]]));
      expect(got).toEqual(want);

      // Stock Kata's runtime (encrypted block emptyDirs, OCI 1.1.0, no guest-pull requirement)
      // fits only stock Kata's policy.
      const stock = contrast(dir, ["policy", "check", "pod.yaml", "--honest", "--platform", "kata", ...IMAGES]);
      expect(stock.status, stock.stdout).toBe(profile.flavour === "kata" ? 0 : 2);
    }, 120_000);
  }
});
