import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ImageMetadataSource, loadImageMetadataFile, nodeFileSystem } from "@contrast/oci";
import { generatePolicies, policyProfile } from "@contrast/policy";
import { expectCodeAsync, scratchDir, thrownBy } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admitExec, admitPod, buildDemoImages, type DemoImage } from "../src/index.js";

const TINY = join(import.meta.dirname, "fixtures", "tiny-app");

let images: ImageMetadataSource;
let tiny: DemoImage;
let other: DemoImage;

beforeAll(async () => {
  const dir = scratchDir();
  // A second app with another file: another image the tamper test swaps in.
  const otherApp = join(dir, "other");
  cpSync(TINY, otherApp, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(otherApp, "package.json"), "utf8"));
  pkg.image.name = "other-app";
  writeFileSync(join(otherApp, "package.json"), JSON.stringify(pkg));
  writeFileSync(join(otherApp, "bin", "serve.js"), "console.log('other');\n");
  const built = await buildDemoImages({
    apps: [
      { name: "tiny-app", packageDir: TINY },
      { name: "other-app", packageDir: otherApp },
    ],
    layoutDir: join(dir, "layout"),
    version: "0.0.1",
  });
  [tiny, other] = built.images as [DemoImage, DemoImage];
  images = await loadImageMetadataFile(nodeFileSystem, built.metadataFile, "kata");
});
afterAll(async () => {
  await images?.close();
});

const deployment = (image: string, mode = "production") => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 1
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      runtimeClassName: contrast-cc
      volumes:
        - name: config
          configMap:
            name: web-config
            items:
              - key: app.conf
                path: conf/app.conf
        - name: token
          secret:
            secretName: web-token
        - name: scratch
          emptyDir: {}
      initContainers:
        - name: setup
          image: ${image}
          args: ["--setup"]
          volumeMounts:
            - name: scratch
              mountPath: /scratch
        - name: helper
          image: ${image}
          restartPolicy: Always
          args: ["--helper"]
          startupProbe:
            exec:
              command: ["test", "-f", "/ready"]
            periodSeconds: 2
      containers:
        - name: app
          image: ${image}
          env:
            - name: MODE
              value: ${mode}
            - name: POD_IP
              valueFrom:
                fieldRef:
                  fieldPath: status.podIP
          ports:
            - name: http
              containerPort: 8080
          readinessProbe:
            httpGet:
              path: /healthz
              port: http
          livenessProbe:
            tcpSocket:
              port: 8080
            failureThreshold: 5
          volumeMounts:
            - name: config
              mountPath: /etc/web
              readOnly: true
            - name: token
              mountPath: /var/run/token
            - name: scratch
              mountPath: /scratch
              subPath: app
