import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import {
  applyJsonPatch,
  DEFAULT_SETTINGS,
  formatRequestStream,
  parseRequestStream,
  settingsToJson,
} from "@contrast/policy";
import { describe, expect, it } from "vitest";
import { cli, REPO, runBundle, tempDir } from "./helpers.js";
import { type Checked, type Req, tampers } from "./tampers.js";

/**
 * End to end through the built CLI: `policy generate` annotates a workload, `policy requests`
 * builds what an honest runtime sends for it (from the pod spec, the images and the settings, not
 * from the policy), and `policy check` allows all of it; each tamper of an honest request is
 * denied with a reason in the user's words.
 */
const GENPOLICY = join(REPO, "testdata/genpolicy");
const KATA_CASES = join(GENPOLICY, "kata-tests");
const IMAGES = join(GENPOLICY, "fixture-images.json");
const PINNED = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";

interface Workload {
  readonly name: string;
  readonly dir: string;
  /** Files of the directory besides pod.yaml that hold ConfigMaps and Secrets. */
  readonly config: readonly string[];
  /** Its settings require a guest-pull storage for every container. */
  readonly guestPullRequired?: boolean;
}

function kataCases(dir = KATA_CASES): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!statSync(path).isDirectory()) continue;
    if (readdirSync(path).includes("pod.yaml")) out.push(path);
    out.push(...kataCases(path));
  }
  return out;
}

/** A workload in a fresh directory with its settings.json; Kata's pods get our runtime class. */
function prepare(name: string, yaml: string, settings: string, config: Record<string, string> = {}): Workload {
  const dir = tempDir();
  writeFileSync(join(dir, "pod.yaml"), yaml.replace(/runtimeClassName: .*/g, "runtimeClassName: contrast-cc"));
  writeFileSync(join(dir, "settings.json"), settings);
  copyFileSync(IMAGES, join(dir, "images.json"));
  for (const [file, text] of Object.entries(config)) writeFileSync(join(dir, file), text);
  return { name, dir, config: Object.keys(config) };
}

const contrast = (w: Workload, args: string[]) => runBundle(w.dir, args);

// Kata's own cases and settings model stock Kata's runtime, so its profile sends the requests
// (the default platform's containerd writes another OCI version than these settings expect).
const common = (w: Workload) => [
  "--platform",
  "kata",
  "--settings",
  "settings.json",
  "--image-metadata",
  "images.json",
  ...w.config.flatMap((c) => ["--config", c]),
];

const kata = kataCases().map((dir) => {
  const files = readdirSync(dir);
  const config = Object.fromEntries(
    files.filter((f) => f !== "pod.yaml" && /\.ya?ml$/.test(f)).map((f) => [f, readFileSync(join(dir, f), "utf8")]),
  );
  return () =>
    prepare(
      relative(KATA_CASES, dir),
      readFileSync(join(dir, "pod.yaml"), "utf8"),
      readFileSync(join(GENPOLICY, "genpolicy-settings.json"), "utf8"),
      config,
    );
});

const OWN = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: server
  namespace: shop
spec:
  template:
    spec:
      runtimeClassName: contrast-cc
      securityContext:
        runAsUser: 1000
        fsGroup: 2000
      volumes:
        - name: scratch
          emptyDir: {}
        - name: config
          configMap:
            name: server-config
      initContainers:
        - name: setup
          image: ${PINNED}
          command: ["/pause", "--init"]
      containers:
        - name: server
          image: ${PINNED}
          command: ["/pause"]
          args: ["--listen", ":8080", "/app/server"]
          env:
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: GREETING
              value: "hello $(POD_NAME)"
          readinessProbe:
            exec:
              command: ["/pause", "--ready"]
          volumeMounts:
            - name: scratch
              mountPath: /scratch
            - name: config
              mountPath: /etc/server
              readOnly: true
