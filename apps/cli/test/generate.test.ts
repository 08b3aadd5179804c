import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { describe, expect, it } from "vitest";
import { GOLDEN, INITIALIZER, imageMetadata, PINNED, SERVICE_MESH, withKeys } from "./generate-helpers.js";
import { cli, tempDir } from "./helpers.js";

const IMAGE = "registry.example/app:1.0";

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML walked by known paths; a wrong path fails the test
type Obj = Record<string, any>;

/** One of every workload kind, a List of two, and every Contrast annotation form. */
const EVERY_KIND = `# every workload kind
apiVersion: v1
kind: Pod
metadata:
  name: p1
spec:
  runtimeClassName: contrast-cc
  containers:
    - name: app
      image: ${IMAGE}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: coordinator
  namespace: contrast
spec:
  template:
    metadata:
      annotations:
        contrast.edgeless.systems/pod-role: coordinator
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: coordinator
          image: ${IMAGE}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: rs
  namespace: shop
spec:
  template:
    metadata:
      annotations:
        contrast.edgeless.systems/workload-secret-id: shared-secret
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: app
          image: ${IMAGE}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  annotations:
    contrast.edgeless.systems/servicemesh-ingress: "db#5432#false##metrics#9000#true"
    contrast.edgeless.systems/servicemesh-egress: "cache#127.137.0.1:6379#cache:6379"
    contrast.edgeless.systems/servicemesh-admin-interface-port: "9901"
spec:
  serviceName: db
  template:
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: db
          image: ${IMAGE}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ds
  annotations:
    contrast.edgeless.systems/skip-initializer: "true"
spec:
  template:
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: app
          image: ${IMAGE}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: job
spec:
  template:
    spec:
      runtimeClassName: contrast-cc
      restartPolicy: Never
      containers:
        - name: app
          image: ${IMAGE}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: cron
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          runtimeClassName: contrast-cc
          restartPolicy: Never
          containers:
            - name: app
              image: ${IMAGE}
---
apiVersion: v1
kind: ReplicationController
metadata:
  name: rc
spec:
  template:
    spec:
      runtimeClassName: kata-cc-isolation
      containers:
        - name: app
          image: ${IMAGE}
---
apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: listed-a
    spec:
      template:
        spec:
          runtimeClassName: contrast-cc
          containers:
            - name: app
              image: ${IMAGE}
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: listed-b
    spec:
      template:
        spec:
          containers:
            - name: app
              image: ${IMAGE}
---
apiVersion: v1
kind: Service
metadata:
  name: untouched # a comment that stays
`;

interface ManifestJson {
  Policies: Record<string, { SANs: string[]; WorkloadSecretID?: string; Role?: string }>;
  ReferenceValues: Record<string, unknown[]>;
  WorkloadOwnerKeyDigests: string[] | null;
  SeedshareOwnerPubKeys: string[] | null;
}

function workspace(yaml: string = EVERY_KIND, images: readonly string[] = [IMAGE, INITIALIZER, SERVICE_MESH]) {
  const dir = tempDir();
  writeFileSync(join(dir, "app.yaml"), yaml);
  writeFileSync(join(dir, "images.json"), imageMetadata(images));
  withKeys(dir);
  return dir;
}

const generate = (dir: string, ...extra: string[]) =>
  cli(["generate", "--reference-values", "metal-qemu-tdx", "--image-metadata", "images.json", ...extra, "app.yaml"], {
    cwd: dir,
  });

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as ManifestJson;

interface JsonDoc {
  ok: boolean;
  error?: { code: string; kind: string; hint: string; details?: Record<string, unknown> };
  warnings: { code?: string; message: string }[];
  workloads?: { kind: string; name: string; hash: string; workloadSecretId: string; role?: string }[];
  findings?: { code: string }[];
}