`;

const CONFIG = [
  {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "web-config", namespace: "shop" },
    data: { "app.conf": "port=8080\n", other: "x" },
  },
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "web-token", namespace: "shop" },
    data: { token: Buffer.from("s3cret").toString("base64") },
    stringData: { extra: "plain" },
  },
];

async function generated(yaml: string) {
  const g = await generatePolicies(yaml, { images, profile: policyProfile("sim") });
  return { yaml: g.yaml, hash: g.workloads[0]?.policyHash };
}

const POD = { podName: "web-7c9d8-abcde", namespace: "shop", documents: CONFIG } as const;

describe("admitPod", () => {
  it("allows the deployed workload its policy was generated for, and runs the processes of the allowed requests", async () => {
    const { yaml, hash } = await generated(deployment(tiny.reference));
    const a = await admitPod({ ...POD, yaml, images, podIp: "10.77.0.5" });
    expect(a.denial).toBeUndefined();
    expect(a.allowed).toBe(true);
    expect(a.policyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.policyHash).toBe(hash);
    expect(a.hostname).toBe("web-7c9d8-abcde");
    expect(a.labels).toEqual({ app: "web" });
    expect(a.annotations["io.katacontainers.config.agent.policy"]).toBeDefined();
    expect(a.containers.map((c) => [c.name, c.role, c.restartPolicy])).toEqual([
      ["setup", "init", "OnFailure"],
      ["helper", "sidecar", "Always"],
      ["app", "main", "Always"],
    ]);
    const [setup, helper, app] = a.containers;
    // Args: the image's entrypoint with the pod spec's args; cwd: the image's WorkingDir.
    expect(setup?.args).toEqual(["/usr/local/bin/node", "/opt/tiny/serve.js", "--setup"]);
    expect(app?.args).toEqual(["/usr/local/bin/node", "/opt/tiny/serve.js", "--port", "8080"]);
    expect(app?.cwd).toBe("/opt/tiny");
    expect(app?.user).toEqual({ uid: 0, gid: 0 });
    expect(app?.env).toContain("MODE=production");
    expect(app?.env).toContain("POD_IP=10.77.0.5");
    expect(app?.env).toContain("HOSTNAME=web-7c9d8-abcde");
    expect(app?.env).toContain("NODE_ENV=production");
    expect(app?.ports).toEqual([{ containerPort: 8080, protocol: "TCP", name: "http" }]);
    expect(app?.probes).toEqual([
      {
        type: "liveness",
        action: { kind: "tcpSocket", port: 8080 },
        allowed: true,
        initialDelaySeconds: 0,
        periodSeconds: 10,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 5,
      },
      {
        type: "readiness",
        action: { kind: "httpGet", port: 8080, path: "/healthz", scheme: "HTTP" },
        allowed: true,
        initialDelaySeconds: 0,
        periodSeconds: 10,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      },
    ]);
    expect(helper?.probes).toEqual([
      {
        type: "startup",
        action: { kind: "exec", command: ["test", "-f", "/ready"] },
        allowed: true,
        initialDelaySeconds: 0,
        periodSeconds: 2,
        timeoutSeconds: 1,
        successThreshold: 1,
        failureThreshold: 3,
      },
    ]);
    expect(app?.volumeMounts).toEqual([
      { name: "config", mountPath: "/etc/web", readOnly: true },
      { name: "token", mountPath: "/var/run/token", readOnly: false },
      { name: "scratch", mountPath: "/scratch", readOnly: false, subPath: "app" },
    ]);
    expect(a.volumes).toEqual([
      { name: "config", kind: "files", files: { "conf/app.conf": "port=8080\n" } },
      { name: "token", kind: "files", files: { token: "s3cret", extra: "plain" } },
      { name: "scratch", kind: "emptyDir" },
    ]);
  });

  it("blocks a pod whose YAML was changed after generating (an env var), with the reasons policy check gives", async () => {
    const { yaml } = await generated(deployment(tiny.reference));
    const tampered = yaml.replace("value: production", "value: debug");
    expect(tampered).not.toBe(yaml);
    const a = await admitPod({ ...POD, yaml: tampered, images });
    expect(a.allowed).toBe(false);
    expect(a.denial?.request).toBe("CreateContainerRequest");
    expect(a.denial?.container).toBe("app");
    expect(a.denial?.reasons.some((r) => r.field === "env" && r.message.includes('request "debug"'))).toBe(true);
    expect(a.denial?.text).toContain(
      'CreateContainerRequest for container "app": denied by data.agent_policy.CreateContainerRequest',
    );
    expect(a.denial?.text).toContain('env MODE: policy "production", request "debug"');
    // The init containers before it were allowed; the runtime starts none of them (allowed: false).
    expect(a.containers.map((c) => c.name)).toEqual(["setup", "helper"]);
  });

  it("blocks a pod whose image was swapped after generating", async () => {
    const { yaml } = await generated(deployment(tiny.reference));
    const a = await admitPod({ ...POD, yaml: yaml.replaceAll(tiny.reference, other.reference), images });
    expect(a.allowed).toBe(false);
    expect(a.denial?.container).toBe("setup");
    expect(a.containers).toEqual([]);
    expect(a.denial?.reasons.length).toBeGreaterThan(0);
  });

  it("marks an exec probe the policy denies as failing, without blocking the pod", async () => {
    const { yaml } = await generated(deployment(tiny.reference));
    // Only the probe's command changes: CreateContainer still matches, the exec does not.
    const tampered = yaml.replace(/\[ ?"test", "-f", "\/ready" ?\]/, '["sh", "-c", "cat /etc/shadow"]');
    expect(tampered).not.toBe(yaml);
    const a = await admitPod({ ...POD, yaml: tampered, images });
    expect(a.allowed).toBe(true);
    const probe = a.containers.find((c) => c.name === "helper")?.probes[0];
    expect(probe?.allowed).toBe(false);
    expect(probe?.denial?.request).toBe("ExecProcessRequest");
    expect(probe?.denial?.text).toContain("ExecProcessRequest");
  });

  it("decides execs at run time with the pod's policy", async () => {
    const { yaml } = await generated(deployment(tiny.reference));
    const a = await admitPod({ ...POD, yaml, images });
    expect(admitExec(a, "helper", ["test", "-f", "/ready"]).allowed).toBe(true);
    const denied = admitExec(a, "helper", ["sh", "-c", "id"]);
    expect(denied.allowed).toBe(false);
    expect(denied.denial?.container).toBe("helper");
    expect(admitExec(a, "app", ["test", "-f", "/ready"]).allowed).toBe(false);
    expect((thrownBy(() => admitExec(a, "nope", ["true"])) as { code?: string }).code).toBe(
      "LOCALRUN_EXEC_CONTAINER_UNKNOWN",
    );
  });

  it("blocks a Contrast pod without a policy and admits a pod outside Contrast's runtime classes", async () => {
    const plain = deployment(tiny.reference);
    const blocked = await admitPod({ ...POD, yaml: plain, images });
    expect(blocked.allowed).toBe(false);
    expect(blocked.denial?.reasons[0]?.field).toBe("policy");
    expect(blocked.policyHash).toBeUndefined();
    const outside = await admitPod({
      ...POD,
      yaml: plain.replace("runtimeClassName: contrast-cc", "runtimeClassName: runc"),
      images,
    });
    expect(outside.allowed).toBe(true);
    expect(outside.policyHash).toBeUndefined();
    expect(outside.containers).toHaveLength(3);
    expect(admitExec(outside, "app", ["anything"]).allowed).toBe(true);
  });

  it("takes the policy from an initdata annotation, with initdata's hash, and env values from the deployed ConfigMaps", async () => {
    const pod = `