`;
const hostPulled = settingsToJson(
  applyJsonPatch(DEFAULT_SETTINGS, [
    { op: "replace", path: "/cluster_config/guest_pull", value: false },
    { op: "replace", path: "/cluster_config/emptydir_type", value: "shared-fs" },
  ]),
);
const guestPullRequired = settingsToJson(
  applyJsonPatch(DEFAULT_SETTINGS, [{ op: "add", path: "/cluster_config/guest_pull_required", value: true }]),
);
const own = [
  () =>
    prepare("own Deployment, default settings (guest pull, encrypted emptyDir)", OWN, settingsToJson(DEFAULT_SETTINGS)),
  () => prepare("own Deployment, host-pulled layers, shared-fs emptyDir", OWN, hostPulled),
  () => ({
    ...prepare("own Deployment, guest pull required (Contrast's rules)", OWN, guestPullRequired),
    guestPullRequired: true,
  }),
];

describe("policy generate → policy requests → policy check (built CLI)", () => {
  for (const make of [...own, ...kata]) {
    const w = make();
    it(`${w.name}: honest requests are allowed, every tamper is denied with its reason`, () => {
      const gen = contrast(w, ["policy", "generate", "pod.yaml", ...common(w), "-o", "json"]);
      expect(gen.status, gen.stdout + gen.stderr).toBe(0);
      const req = contrast(w, ["policy", "requests", "pod.yaml", ...common(w), "--output-file", "honest.txt"]);
      expect(req.status, req.stderr).toBe(0);
      const honest = parseRequestStream(readFileSync(join(w.dir, "honest.txt"), "utf8")) as {
        name: string;
        input: Req;
      }[];
      expect(honest[0]?.name).toBe("CreateSandboxRequest");
      expect(honest.filter((r) => r.name === "CreateContainerRequest").length).toBeGreaterThanOrEqual(2);

      const ok = contrast(w, ["policy", "check", "pod.yaml", "--requests", "honest.txt", "-o", "json"]);
      const okJson = JSON.parse(ok.stdout) as Checked;
      expect(
        okJson.decisions.filter((d) => !d.allowed).map((d) => `${d.kind}: ${d.reasons?.map((r) => r.message)}`),
      ).toEqual([]);
      expect(ok.status).toBe(0);
      expect(okJson.allowed).toBe(honest.length);

      const bad = tampers(honest, { guestPullRequired: w.guestPullRequired === true });
      writeFileSync(join(w.dir, "tampered.txt"), formatRequestStream([...honest, ...bad.map((t) => t.request)]));
      const r = contrast(w, ["policy", "check", "pod.yaml", "--requests", "tampered.txt", "-o", "json"]);
      expect(r.status).toBe(2);
      const json = JSON.parse(r.stdout) as Checked;
      expect(json.decisions.slice(0, honest.length).every((d) => d.allowed)).toBe(true);
      const got = json.decisions.slice(honest.length).map((d, i) => ({
        what: bad[i]?.what,
        allowed: d.allowed,
        explained: (d.reasons ?? []).some((x) => x.message.includes(bad[i]?.reason ?? "\u0000")),
        reasons:
          d.allowed || (d.reasons ?? []).some((x) => x.message.includes(bad[i]?.reason ?? "\u0000"))
            ? []
            : d.reasons?.map((x) => x.message),
      }));
      expect(got).toEqual(bad.map((t) => ({ what: t.what, allowed: false, explained: true, reasons: [] })));
    }, 60_000);
  }
});

describe("policy check --honest and policy requests: options and errors", () => {
  it("checks every annotated workload of a YAML with its own policy, in one command", async () => {
    const w = own[1]?.() as Workload;
    const gen = contrast(w, ["policy", "generate", "pod.yaml", ...common(w)]);
    expect(gen.status, gen.stderr).toBe(0);
    const r = await cli(["policy", "check", "pod.yaml", "--honest", ...common(w), "-o", "json"], { cwd: w.dir });
    expect(r.status, r.stdout).toBe(0);
    const json = JSON.parse(r.stdout) as { ok: boolean; workloads: { workload: string; decisions: unknown[] }[] };
    expect(json.ok).toBe(true);
    expect(json.workloads.map((x) => [x.workload, x.decisions.length])).toEqual([["Deployment/server", 8]]);
    // The pod's name and namespace are parameters: a name the policy's regex does not accept is denied.
    const renamed = await cli(["policy", "check", "pod.yaml", "--honest", ...common(w), "--sandbox-name", "other-0"], {
      cwd: w.dir,
    });
    expect(renamed.status).toBe(2);
    expect(renamed.stdout).toContain('pause container: sandbox name "other-0" does not match the policy\'s');
  });

  it("exits 1 with a code when the YAML has no policy or an image is unknown", async () => {
    const w = prepare("plain", OWN, hostPulled);
    const none = await cli(["policy", "check", "pod.yaml", "--honest", ...common(w)], { cwd: w.dir });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain("[POLICY_ANNOTATION_MISSING]");
    writeFileSync(join(w.dir, "other.yaml"), OWN.replace(PINNED, "quay.io/unknown/image:1"));
    const missing = await cli(["policy", "requests", "other.yaml", ...common(w)], { cwd: w.dir });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/\[[A-Z_]+\]/);
  });

  it("writes the stream to stdout in the format policy check reads", async () => {
    const w = prepare("stdout", OWN, hostPulled);
    const r = await cli(["policy", "requests", "pod.yaml", ...common(w), "--namespace", "prod"], { cwd: w.dir });
    expect(r.status, r.stderr).toBe(0);
    const stream = parseRequestStream(r.stdout);
    expect(stream.map((x) => x.name)).toEqual([
      "CreateSandboxRequest",
      "CreateContainerRequest",
      "StartContainerRequest",
      "CreateContainerRequest",
      "StartContainerRequest",
      "CreateContainerRequest",
      "StartContainerRequest",
      "ExecProcessRequest",
    ]);
    const create = stream[1]?.input as Req;
    expect(create.OCI.Annotations["io.kubernetes.cri.sandbox-namespace"]).toBe("prod");
  });
});

describe("every workload kind through the built CLI", () => {
  const spec = (indent: string) =>
    ["runtimeClassName: contrast-cc", "containers:", "  - name: app", `    image: ${PINNED}`]
      .map((l) => `${indent}${l}`)
      .join("\n");
  const template = (kind: string, apiVersion: string, name: string) =>
    `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: ${name}, namespace: shop}\nspec:\n  template:\n    spec:\n${spec("      ")}\n`;
  const yaml = [
    `apiVersion: v1\nkind: Pod\nmetadata: {name: p1}\nspec:\n${spec("  ")}\n`,
    template("Deployment", "apps/v1", "d1"),
    template("StatefulSet", "apps/v1", "s1"),
    template("DaemonSet", "apps/v1", "ds1"),
    template("ReplicaSet", "apps/v1", "rs1"),
    template("ReplicationController", "v1", "rc1"),
    template("Job", "batch/v1", "j1"),
    `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c1}\nspec:\n  schedule: "* * * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n${spec("          ")}\n`,
  ].join("---\n");

  it("policy check --honest allows each workload's honest requests with its own policy", () => {
    const w = prepare("all kinds", yaml, settingsToJson(DEFAULT_SETTINGS));
    const gen = contrast(w, ["policy", "generate", "pod.yaml", ...common(w)]);
    expect(gen.status, gen.stderr).toBe(0);
    const r = contrast(w, ["policy", "check", "pod.yaml", "--honest", ...common(w), "-o", "json"]);
    expect(r.status, r.stdout).toBe(0);
    const json = JSON.parse(r.stdout) as { workloads: { workload: string; decisions: { allowed: boolean }[] }[] };
    expect(json.workloads.map((x) => x.workload)).toEqual([
      "Pod/p1",
      "Deployment/d1",
      "StatefulSet/s1",
      "DaemonSet/ds1",
      "ReplicaSet/rs1",
      "ReplicationController/rc1",
      "Job/j1",
      "CronJob/c1",
    ]);
    expect(json.workloads.every((x) => x.decisions.length === 5 && x.decisions.every((d) => d.allowed))).toBe(true);
  }, 60_000);
});