describe("contrast generate: every workload kind and annotation form", () => {
  it("gives each confidential workload its policy entry, sidecars and runtime handler", async () => {
    const dir = workspace();
    const r = await generate(dir, "-o", "json");
    const doc = JSON.parse(r.stdout) as JsonDoc & { runtimeHandler: string };
    expect(doc.error).toBeUndefined();
    expect(r.status).toBe(0);
    const manifest = manifestOf(dir);
    const entries = Object.values(manifest.Policies).sort((a, b) => (a.SANs[0] ?? "").localeCompare(b.SANs[0] ?? ""));
    expect(entries).toEqual([
      { SANs: ["coordinator", "*"], WorkloadSecretID: "apps/v1/Deployment/contrast/coordinator", Role: "coordinator" },
      { SANs: ["cron", "*"], WorkloadSecretID: "batch/v1/CronJob/default/cron" },
      { SANs: ["db", "*"], WorkloadSecretID: "apps/v1/StatefulSet/default/db" },
      { SANs: ["ds", "*"], WorkloadSecretID: "apps/v1/DaemonSet/default/ds" },
      { SANs: ["job", "*"], WorkloadSecretID: "batch/v1/Job/default/job" },
      { SANs: ["listed-a", "*"], WorkloadSecretID: "apps/v1/Deployment/default/listed-a" },
      { SANs: ["p1", "*"], WorkloadSecretID: "core/v1/Pod/default/p1" },
      { SANs: ["rc", "*"], WorkloadSecretID: "core/v1/ReplicationController/default/rc" },
      { SANs: ["rs", "*"], WorkloadSecretID: "shared-secret" },
    ]);
    // The JSON result lists the same workloads with the hashes that key the manifest.
    expect(doc.workloads?.map((w) => w.hash).sort()).toEqual(Object.keys(manifest.Policies).sort());

    const docs = loadAll(readFileSync(join(dir, "app.yaml"), "utf8")) as Obj[];
    const spec = (d: Obj) =>
      d.kind === "Pod" ? d.spec : d.kind === "CronJob" ? d.spec.jobTemplate.spec.template.spec : d.spec.template.spec;
    const byName = new Map(docs.filter((d) => d.kind !== "List").map((d) => [d.metadata.name as string, d]));
    const handler = doc.runtimeHandler;
    expect(handler).toMatch(/^contrast-cc-metal-qemu-tdx-[0-9a-f]{8}$/);
    for (const name of ["p1", "coordinator", "rs", "db", "ds", "job", "cron", "rc"]) {
      expect(spec(byName.get(name) as Obj).runtimeClassName, name).toBe(handler);
    }
    // The initializer: first init container everywhere, except where skipped by annotation and in the Coordinator.
    const initNames = (name: string) =>
      (spec(byName.get(name) as Obj).initContainers ?? []).map((c: { name: string }) => c.name);
    expect(initNames("p1")).toEqual(["contrast-initializer"]);
    expect(initNames("ds")).toEqual([]);
    expect(initNames("cron")).toEqual(["contrast-initializer"]);
    // The service mesh: the last init container, env from the object's annotations.
    expect(initNames("db")).toEqual(["contrast-initializer", "contrast-service-mesh"]);
    const mesh = spec(byName.get("db") as Obj).initContainers[1];
    expect(mesh.restartPolicy).toBe("Always");
    expect(mesh.env).toEqual(
      expect.arrayContaining([
        { name: "CONTRAST_INGRESS_PROXY_CONFIG", value: "db#5432#false##metrics#9000#true" },
        { name: "CONTRAST_EGRESS_PROXY_CONFIG", value: "cache#127.137.0.1:6379#cache:6379" },
        { name: "CONTRAST_ADMIN_PORT", value: "9901" },
      ]),
    );
    // The List keeps its items in place; the non-confidential item is left alone.
    const list = docs.find((d) => d.kind === "List") as Obj;
    expect(list.items[0].spec.template.spec.runtimeClassName).toBe(handler);
    expect(list.items[1].spec.template.spec.runtimeClassName).toBeUndefined();
    expect(readFileSync(join(dir, "app.yaml"), "utf8")).toContain("name: untouched # a comment that stays\n");

    // Each entry's hash is the SHA-256 of the policy in its annotation.
    const annotation = byName.get("p1")?.metadata.annotations["io.katacontainers.config.agent.policy"] as string;
    const hash = createHash("sha256").update(Buffer.from(annotation, "base64")).digest("hex");
    expect(manifest.Policies[hash]?.SANs).toEqual(["p1", "*"]);
  });

  it("changes no byte on a second run, and replaces the Policies but keeps the keys on a third with another key", async () => {
    const dir = workspace();
    expect((await generate(dir)).status).toBe(0);
    const yaml = readFileSync(join(dir, "app.yaml"), "utf8");
    const manifest = readFileSync(join(dir, "manifest.json"), "utf8");
    expect((await generate(dir)).status).toBe(0);
    expect(readFileSync(join(dir, "app.yaml"), "utf8")).toBe(yaml);
    expect(readFileSync(join(dir, "manifest.json"), "utf8")).toBe(manifest);

    // A second owner key is added beside the first; the list stays sorted.
    const other = join(dir, "other.pem");
    writeFileSync(other, readFileSync(join(GOLDEN, "workload-owner.pem")));
    const { generateKeyPairSync } = await import("node:crypto");
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
    writeFileSync(other, publicKey.export({ type: "spki", format: "pem" }));
    const before = manifestOf(dir).WorkloadOwnerKeyDigests as string[];
    expect((await generate(dir, "-w", "other.pem")).status).toBe(0);
    const after = manifestOf(dir).WorkloadOwnerKeyDigests as string[];
    const spkiDigest = createHash("sha256")
      .update(publicKey.export({ type: "spki", format: "der" }))
      .digest("hex");
    expect(after).toEqual([...before, spkiDigest].sort());
  });

  it("creates the workspace files with upstream's modes, and --disable-updates leaves no owner keys", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "app.yaml"), EVERY_KIND);
    writeFileSync(join(dir, "images.json"), imageMetadata([IMAGE, INITIALIZER, SERVICE_MESH]));
    copyFileSync(join(GOLDEN, "seedshare-owner.pem"), join(dir, "seedshare-owner.pem"));
    const r = await generate(dir, "-d", "-o", "json");
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, "workload-owner.pem"))).toBe(false);
    expect(manifestOf(dir).WorkloadOwnerKeyDigests).toBeNull();
    expect((await generate(dir)).status).toBe(0);
    const mode = (f: string) => statSync(join(dir, f)).mode & 0o777;
    expect(mode("workload-owner.pem")).toBe(0o600);
    expect(readFileSync(join(dir, "workload-owner.pem"), "utf8")).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    for (const f of ["settings.json", "rules.rego", "layers-cache.json", "manifest.json"])
      expect(mode(f), f).toBe(0o644);
    expect(manifestOf(dir).WorkloadOwnerKeyDigests).toHaveLength(1);
  });

  it("on a terminal: a progress line while the RSA key is made, symbols; piped: plain lines, no escapes", async () => {
    const fresh = () => {
      const dir = tempDir();
      writeFileSync(join(dir, "app.yaml"), EVERY_KIND);
      writeFileSync(join(dir, "images.json"), imageMetadata([IMAGE, INITIALIZER, SERVICE_MESH]));
      return dir;
    };
    const args = ["generate", "--reference-values", "metal-qemu-snp", "--image-metadata", "images.json", "app.yaml"];
    const tty = await cli(args, { cwd: fresh(), tty: true });
    expect(tty.status).toBe(0);
    expect(tty.stderr).toContain("\r\x1b[2KGenerating an RSA-4096 seed share owner key");
    expect(tty.stdout).toContain("✔ Updated manifest");
    const dir = fresh();
    const piped = await cli([...args, "-o", "json"], { cwd: dir });
    expect(piped.stderr).not.toContain("\x1b");
    const doc = JSON.parse(piped.stdout) as { files: { created: string[]; written: string[] } };
    expect(doc.files.created.map((f) => f.slice(dir.length + 1)).sort()).toEqual([
      "layers-cache.json",
      "rules.rego",
      "seedshare-owner.pem",
      "settings.json",
      "workload-owner.pem",
    ]);
    expect(doc.files.written.map((f) => f.slice(dir.length + 1))).toEqual(["app.yaml", "manifest.json"]);
    expect(readFileSync(join(dir, "seedshare-owner.pem"), "utf8")).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
  }, 60_000);

  it("--workspace-dir places the default files there; --output-file leaves the input alone", async () => {
    const dir = workspace();
    const ws = join(dir, "ws");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(ws);
    withKeys(ws);
    const input = readFileSync(join(dir, "app.yaml"), "utf8");
    const ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop # no confidential pod here\n";
    writeFileSync(join(dir, "ns.yaml"), ns);
    const r = await cli(
      [
        "generate",
        "--reference-values",
        "metal-qemu-tdx",
        "--image-metadata",
        "images.json",
        "--workspace-dir",
        "ws",
        "--output-file",
        "out.yaml",
        "app.yaml",
        "ns.yaml",
      ],
      { cwd: dir },
    );
    expect(r.stderr).not.toContain("Error");
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, "app.yaml"), "utf8")).toBe(input);
    const out = readFileSync(join(dir, "out.yaml"), "utf8");
    expect(out).toContain("contrast-initializer");
    // The whole deployment in one file: the file without confidential workloads too, unchanged.
    expect(out.endsWith(`---\n${ns}`)).toBe(true);
    expect(readFileSync(join(dir, "ns.yaml"), "utf8")).toBe(ns);
    expect(readdirSync(ws).sort()).toEqual([
      "layers-cache.json",
      "manifest.json",
      "rules.rego",
      "seedshare-owner.pem",
      "settings.json",
      "workload-owner.pem",
    ]);
  });

  it("warns to fill in the hardware reference values, and accepts the manifest it wrote on the next run", async () => {
    const dir = workspace();
    const r = await generate(dir, "-o", "json");
    const doc = JSON.parse(r.stdout) as JsonDoc;
    const fill = doc.warnings.find((w) => w.code === "CLI_REFERENCE_VALUES_TO_FILL") as { paths?: string[] };
    expect(fill).toMatchObject({ message: "Please fill in the reference values for Metal-QEMU-TDX" });
    expect(fill.paths).toContain("ReferenceValues.tdx[0].MrSeam");
    expect((await generate(dir)).status).toBe(0);
  });

  it("prints the workload lints as warnings, and --strict fails on them without writing anything", async () => {
    const dir = workspace();
    const before = readFileSync(join(dir, "app.yaml"), "utf8");
    const r = await generate(dir, "--strict", "-o", "json");
    expect(r.status).toBe(2);
    const doc = JSON.parse(r.stdout) as JsonDoc;
    expect(doc.ok).toBe(false);
    const codes = new Set(doc.findings?.map((f) => f.code));
    expect(codes).toContain("KUBE_MEMORY_LIMIT_MISSING");
    expect(codes).toContain("KUBE_IMAGE_UNPINNED");
    expect(readFileSync(join(dir, "app.yaml"), "utf8")).toBe(before);
    expect(existsSync(join(dir, "manifest.json"))).toBe(false);

    // A workload that follows every rule passes --strict.
    const clean = `apiVersion: v1
kind: Pod
metadata:
  name: clean
spec:
  runtimeClassName: contrast-cc
  containers:
    - name: app
      image: ${PINNED}
      resources:
        limits: {memory: 256Mi}
        requests: {memory: 256Mi}
`;
    const ok = workspace(clean, [PINNED, INITIALIZER, SERVICE_MESH]);
    const pinned = join(ok, "replacements.txt");
    writeFileSync(pinned, `# pin the injected images\n${INITIALIZER} = ${PINNED}\n${SERVICE_MESH}=${PINNED}\n`);
    const strict = await generate(ok, "--strict", "--image-replacements", "replacements.txt", "-o", "json");
    expect(JSON.parse(strict.stdout).error).toBeUndefined();
    expect(strict.status).toBe(0);
    expect(readFileSync(join(ok, "app.yaml"), "utf8")).not.toContain(INITIALIZER);
  });
});