apiVersion: v1
kind: Pod
metadata:
  name: one
  namespace: shop
spec:
  runtimeClassName: contrast-cc
  containers:
    - name: one
      image: ${tiny.reference}
      env:
        - name: CONF
          valueFrom:
            configMapKeyRef:
              name: web-config
              key: other
`;
    const g = await generatePolicies(pod, {
      images,
      profile: policyProfile("sim"),
      annotation: "initdata",
      configFiles: [CONFIG.map((c) => JSON.stringify(c)).join("\n---\n")],
    });
    expect(g.workloads[0]?.annotation).toBe("initdata");
    const a = await admitPod({ yaml: g.yaml, documents: CONFIG, images, podName: "one", namespace: "shop" });
    expect(a.denial).toBeUndefined();
    expect(a.policyHash).toBe(g.workloads[0]?.policyHash);
    expect(a.containers[0]?.env).toContain("CONF=x");
    // The ConfigMap as deployed differs from the one the policy was made with: blocked.
    const changed = [{ ...CONFIG[0], data: { other: "y" } }, CONFIG[1]];
    const b = await admitPod({ yaml: g.yaml, documents: changed, images, podName: "one", namespace: "shop" });
    expect(b.allowed).toBe(false);
    expect(b.denial?.container).toBe("one");
  });

  it("names a StatefulSet's claims after the pod, as the controller does", async () => {
    const sts = `
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: db
          image: ${tiny.reference}
          volumeMounts:
            - name: data
              mountPath: /var/lib/db
  volumeClaimTemplates:
    - metadata: { name: data }
      spec:
        accessModes: [ReadWriteOnce]
        resources: { requests: { storage: 1Gi } }
`;
    const { yaml } = await generated(sts);
    const a = await admitPod({ yaml, images, podName: "db-0", namespace: "default" });
    expect(a.allowed).toBe(true);
    expect(a.volumes).toEqual([{ name: "data", kind: "claim", claim: "data-db-0" }]);
    expect(a.containers[0]?.volumeMounts).toEqual([{ name: "data", mountPath: "/var/lib/db", readOnly: false }]);
  });

  it("refuses what the local runtime cannot provide", async () => {
    const { yaml } = await generated(deployment(tiny.reference));
    await expectCodeAsync(() => admitPod({ ...POD, documents: [], yaml, images }), "LOCALRUN_VOLUME_SOURCE_MISSING");
    const hostPath = deployment(tiny.reference).replace("emptyDir: {}", "hostPath: { path: /etc }");
    await expectCodeAsync(() => admitPod({ ...POD, yaml: hostPath, images }), "LOCALRUN_VOLUME_UNSUPPORTED");
    await expectCodeAsync(
      () => admitPod({ ...POD, yaml: `${yaml}\n---\n${yaml}`, images }),
      "LOCALRUN_WORKLOAD_INVALID",
    );
  });
});
