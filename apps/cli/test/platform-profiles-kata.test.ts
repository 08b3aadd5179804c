import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatRequestStream, parseRequestStream } from "@contrast/policy";
import { describe, expect, it } from "vitest";
import { REPO, runBundle, tempDir } from "./helpers.js";
import type { Checked } from "./tampers.js";

/**
 * The Kata-flavour profiles through the built CLI: a Contrast-shaped GPU workload (the
 * contrast-secrets emptyDir, an H100 by its resource name, a privileged service-mesh sidecar, a
 * mount with propagation) generated for metal-qemu-snp-gpu, checked with the requests that
 * platform's runtime sends (`policy check --honest --platform`), and with tampered ones.
 */
const PINNED = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const POD = `apiVersion: apps/v1
kind: Deployment
metadata: {name: inference, namespace: ai}
spec:
  template:
    metadata:
      # As Contrast v1.5's GPU how-to writes it (docs/versioned_docs/version-1.5/deployment.md).
      annotations: {cdi.k8s.io/gpu: nvidia.com/pgpu=0, io.katacontainers.config.hypervisor.default_memory: "16384"}
    spec:
      runtimeClassName: contrast-cc
      volumes:
        - {name: contrast-secrets, emptyDir: {}}
        - {name: models, emptyDir: {}}
      initContainers:
        - name: contrast-initializer
          image: ${PINNED}
          volumeMounts: [{name: contrast-secrets, mountPath: /contrast}]
      containers:
        - name: cuda
          image: ${PINNED}
          env: [{name: NVIDIA_VISIBLE_DEVICES, value: all}]
          resources:
            limits: {nvidia.com/GH100_H100_PCIE: 1}
          volumeMounts:
            - {name: contrast-secrets, mountPath: /contrast, readOnly: true}
            - {name: models, mountPath: /models, mountPropagation: HostToContainer}
        - name: contrast-service-mesh
          image: ${PINNED}
          securityContext: {privileged: true}
          volumeMounts: [{name: contrast-secrets, mountPath: /contrast, readOnly: true}]
`;

function workspace(): string {
  const dir = tempDir();
  writeFileSync(join(dir, "pod.yaml"), POD);
  copyFileSync(join(REPO, "testdata/genpolicy/fixture-images.json"), join(dir, "images.json"));
  return dir;
}

const contrast = runBundle;

type Req = { name: string; input: Record<string, unknown> & { OCI?: Record<string, unknown> } };
const IMAGES = ["--image-metadata", "images.json"];

describe("Kata-flavour profiles through the built CLI", () => {
  it("metal-qemu-snp-gpu: the runtime's requests are allowed, tampered ones denied, stock Kata's denied", () => {
    const dir = workspace();
    const platform = ["--platform", "metal-qemu-snp-gpu"];
    const gen = contrast(dir, ["policy", "generate", "pod.yaml", ...platform, ...IMAGES]);
    expect(gen.status, gen.stderr).toBe(0);
    expect(gen.stdout.split("\n")[0]).toContain("Platform Metal-QEMU-SNP-GPU:");

    const ok = contrast(dir, ["policy", "check", "pod.yaml", "--honest", ...platform, ...IMAGES, "-o", "json"]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);

    const req = contrast(dir, [
      "policy",
      "requests",
      "pod.yaml",
      ...platform,
      ...IMAGES,
      "--output-file",
      "honest.txt",
    ]);
    expect(req.status, req.stderr).toBe(0);
    const honest = parseRequestStream(readFileSync(join(dir, "honest.txt"), "utf8")) as unknown as Req[];
    const sandbox = honest[0] as Req;
    expect(sandbox.input.guest_hook_path).toBe("/usr/share/oci/hooks");
    const creates = honest.filter((r) => r.name === "CreateContainerRequest");
    expect(creates.map((r) => r.input.OCI?.Version)).toEqual(["1.2.0", "1.2.0", "1.2.0", "1.2.0"]);
    const cuda = creates[2] as Req;
    expect((cuda.input.OCI as { Annotations: Record<string, string> }).Annotations["cdi.k8s.io/vfio1"]).toBe(
      "nvidia.com/gpu=0",
    );
    const models = (
      cuda.input.OCI as { Mounts: { destination: string; type_: string; options: string[] }[] }
    ).Mounts.find((m) => m.destination === "/models");
    expect(models).toMatchObject({ type_: "local", options: ["rbind", "rslave", "rw"] });

    // Tampered: another hook directory; the secrets volume writable in the app; stdin opened.
    const hook = structuredClone(sandbox);
    hook.input.guest_hook_path = "/var/lib/evil/hooks";
    const writable = structuredClone(cuda);
    for (const m of (writable.input.OCI as { Mounts: { destination: string; options: string[] }[] }).Mounts)
      if (m.destination === "/contrast") m.options = ["rbind", "rprivate", "rw"];
    const stdin = { name: "WriteStreamRequest", input: { container_id: cuda.input.container_id, data: "aGk=" } };
    const logs = { name: "ReadStreamRequest", input: { container_id: cuda.input.container_id, len: 4096 } };
    writeFileSync(
      join(dir, "tampered.txt"),
      formatRequestStream([...honest, logs, hook, writable, stdin] as Parameters<typeof formatRequestStream>[0]),
    );
    const bad = contrast(dir, ["policy", "check", "pod.yaml", "--requests", "tampered.txt", "-o", "json"]);
    expect(bad.status, bad.stderr).toBe(2);
    const json = JSON.parse(bad.stdout) as Checked;
    const tail = json.decisions.slice(honest.length);
    expect(tail.map((d) => [d.kind, d.allowed])).toEqual([
      ["ReadStreamRequest", true],
      ["CreateSandboxRequest", false],
      ["CreateContainerRequest", false],
      ["WriteStreamRequest", false],
    ]);
    expect(tail[1]?.reasons?.map((r) => r.message)).toEqual([
      'pause container: guest hook path "/var/lib/evil/hooks" is not allowed',
    ]);
    expect(tail[2]?.reasons?.some((r) => r.message.includes("/contrast"))).toBe(true);

    // Stock Kata's runtime (encrypted block emptyDirs, no hook, OCI 1.1.0) does not fit this policy.
    const stock = contrast(dir, ["policy", "check", "pod.yaml", "--honest", "--platform", "kata", ...IMAGES]);
    expect(stock.status).toBe(2);
    expect(stock.stdout).toContain("denied");
  }, 120_000);

  it("without --platform, generate uses metal-qemu-snp and says so; its policy allows that runtime", () => {
    const dir = workspace();
    writeFileSync(join(dir, "pod.yaml"), POD.replace("nvidia.com/GH100_H100_PCIE: 1", "memory: 1Gi"));
    const gen = contrast(dir, ["policy", "generate", "pod.yaml", ...IMAGES]);
    expect(gen.status, gen.stderr).toBe(0);
    expect(gen.stdout.split("\n")[0]).toContain("Platform Metal-QEMU-SNP (the default; choose with --platform)");
    const ok = contrast(dir, ["policy", "check", "pod.yaml", "--honest", ...IMAGES]);
    expect(ok.status, ok.stdout).toBe(0);
    const k3s = contrast(dir, ["policy", "check", "pod.yaml", "--honest", "--platform", "k3s-qemu-tdx", ...IMAGES]);
    expect(k3s.status, k3s.stdout).toBe(0);
  }, 120_000);
});