describe("contrast generate: helm template output", () => {
  it("keeps the `# Source:` comments, empty documents and untouched documents byte for byte", async () => {
    // Shaped like `helm template` output (written by hand): a leading `---`, `# Source:` lines,
    // an empty document from a template that rendered nothing.
    const helm = `---
# Source: shop/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: shop
---
# Source: shop/templates/optional.yaml
---
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels:
    helm.sh/chart: shop-0.1.0 # chart label
spec:
  template:
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: shop
          image: ${IMAGE}
`;
    const dir = workspace(helm);
    const r = await generate(dir);
    expect(r.status).toBe(0);
    const out = readFileSync(join(dir, "app.yaml"), "utf8");
    expect(out.startsWith(helm.slice(0, helm.indexOf("# Source: shop/templates/deployment.yaml")))).toBe(true);
    expect(out).toContain("# Source: shop/templates/deployment.yaml\n");
    expect(out).toContain("helm.sh/chart: shop-0.1.0 # chart label");
    expect(out).toContain("contrast-initializer");
    expect(Object.values(manifestOf(dir).Policies).map((p) => p.WorkloadSecretID)).toEqual([
      "apps/v1/Deployment/default/shop",
    ]);
  });
});

describe("contrast generate: bad input gets a code and a hint", () => {
  const fails = async (dir: string, extra: string[], code: string, status = 1) => {
    const r = await generate(dir, ...extra, "-o", "json");
    const doc = JSON.parse(r.stdout) as JsonDoc;
    expect(doc.error?.code, r.stdout).toBe(code);
    expect(doc.error?.hint).toBeTruthy();
    expect(r.status).toBe(status);
    return doc;
  };

  it("broken YAML", async () => {
    const dir = workspace(`${EVERY_KIND}---\nkind: Pod\nmetadata: [unclosed\n`);
    const doc = await fails(dir, [], "KUBE_YAML_INVALID");
    expect(existsSync(join(dir, "manifest.json"))).toBe(false);
    expect(doc.error?.kind).toBe("input");
  });

  it("a resource without a name", async () => {
    const noName = EVERY_KIND.replace("metadata:\n  name: job\n", "metadata:\n  labels: {app: job}\n");
    expect(noName).not.toBe(EVERY_KIND);
    await fails(workspace(noName), [], "CLI_GENERATE_NAME_MISSING");
  });

  it("wrong service-mesh annotations: every error in every resource at once", async () => {
    const bad = EVERY_KIND.replace('"db#5432#false##metrics#9000#true"', '"db#54x32#false##metrics#9000"')
      .replace('"cache#127.137.0.1:6379#cache:6379"', '"cache#10.0.0.1:6379#cache:6379"')
      .replace('servicemesh-admin-interface-port: "9901"', 'servicemesh-admin-interface-port: "admin"');
    const doc = await fails(workspace(bad), [], "CLI_GENERATE_RESOURCES_INVALID");
    const problems = doc.error?.details?.problems as { code: string; entry?: string }[];
    expect(problems.map((p) => p.code).sort()).toEqual(
      expect.arrayContaining([
        "KUBE_MESH_ADMIN_PORT_INVALID",
        "KUBE_MESH_EGRESS_INVALID",
        "KUBE_MESH_INGRESS_INVALID",
        "KUBE_MESH_INGRESS_INVALID",
      ]),
    );
    expect(problems.length).toBeGreaterThanOrEqual(4);
    expect(problems.map((p) => p.entry)).toEqual(expect.arrayContaining(["db#54x32#false", "metrics#9000"]));
  });

  it("a pod-role that is not coordinator", async () => {
    const bad = EVERY_KIND.replace("pod-role: coordinator", "pod-role: leader");
    await fails(workspace(bad), [], "CLI_GENERATE_ROLE_INVALID");
  });

  it("two workloads of one name with the same policy (upstream's collision rule)", async () => {
    const pod = EVERY_KIND.slice(EVERY_KIND.indexOf("apiVersion: v1\nkind: Pod"), EVERY_KIND.indexOf("---\n"));
    await fails(workspace(`${pod}---\n${pod}`), [], "CLI_GENERATE_POLICY_COLLISION");
  });

  it("a wrong key type for -w and for --add-seedshare-owner-key", async () => {
    const dir = workspace();
    const w = await fails(dir, ["-w", "seedshare-owner.pem"], "KEY_WRONG_TYPE");
    expect(w.error?.hint).toMatch(/EC PRIVATE KEY|ECDSA/);
    const s = await fails(dir, ["--add-seedshare-owner-key", "workload-owner.pem"], "KEY_WRONG_TYPE");
    expect(s.error?.hint).toMatch(/RSA/);
    // An RSA public key is not a workload owner key either.
    const { createPublicKey } = await import("node:crypto");
    const pub = createPublicKey(readFileSync(join(dir, "seedshare-owner.pem"))).export({ type: "spki", format: "pem" });
    writeFileSync(join(dir, "rsa-pub.pem"), pub);
    await fails(dir, ["-w", "rsa-pub.pem"], "KEY_WRONG_TYPE");
    expect(existsSync(join(dir, "manifest.json"))).toBe(false);
  });

  it("usage: no --reference-values, an unknown platform, -d with -w, no YAML, no contrast-cc workload", async () => {
    const dir = workspace();
    const none = await cli(["generate", "app.yaml", "-o", "json"], { cwd: dir });
    expect(JSON.parse(none.stdout).error.code).toBe("CLI_USAGE");
    expect(none.status).toBe(1);
    await fails(dir, ["-d", "-w", "workload-owner.pem"], "CLI_USAGE");
    const unknown = await cli(["generate", "--reference-values", "metal-qemu-sev", "app.yaml", "-o", "json"], {
      cwd: dir,
    });
    expect(JSON.parse(unknown.stdout).error.code).toBe("PLATFORM_UNKNOWN");
    await fails(dir, ["missing.yaml"], "CLI_PATH_NOT_FOUND");
    const empty = tempDir();
    const r = await cli(["generate", "--reference-values", "sim", empty, "-o", "json"], { cwd: empty });
    expect(JSON.parse(r.stdout).error.code).toBe("POLICY_NO_INPUT");
    writeFileSync(join(empty, "svc.yaml"), "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n");
    const plain = await cli(["generate", "--reference-values", "sim", empty, "-o", "json"], { cwd: empty });
    expect(JSON.parse(plain.stdout).error.code).toBe("CLI_GENERATE_NO_CONFIDENTIAL_WORKLOAD");
  });

  it("a named owner key that does not exist, when more than one is named (nothing is created then)", async () => {
    const dir = workspace();
    await fails(dir, ["-w", "workload-owner.pem", "-w", "missing.pem"], "CLI_KEY_FILE_MISSING");
    expect(existsSync(join(dir, "missing.pem"))).toBe(false);
  });

  it("--reference-values sim without a sim directory to use", async () => {
    const dir = workspace();
    // In-process with an environment that has neither CONTRAST_SIM_DIR nor XDG_STATE_HOME nor HOME.
    const r = await cli(
      ["generate", "--reference-values", "sim", "--image-metadata", "images.json", "app.yaml", "-o", "json"],
      { cwd: dir, env: { NO_COLOR: "1" } },
    );
    expect(JSON.parse(r.stdout).error.code).toBe("CLI_SIM_DIR_UNSET");
    expect(r.status).toBe(1);
  });

  it("an existing manifest with errors is not overwritten", async () => {
    const dir = workspace();
    writeFileSync(join(dir, "manifest.json"), '{"Policies": {"zz": {"SANs": null}}, "ReferenceValues": {}}\n');
    await fails(dir, [], "CLI_GENERATE_MANIFEST_INVALID");
    expect(readFileSync(join(dir, "manifest.json"), "utf8")).toContain('"zz"');
  });

  it("a contrast-secrets volume that is not an emptyDir", async () => {
    const bad = EVERY_KIND.replace(
      "      restartPolicy: Never\n      containers:",
      "      restartPolicy: Never\n      volumes:\n        - name: contrast-secrets\n          hostPath: {path: /tmp}\n      containers:",
    );
    const doc = await fails(workspace(bad), [], "CLI_GENERATE_RESOURCES_INVALID");
    const problems = doc.error?.details?.problems as { code: string }[];
    expect(problems.map((p) => p.code)).toEqual(["KUBE_SECRETS_VOLUME_CONFLICT"]);
  });
});
