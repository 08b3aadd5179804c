// The demo's own resources (apps/cli/src/demo/resources) through what `contrast generate` does to
// them (@contrast/kube's patchWorkload, the sim profile's policies) and then admission: each pod
// of the demo must be admitted as deployed, and the injected containers must come out as the
// runtime needs them. The images are stand-ins named like the demo's (admission reads only their
// configs); the real bundles are the e2e test's business (apps/cli/test/demo.test.ts).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  parseEgressConfig,
  parseIngressConfig,
  parseYamlDocuments,
  patchWorkload,
  serializeYamlDocuments,
} from "@contrast/kube";
import { runtimeHandler } from "@contrast/manifest";
import { type ImageMetadataSource, loadImageMetadataFile, nodeFileSystem } from "@contrast/oci";
import { generatePolicies, policyProfile } from "@contrast/policy";
import { repoPath, scratchDir } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admitPod, buildDemoImages, controllerPodName, type PodAdmission } from "../src/index.js";

const RESOURCES = repoPath("apps", "cli", "src", "demo", "resources");
const APPS = ["coordinator", "demo-app", "initializer", "service-mesh"] as const;
const ENTRY: Record<(typeof APPS)[number], string> = {
  coordinator: "contrast-coordinator.cjs",
  "demo-app": "demo-app.cjs",
  initializer: "contrast-initializer.cjs",
  "service-mesh": "service-mesh.cjs",
};

let images: ImageMetadataSource;
let refs: Record<string, string>;
let generated: Record<string, string>;
const hashes: Record<string, string> = {};

beforeAll(async () => {
  const dir = scratchDir();
  // Stand-in apps: each app's real "image" section (entrypoint, env, workdir) over a stub file.
  const apps = APPS.map((name) => {
    const pkg = JSON.parse(
      readFileSync(repoPath("apps", name === "service-mesh" ? "service-mesh" : name, "package.json"), "utf8"),
    );
    const appDir = join(dir, name);
    mkdirSync(join(appDir, "dist"), { recursive: true });
    writeFileSync(join(appDir, "dist", ENTRY[name]), "// stand-in\n");
    pkg.image.files = { [`dist/${ENTRY[name]}`]: `/opt/contrast/${ENTRY[name]}` };
    writeFileSync(join(appDir, "package.json"), JSON.stringify(pkg));
    return { name: pkg.image.name as string, packageDir: appDir };
  });
  const built = await buildDemoImages({ apps, layoutDir: join(dir, "layout"), version: "0.0.0-test" });
  refs = Object.fromEntries(built.images.map((i) => [i.name, i.reference]));
  images = await loadImageMetadataFile(nodeFileSystem, built.metadataFile, "kata");
  const handler = runtimeHandler("sim", "0a1b2c3d");
  generated = {};
  for (const file of ["coordinator.yml", "backend.yml", "frontend.yml"]) {
    const text = readFileSync(join(RESOURCES, file), "utf8").replace(/\{\{image:([a-z-]+)\}\}/g, (_m, n: string) => {
      const r = refs[n];
      if (r === undefined) throw new Error(`no image ${n}`);
      return r;
    });
    const docs = parseYamlDocuments(text, file).map((d) =>
      patchWorkload(d, {
        runtimeHandler: handler,
        initializer: { image: refs.initializer as string, coordinatorHost: "coordinator-ready" },
        serviceMesh: { image: refs["service-mesh"] as string },
      }),
    );
    const result = await generatePolicies(serializeYamlDocuments(docs), {
      images,
      profile: policyProfile("sim"),
      source: file,
    });
    for (const w of result.workloads) hashes[w.name] = w.policyHash;
    generated[file] = result.yaml;
  }
});
afterAll(async () => {
  await images?.close();
});

/** The fields of the demo's objects the wiring test reads. */
interface Doc {
  readonly metadata: { readonly name: string; readonly annotations: Readonly<Record<string, string>> };
  readonly spec: {
    readonly ports: readonly { readonly port: number }[];
    readonly template: {
      readonly spec: {
        readonly containers: readonly {
          readonly env: readonly { readonly name: string; readonly value: string }[];
          readonly ports: readonly { readonly containerPort: number }[];
        }[];
      };
    };
  };
}

const admit = (file: string, podName: string, yaml = generated[file] as string): Promise<PodAdmission> =>
  admitPod({ yaml, images, podName, namespace: "default" });

