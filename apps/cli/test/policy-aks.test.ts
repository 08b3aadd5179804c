import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatRequestStream, parseRequestStream } from "@contrast/policy";
import { describe, expect, it } from "vitest";
import { REPO, runBundle, tempDir } from "./helpers.js";
import type { Req } from "./tampers.js";

/**
 * The AKS-CLH-SNP profile end to end through the built CLI: `policy generate --platform
 * aks-clh-snp` writes a policy for Contrast v1.5 on AKS (Microsoft's genpolicy fork), `policy
 * requests --platform aks-clh-snp` builds what that platform's runtime sends (host-pulled layers
 * through the tardev snapshotter at Contrast's per-runtime directory, the shared-fs emptyDir, the
 * pause container, OCI 1.1.0-rc.1), and `policy check` decides them from the annotation alone.
 */
const IMAGES = join(REPO, "testdata/genpolicy/fixture-images.json");
const PINNED = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";

const POD = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      runtimeClassName: contrast-cc
      volumes:
        - name: contrast-secrets
          emptyDir: {}
      initContainers:
        - name: contrast-initializer
          image: ${PINNED}
          command: ["/pause", "--init"]
          volumeMounts:
            - name: contrast-secrets
              mountPath: /contrast
      containers:
        - name: app
          image: ${PINNED}
          command: ["/pause", "--serve"]
          volumeMounts:
            - name: contrast-secrets
              mountPath: /contrast
              readOnly: true
`;

const contrast = runBundle;

interface Checked {
  readonly allowed: number;
  readonly decisions: { kind: string; allowed: boolean; reasons?: { message: string }[] }[];
}

describe("policy generate/requests/check --platform aks-clh-snp (built CLI)", () => {
  it("allows the AKS runtime's requests and denies tampered ones and a QEMU runtime's", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "pod.yaml"), POD);
    copyFileSync(IMAGES, join(dir, "images.json"));
    const flags = ["--platform", "aks-clh-snp", "--image-metadata", "images.json"];
    const gen = contrast(dir, ["policy", "generate", "pod.yaml", ...flags]);
    expect(gen.status, gen.stdout + gen.stderr).toBe(0);
    expect(gen.stdout + gen.stderr).toContain("AKS-CLH-SNP");
    const req = contrast(dir, ["policy", "requests", "pod.yaml", ...flags, "--output-file", "honest.txt"]);
    expect(req.status, req.stderr).toBe(0);
    const honest = parseRequestStream(readFileSync(join(dir, "honest.txt"), "utf8")) as { name: string; input: Req }[];
    const creates = honest.filter((r) => r.name === "CreateContainerRequest");
    expect(creates.length).toBe(3);
    const app = creates[2]?.input as Req;
    const overlay = app.storages.find((s: Req) => s.driver === "overlayfs");
    expect(overlay.options[0]).toMatch(/tardev-contrast-cc-aks-clh-snp-[0-9a-f]{8}\/layers$/);
    expect(
      app.storages.some((s: Req) => s.driver === "local" && /\/local\/contrast-secrets$/.test(s.mount_point)),
    ).toBe(true);
    // A log read, which this platform allows.
    const logs = {
      name: "ReadStreamRequest",
      input: { container_id: app.container_id, exec_id: app.exec_id, len: 4096 },
    };
    writeFileSync(join(dir, "honest.txt"), formatRequestStream([...honest, logs]));

    const ok = contrast(dir, ["policy", "check", "pod.yaml", "--requests", "honest.txt", "-o", "json"]);
    const okJson = JSON.parse(ok.stdout) as Checked;
    expect(okJson.decisions.filter((d) => !d.allowed).map((d) => d.reasons?.map((r) => r.message))).toEqual([]);
    expect(ok.status).toBe(0);
    expect(okJson.allowed).toBe(honest.length + 1);

    const tamper = (change: (r: Req) => void) => {
      const input = structuredClone(app);
      change(input);
      return { name: "CreateContainerRequest", input };
    };
    const bad = [
      tamper((r) => {
        r.storages.find((s: Req) => s.driver === "overlayfs").options[0] =
          "io.katacontainers.fs-opt.layer-src-prefix=/var/lib/containerd/io.containerd.snapshotter.v1.tardev/layers";
      }),
      tamper((r) => {
        r.OCI.Version = "1.2.0";
      }),
      tamper((r) => {
        const local = r.storages.find((s: Req) => s.driver === "local");
        const moved = local.mount_point.replace("/local/", "/rootfs/local/");
        for (const m of r.OCI.Mounts) if (m.source === local.mount_point) m.source = moved;
        local.mount_point = moved;
      }),
    ];
    writeFileSync(join(dir, "tampered.txt"), formatRequestStream([...honest, ...bad]));
    const r = contrast(dir, ["policy", "check", "pod.yaml", "--requests", "tampered.txt", "-o", "json"]);
    expect(r.status).toBe(2);
    const json = JSON.parse(r.stdout) as Checked;
    expect(json.decisions.slice(0, honest.length).every((d) => d.allowed)).toBe(true);
    expect(json.decisions.slice(honest.length).map((d) => d.allowed)).toEqual([false, false, false]);
    expect(json.decisions.slice(honest.length).every((d) => (d.reasons ?? []).length > 0)).toBe(true);

    // The same pod as a QEMU platform's runtime presents it is not what this policy allows.
    const qemu = contrast(dir, [
      "policy",
      "requests",
      "pod.yaml",
      "--platform",
      "metal-qemu-snp",
      "--image-metadata",
      "images.json",
      "--output-file",
      "qemu.txt",
    ]);
    expect(qemu.status, qemu.stderr).toBe(0);
    const other = contrast(dir, ["policy", "check", "pod.yaml", "--requests", "qemu.txt", "-o", "json"]);
    expect(other.status).toBe(2);
  }, 120_000);
});