describe("the demo's resources", () => {
  it("admit the Coordinator with its claim, probes and sim arguments", async () => {
    const a = await admit("coordinator.yml", controllerPodName("StatefulSet", "coordinator"));
    expect(a.denial).toBeUndefined();
    expect(a.allowed).toBe(true);
    expect(a.policyHash).toBe(hashes.coordinator);
    expect(a.annotations["contrast.edgeless.systems/pod-role"]).toBe("coordinator");
    expect(a.runtimeClassName).toMatch(/^contrast-cc-/);
    expect(a.containers.map((c) => c.name)).toEqual(["coordinator"]);
    const [c] = a.containers;
    expect(c?.image).toBe(refs.coordinator);
    expect(c?.args).toEqual([
      "/usr/local/bin/node",
      "/opt/contrast/contrast-coordinator.cjs",
      "--platform",
      "sim",
      "--store",
      "fs",
      "--state-dir",
      "/var/lib/contrast/history",
    ]);
    expect(c?.probes.map((p) => [p.type, p.action])).toEqual([
      ["liveness", { kind: "httpGet", port: 9102, path: "/probe/liveness", scheme: "HTTP" }],
      ["readiness", { kind: "httpGet", port: 9102, path: "/probe/readiness", scheme: "HTTP" }],
      ["startup", { kind: "httpGet", port: 9102, path: "/probe/startup", scheme: "HTTP" }],
    ]);
    expect(a.volumes).toEqual([{ name: "state", kind: "claim", claim: "state-coordinator-0" }]);
    expect(c?.volumeMounts).toEqual([{ name: "state", mountPath: "/var/lib/contrast", readOnly: false }]);
  });

  it("admit the backend and the frontend with the injected initializer and service mesh", async () => {
    for (const [file, name] of [
      ["backend.yml", "backend"],
      ["frontend.yml", "frontend"],
    ] as const) {
      const podName = controllerPodName("Deployment", name);
      expect(podName).toMatch(new RegExp(`^${name}-[a-z0-9]{10}-[a-z0-9]{5}$`));
      const a = await admit(file, podName);
      expect(a.denial, file).toBeUndefined();
      expect(a.policyHash).toBe(hashes[name]);
      expect(a.containers.map((c) => [c.name, c.role])).toEqual([
        ["contrast-initializer", "init"],
        ["contrast-service-mesh", "sidecar"],
        [name, "main"],
      ]);
      const [init, mesh, app] = a.containers;
      expect(init?.env).toContain("COORDINATOR_HOST=coordinator-ready");
      expect(init?.volumeMounts).toEqual([{ name: "contrast-secrets", mountPath: "/contrast", readOnly: false }]);
      expect(mesh?.privileged).toBe(true);
      expect(mesh?.capabilities).toContain("CAP_NET_ADMIN");
      expect(mesh?.args).toEqual(["/usr/local/bin/node", "/opt/contrast/service-mesh.cjs", "-l", "debug"]);
      // The sidecar's startup probe is an exec: its ExecProcessRequest was allowed.
      expect(mesh?.probes).toEqual([
        expect.objectContaining({
          type: "startup",
          action: { kind: "exec", command: ["test", "-f", "/ready"] },
          allowed: true,
        }),
      ]);
      expect(app?.args).toEqual(["/usr/local/bin/node", "/opt/contrast/demo-app.cjs", name]);
      expect(app?.volumeMounts).toEqual([{ name: "contrast-secrets", mountPath: "/contrast", readOnly: false }]);
      expect(a.volumes).toEqual([{ name: "contrast-secrets", kind: "emptyDir" }]);
      if (name === "frontend") {
        expect(mesh?.env).toContain("CONTRAST_INGRESS_PROXY_CONFIG=frontend#8080#false");
        expect(mesh?.env).toContain("CONTRAST_EGRESS_PROXY_CONFIG=backend#127.137.0.1:8081#backend:8080");
        expect(app?.env).toContain("BACKEND_URL=http://127.137.0.1:8081/");
      } else {
        // Empty ingress: no variable, every port requires a mesh client certificate.
        expect(mesh?.env.some((e) => e.startsWith("CONTRAST_INGRESS_PROXY_CONFIG="))).toBe(false);
      }
    }
  });

  it("block a frontend whose env var was changed after generating, and one whose image was swapped", async () => {
    const yaml = generated["frontend.yml"] as string;
    const env = yaml.replace("value: http://127.137.0.1:8081/", "value: http://evil.example:8081/");
    expect(env).not.toBe(yaml);
    const a = await admit("frontend.yml", controllerPodName("Deployment", "frontend", 1), env);
    expect(a.allowed).toBe(false);
    expect(a.denial?.container).toBe("frontend");
    expect(a.denial?.text).toContain("BACKEND_URL");
    const swapped = yaml.replaceAll(refs["demo-app"] as string, refs.coordinator as string);
    expect(swapped).not.toBe(yaml);
    const b = await admit("frontend.yml", controllerPodName("Deployment", "frontend", 2), swapped);
    expect(b.allowed).toBe(false);
    expect(b.denial?.container).toBe("frontend");
  });

  it("wire the frontend's app to its egress listener and the listener to the backend's Service", () => {
    const docs = (file: string) =>
      parseYamlDocuments(readFileSync(join(RESOURCES, file), "utf8"), file).map((d) => d.value as Doc);
    const [frontend] = docs("frontend.yml") as [Doc];
    const [backend, backendService] = docs("backend.yml") as [Doc, Doc];
    const annotation = (d: Doc, key: string) => d.metadata.annotations[`contrast.edgeless.systems/${key}`] ?? "";
    const egress = parseEgressConfig(annotation(frontend, "servicemesh-egress"));
    const ingress = parseIngressConfig(annotation(frontend, "servicemesh-ingress"));
    expect(egress.problems).toEqual([]);
    expect(ingress.problems).toEqual([]);
    const [hop] = egress.entries;
    const env = frontend.spec.template.spec.containers[0]?.env ?? [];
    const url = new URL(env.find((e) => e.name === "BACKEND_URL")?.value ?? "");
    expect(`${url.hostname}:${url.port}`).toBe(`${hop?.listenAddress}:${hop?.listenPort}`);
    expect(hop?.remoteHost).toBe(backendService.metadata.name);
    expect(hop?.remotePort).toBe(backendService.spec.ports[0]?.port);
    expect(backend.spec.template.spec.containers[0]?.ports[0]?.containerPort).toBe(hop?.remotePort);
    // The frontend's port takes TLS without a client certificate; the backend's takes mesh peers only.
    expect(ingress.entries).toEqual([{ name: "frontend", port: 8080, disableTLS: false }]);
    expect(Object.hasOwn(backend.metadata.annotations, "contrast.edgeless.systems/servicemesh-ingress")).toBe(true);
    expect(annotation(backend, "servicemesh-ingress")).toBe("");
  });

  it("block a pod whose name its workload's controller would not give it (the policy pins the name's shape)", async () => {
    const a = await admit("frontend.yml", "not-the-frontend");
    expect(a.allowed).toBe(false);
    expect(a.denial?.container).toBe("pause");
  });
});
