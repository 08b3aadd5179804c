import { readFileSync } from "node:fs";
import { join } from "node:path";
import { serializeYamlDocuments } from "@contrast/kube";
import type { ImageMetadata, ImageMetadataSource } from "@contrast/oci";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { dump, load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, generatePolicies, PolicyError, parseYamlDocuments } from "../src/index.js";
import type { ContainerPolicy } from "../src/policy-data/types.js";
import { corpusImageSource, REPO } from "./corpus.js";
import { fixtureImages } from "./fixtures/images.js";

const IMAGE = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";

/** The fixture images, recording every reference asked for. */
function recordingImages(): ImageMetadataSource & { readonly asked: string[] } {
  const inner = fixtureImages({ "registry.k8s.io/nginx-slim:0.7": nginx() });
  const asked: string[] = [];
  return {
    asked,
    close: () => inner.close(),
    get(reference: string): Promise<ImageMetadata> {
      asked.push(reference);
      return inner.get(reference);
    },
  };
}

function nginx() {
  return {
    digest: `sha256:${"a".repeat(64)}`,
    config: { Entrypoint: ["nginx"], Cmd: ["-g", "daemon off;"], Env: ["PATH=/usr/sbin:/usr/bin"] },
    layers: [{ diffId: `sha256:${"b".repeat(64)}`, verityHash: "c".repeat(64) }],
  };
}

const pod = (spec: string, container = "") => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  runtimeClassName: contrast-cc
  containers:
    - name: app
      image: ${IMAGE}${container}
${spec}`;

async function appContainer(yaml: string, source = "pod.yaml"): Promise<ContainerPolicy> {
  const r = await generatePolicies(yaml, { images: fixtureImages(), source });
  const c = r.workloads[0]?.policyData.containers[1];
  if (c === undefined) throw new Error("no container");
  return c;
}

async function failure(yaml: string, source = "in.yaml"): Promise<PolicyError> {
  try {
    await generatePolicies(yaml, { images: recordingImages(), source, runtimeClassPrefixes: [] });
  } catch (e) {
    if (e instanceof PolicyError) return e;
    throw e;
  }
  throw new Error("generation succeeded");
}

describe("StatefulSet volumeClaimTemplates", () => {
  const web = readFileSync(join(REPO, "testdata/kube/k8s-website/web.yaml"), "utf8");

  it("mounts each claim template as a shared directory, as genpolicy does (Kubernetes docs' web.yaml)", async () => {
    const images = recordingImages();
    const r = await generatePolicies(web, { images, runtimeClassPrefixes: [], source: "web.yaml" });
    expect(r.workloads.map((w) => `${w.kind}/${w.name}`)).toEqual(["StatefulSet/web"]);
    const c = r.workloads[0]?.policyData.containers[1];
    const mount = c?.OCI.Mounts.find((m) => m.destination === "/usr/share/nginx/html");
    // genpolicy: ^/run/kata-containers/shared/containers/$(bundle-id)-[a-z0-9]{16}-<basename>$,
    // which is the settings' $(sfprefix) followed by the basename.
    expect(mount).toEqual({
      destination: "/usr/share/nginx/html",
      source: "$(sfprefix)html$",
      type_: "bind",
      options: ["rbind", "rprivate", "rw"],
    });
    expect(DEFAULT_SETTINGS.common.sfprefix).toMatch(/^\^\$\(cpath\)\/.*\$\(bundle-id\)-\[a-z0-9\]\{16\}-$/);
    // No storage: the host mounts the claim and shares it; the agent does not mount a device.
    expect(c?.storages).toEqual([]);
    expect(r.workloads[0]?.policyData.containers[1]?.OCI.Annotations["io.kubernetes.cri.sandbox-name"]).toBe(
      "^web-[0-9]+$",
    );
  });

  it("prefers the claim over a pod volume of the same name, and honours readOnly", async () => {
    const yaml = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  template:
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: db
          image: ${IMAGE}
          volumeMounts: [{name: data, mountPath: /var/lib/db, readOnly: true}]
      volumes: [{name: data, emptyDir: {}}]
  volumeClaimTemplates: [{metadata: {name: data}, spec: {resources: {requests: {storage: 1Gi}}}}]
`;
    const c = (await generatePolicies(yaml, { images: fixtureImages() })).workloads[0]?.policyData.containers[1];
    expect(c?.OCI.Mounts.find((m) => m.destination === "/var/lib/db")).toMatchObject({
      source: "$(sfprefix)db$",
      options: ["rbind", "rprivate", "ro"],
    });
    expect(c?.storages).toEqual([]);
  });

  it("names the file, the full field path and both places a volume can come from when it is missing", async () => {
    const e = await failure(web.replace("name: www\n    spec:", "name: other\n    spec:"), "web.yaml");
    expect(e.code).toBe("POLICY_VOLUME_MISSING");
    expect(e.details).toMatchObject({
      file: "web.yaml",
      path: "spec.template.spec.containers[0].volumeMounts[0].name",
    });
    expect(e.message).toContain("web.yaml");
    expect(e.hint).toContain("volumeClaimTemplate");
    const nameless = await failure(web.replace("  - metadata:\n      name: www", "  - metadata: {}"), "web.yaml");
    expect(nameless.code).toBe("POLICY_OBJECT_INVALID");
    expect(nameless.details).toMatchObject({ file: "web.yaml", path: "spec.volumeClaimTemplates[0].metadata.name" });
  });
});

describe("checks before fetching", () => {
  it("finds a missing or unsupported volume before asking for any image", async () => {
    for (const volumes of ["", "  volumes: [{name: data, nfs: {server: s, path: /}}]"]) {
      const images = recordingImages();
      const yaml = pod(volumes, "\n      volumeMounts: [{name: data, mountPath: /data}]");
      const error = await generatePolicies(yaml, { images, strict: false }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as PolicyError).code).toBe(volumes === "" ? "POLICY_VOLUME_MISSING" : "POLICY_VOLUME_UNSUPPORTED");
      expect(images.asked).toEqual([]);
    }
  });
});

describe("fields genpolicy's pod.rs and volume.rs accept", () => {
  // Kata genpolicy at kata-containers 7c6ba40c: src/tools/genpolicy/src/pod.rs (PodSpec,
  // Container, Probe, SecurityContext, PodSecurityContext, ...), volume.rs (Volume and its sources).
  // Each field must pass strict generation; the tests below check what the new ones do.
  const cases: [string, string, string][] = [
    ["spec.nodeSelector", "  nodeSelector: {disk: ssd}", ""],
    ["spec.restartPolicy", "  restartPolicy: Never", ""],
    ["spec.imagePullSecrets", "  imagePullSecrets: [{name: pull}]", ""],
    [
      "spec.affinity",
      "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: In, values: [b]}]}]}}, podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, podAffinityTerm: {topologyKey: k, labelSelector: {matchLabels: {a: b}}, matchLabelKeys: [x], mismatchLabelKeys: [y], namespaceSelector: {}, namespaces: [n]}}]}, podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: k}]}}",
      "",
    ],
    ["spec.nodeName", "  nodeName: node-1", ""],
    ["spec.serviceAccountName", "  serviceAccountName: sa", ""],
    ["spec.serviceAccount", "  serviceAccount: sa", ""],
    ["spec.terminationGracePeriodSeconds", "  terminationGracePeriodSeconds: 5", ""],
    [
      "spec.tolerations",
      "  tolerations: [{key: k, operator: Equal, value: v, effect: NoExecute, tolerationSeconds: 3}]",
      "",
    ],
    ["spec.hostname", "  hostname: h", ""],
    ["spec.hostNetwork", "  hostNetwork: false", ""],
    ["spec.shareProcessNamespace", "  shareProcessNamespace: true", ""],
    [
      "spec.dnsConfig",
      "  dnsConfig: {nameservers: [1.1.1.1], options: [{name: ndots, value: '2'}], searches: [a.b]}",
      "",
    ],
    ["spec.dnsPolicy", "  dnsPolicy: None", ""],
    [
      "spec.topologySpreadConstraints",
      "  topologySpreadConstraints: [{maxSkew: 1, topologyKey: k, whenUnsatisfiable: DoNotSchedule, labelSelector: {}, matchLabelKeys: [a], minDomains: 1, nodeAffinityPolicy: Honor, nodeTaintsPolicy: Ignore}]",
      "",
    ],
    [
      "spec.securityContext",
      "  securityContext: {runAsUser: 1, runAsGroup: 2, fsGroup: 3, supplementalGroups: [4], sysctls: [{name: kernel.shm_rmid_forced, value: '1'}], allowPrivilegeEscalation: false}",
      "",
    ],
    ["spec.priorityClassName", "  priorityClassName: high", ""],
    ["spec.preemptionPolicy", "  preemptionPolicy: Never", ""],
    ["spec.priority", "  priority: 10", ""],
    ["spec.schedulerName", "  schedulerName: s", ""],
    ["spec.resources", "  resources: {requests: {cpu: 500m, memory: 1Gi}, limits: {cpu: '1', memory: 2Gi}}", ""],
    ["spec.initContainers", `  initContainers: [{name: init, image: "${IMAGE}"}]`, ""],
    ["containers[].imagePullPolicy", "", "\n      imagePullPolicy: Always"],
    [
      "containers[].securityContext",
      "",
      "\n      securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: {add: [NET_ADMIN], drop: [ALL]}, runAsUser: 1, runAsGroup: 1, seccompProfile: {type: Localhost, localhostProfile: p.json}}",
    ],
    [
      "containers[].volumeDevices",
      "  volumes: [{name: blk, persistentVolumeClaim: {claimName: c}}]",
      "\n      volumeDevices: [{name: blk, devicePath: /dev/xvda}]",
    ],
    [
      "containers[].env",
      "",
      "\n      env: [{name: A, value: a}, {name: B, valueFrom: {fieldRef: {fieldPath: metadata.name, apiVersion: v1}}}, {name: C, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}, {name: D, valueFrom: {configMapKeyRef: {key: k, name: n, optional: true}}}, {name: E, valueFrom: {secretKeyRef: {key: k, name: n, optional: true}}}]",
    ],
    [
      "containers[].envFrom",
      "",
      "\n      envFrom: [{configMapRef: {name: n, optional: true}, prefix: P_}, {secretRef: {name: s, optional: true}}]",
    ],
    ["containers[].resources", "", "\n      resources: {requests: {cpu: 1}, limits: {memory: 1Gi}}"],
    [
      "containers[].ports",
      "",
      "\n      ports: [{containerPort: 80, hostIP: 0.0.0.0, hostPort: 80, name: http, protocol: TCP}]",
    ],
    ["containers[].command", "", "\n      command: [/bin/app]"],
    ["containers[].args", "", "\n      args: [--flag]"],
    [
      "containers[].lifecycle",
      "",
      "\n      lifecycle: {postStart: {exec: {command: [a]}}, preStop: {exec: {command: [b]}}}",
    ],
    [
      "containers[].livenessProbe",
      "",
      "\n      livenessProbe: {exec: {command: [ok]}, initialDelaySeconds: 1, timeoutSeconds: 1, periodSeconds: 1, terminationGracePeriodSeconds: 1, failureThreshold: 1, successThreshold: 1}",
    ],
    [
      "containers[].readinessProbe",
      "",
      "\n      readinessProbe: {httpGet: {port: '80', host: h, path: /, scheme: HTTP, httpHeaders: [{name: a, value: b}]}}",
    ],
    ["containers[].startupProbe", "", "\n      startupProbe: {tcpSocket: {port: '80', host: h}}"],
    ["containers[].livenessProbe.grpc", "", "\n      livenessProbe: {grpc: {port: 9000, service: s}}"],
    ["containers[].restartPolicy", `  initContainers: [{name: side, image: "${IMAGE}", restartPolicy: Always}]`, ""],
    ["containers[].serviceAccountName", "", "\n      serviceAccountName: sa"],
    ["containers[].stdin", "", "\n      stdin: true"],
    ["containers[].tty", "", "\n      tty: true"],
    ["containers[].terminationMessagePath", "", "\n      terminationMessagePath: /dev/log"],
    ["containers[].terminationMessagePolicy", "", "\n      terminationMessagePolicy: File"],
    [
      "containers[].volumeMounts",
      "  volumes: [{name: v, hostPath: {path: /tmp, type: Directory}}]",
      "\n      volumeMounts: [{name: v, mountPath: /m, mountPropagation: None, subPathExpr: $(X), readOnly: true, subPath: s}]",
    ],
    ["volumes[].emptyDir", "  volumes: [{name: v, emptyDir: {medium: Memory, sizeLimit: 1Gi}}]", ""],
    ["volumes[].hostPath", "  volumes: [{name: v, hostPath: {path: /tmp, type: Directory}}]", ""],
    ["volumes[].persistentVolumeClaim", "  volumes: [{name: v, persistentVolumeClaim: {claimName: c}}]", ""],
    [
      "volumes[].configMap",
      "  volumes: [{name: v, configMap: {name: c, items: [{key: k, path: p}], optional: true}}]",
      "",
    ],
    [
      "volumes[].azureFile",
      "  volumes: [{name: v, azureFile: {secretName: s, shareName: share, readOnly: false}}]",
      "",
    ],
    ["volumes[].projected", "  volumes: [{name: v, projected: {defaultMode: 420}}]", ""],
    [
      "volumes[].secret",
      "  volumes: [{name: v, secret: {secretName: s, defaultMode: 256, items: [{key: k, path: p}], optional: true}}]",
      "",
    ],
    [
      "volumes[].downwardAPI",
      "  volumes: [{name: v, downwardAPI: {items: [{path: p, fieldRef: {fieldPath: metadata.name}}]}}]",
      "",
    ],
  ];

  it.each(cases)("accepts %s", async (_field, spec, container) => {
    const r = await generatePolicies(pod(spec, container), { images: fixtureImages(), strict: true });
    expect(r.workloads).toHaveLength(1);
    expect(r.warnings.filter((w) => w.code === "POLICY_UNSUPPORTED_FIELD")).toEqual([]);
  });

  it("ignores pod-level resources, as genpolicy does: the policy is the one without them", async () => {
    const plain = await generatePolicies(pod(""), { images: fixtureImages() });
    const sized = await generatePolicies(pod("  resources: {requests: {cpu: 500m}, limits: {memory: 1Gi}}"), {
      images: fixtureImages(),
    });
    expect(sized.workloads[0]?.policyHash).toBe(plain.workloads[0]?.policyHash);
    // Kata's own k8s-policy-pod.yaml sets pod-level resources.
    const kata = readFileSync(join(REPO, "testdata/kube/kata-runtimeclass-workloads/k8s-policy-pod.yaml"), "utf8");
    expect((load(kata.split(/^---$/m)[1] ?? kata) as { spec: { resources?: unknown } }).spec.resources).toBeDefined();
  });

  it("gives each volumeDevice a device and a Linux.Devices entry, as genpolicy does", async () => {
    const c = await appContainer(
      pod(
        "  volumes: [{name: blk, persistentVolumeClaim: {claimName: c}}]",
        "\n      volumeDevices: [{name: blk, devicePath: /dev/xvda}]",
      ),
    );
    expect(c.devices).toEqual([{ id: "", type_: "", vm_path: "", container_path: "/dev/xvda", options: [] }]);
    expect(c.OCI.Linux.Devices).toEqual([{ Type: "", Path: "/dev/xvda" }]);
    const e = await failure(
      pod(
        "  volumes: [{name: blk, persistentVolumeClaim: {claimName: c}}]",
        "\n      volumeDevices: [{name: blk, devicePath: /dev/vfio/devices/vfio0}]",
      ),
      "pod.yaml",
    );
    expect(e.code).toBe("POLICY_FIELD_INVALID");
    expect(e.details).toMatchObject({ file: "pod.yaml", path: "spec.containers[0].volumeDevices[0].devicePath" });
  });

  it("sets TERM=xterm for a tty, under the pod's own TERM, as containerd and genpolicy do", async () => {
    const tty = await appContainer(pod("", "\n      tty: true"));
    expect(tty.OCI.Process.Terminal).toBe(true);
    expect(tty.OCI.Process.Env).toContain("TERM=xterm");
    const own = await appContainer(pod("", "\n      tty: true\n      env: [{name: TERM, value: dumb}]"));
    expect(own.OCI.Process.Env.filter((e) => e.startsWith("TERM="))).toEqual(["TERM=dumb"]);
    const none = await appContainer(pod(""));
    expect(none.OCI.Process.Env.some((e) => e.startsWith("TERM="))).toBe(false);
  });

  it("gives a hostNetwork sandbox no UTS namespace and genpolicy's host network-namespace pattern", async () => {
    const r = await generatePolicies(pod("  hostNetwork: true"), { images: fixtureImages() });
    const [sandbox, app] = r.workloads[0]?.policyData.containers ?? [];
    expect(sandbox?.OCI.Linux.Namespaces.map((n) => n.Type)).toEqual(["ipc", "mount"]);
    expect(sandbox?.OCI.Annotations["nerdctl/network-namespace"]).toMatch(/^\^\/var\/run\/netns\/cnitest-/);
    expect(app?.OCI.Linux.Namespaces.map((n) => n.Type)).toEqual(["ipc", "uts", "mount"]);
    const plain = await generatePolicies(pod(""), { images: fixtureImages() });
    expect(plain.workloads[0]?.policyData.containers[0]?.OCI.Linux.Namespaces.map((n) => n.Type)).toEqual([
      "ipc",
      "uts",
      "mount",
    ]);
  });

  it("mounts the termination log at terminationMessagePath, as the kubelet and genpolicy do", async () => {
    const c = await appContainer(pod("", "\n      terminationMessagePath: /var/termination-log-path"));
    const destinations = c.OCI.Mounts.map((m) => m.destination);
    expect(destinations).toContain("/var/termination-log-path");
    expect(destinations).not.toContain("/dev/termination-log");
    expect(c.OCI.Mounts.find((m) => m.destination === "/var/termination-log-path")?.source).toBe(
      "$(sfprefix)termination-log-path$",
    );
    const plain = await appContainer(pod(""));
    expect(plain.OCI.Mounts.map((m) => m.destination)).toContain("/dev/termination-log");
  });

  it("mounts /etc/hostname and /etc/resolv.conf read-only with a read-only root, as containerd and genpolicy", async () => {
    const access = (c: ContainerPolicy, d: string) => c.OCI.Mounts.find((m) => m.destination === d)?.options.at(-1);
    const ro = await appContainer(pod("", "\n      securityContext: {readOnlyRootFilesystem: true}"));
    expect([access(ro, "/etc/hostname"), access(ro, "/etc/resolv.conf"), access(ro, "/etc/hosts")]).toEqual([
      "ro",
      "ro",
      "rw",
    ]);
    const rw = await appContainer(pod(""));
    expect([access(rw, "/etc/hostname"), access(rw, "/etc/resolv.conf")]).toEqual(["rw", "rw"]);
  });

  it("mounts hostPath volumes as genpolicy: /dev and /sys paths as themselves, Bidirectional as rshared", async () => {
    const c = await appContainer(
      pod(
        "  volumes: [{name: kmsg, hostPath: {path: /dev/kmsg}}, {name: data, hostPath: {path: /srv/results}}]",
        "\n      volumeMounts: [{name: kmsg, mountPath: /dev/kmsg, readOnly: true}, {name: data, mountPath: /results, mountPropagation: Bidirectional}]",
      ),
    );
    const find = (d: string) => c.OCI.Mounts.find((m) => m.destination === d);
    expect(find("/dev/kmsg")).toEqual({
      destination: "/dev/kmsg",
      source: "/dev/kmsg",
      type_: "bind",
      options: ["rbind", "rprivate", "ro"],
    });
    expect(find("/results")).toEqual({
      destination: "/results",
      source: "$(sfprefix)results$",
      type_: "bind",
      options: ["rbind", "rshared", "rw"],
    });
  });

  it("mounts an azureFile volume like a persistent volume claim (genpolicy: shared bind mount)", async () => {
    const c = await appContainer(
      pod(
        "  volumes: [{name: share, azureFile: {secretName: s, shareName: data}}]",
        "\n      volumeMounts: [{name: share, mountPath: /mnt/share}]",
      ),
    );
    expect(c.OCI.Mounts.find((m) => m.destination === "/mnt/share")).toEqual({
      destination: "/mnt/share",
      source: "$(sfprefix)share$",
      type_: "bind",
      options: ["rbind", "rprivate", "rw"],
    });
  });

  it("takes the pod securityContext's allowPrivilegeEscalation as the containers' default", async () => {
    const none = await appContainer(pod(""));
    expect(none.OCI.Process.NoNewPrivileges).toBe(false);
    const pod_ = await appContainer(pod("  securityContext: {allowPrivilegeEscalation: false}"));
    expect(pod_.OCI.Process.NoNewPrivileges).toBe(true);
    const override = await appContainer(
      pod(
        "  securityContext: {allowPrivilegeEscalation: false}",
        "\n      securityContext: {allowPrivilegeEscalation: true}",
      ),
    );
    expect(override.OCI.Process.NoNewPrivileges).toBe(false);
  });

  it("gives the downward API's spec.serviceAccountName the container's serviceAccountName, as genpolicy", async () => {
    const env = "\n      env: [{name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}]";
    const podLevel = await appContainer(pod("  serviceAccountName: pod-sa", env));
    expect(podLevel.OCI.Process.Env).toContain("SA=pod-sa");
    const own = await appContainer(pod("  serviceAccountName: pod-sa", `${env}\n      serviceAccountName: own`));
    expect(own.OCI.Process.Env).toContain("SA=own");
  });
});

describe("errors name the file and the full field path", () => {
  const deployment = (spec: string, container = "") => `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      runtimeClassName: contrast-cc
      containers:
        - name: a
          image: ${IMAGE}
        - name: b
          image: ${IMAGE}${container}
${spec}`;
  const cases: [string, string, string | undefined][] = [
    ["POLICY_YAML_INVALID", "a: [", undefined],
    [
      "POLICY_OBJECT_INVALID",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n",
      "spec.template",
    ],
    [
      "POLICY_OBJECT_INVALID",
      deployment("").replace(`image: ${IMAGE}\n        - name: b`, "image: ''\n        - name: b"),
      "spec.template.spec.containers[0].image",
    ],
    ["POLICY_UNSUPPORTED_FIELD", deployment("", "\n          bogus: 1"), "spec.template.spec.containers[1].bogus"],
    ["POLICY_POD_NAME_MISSING", pod("").replace("metadata: {name: p}", "metadata: {}"), "metadata.name"],
    [
      "POLICY_CONFIG_REF_MISSING",
      deployment(
        "",
        "\n          env: [{name: X, value: x}, {name: Y, valueFrom: {configMapKeyRef: {name: cm, key: k}}}]",
      ),
      "spec.template.spec.containers[1].env[1].valueFrom.configMapKeyRef",
    ],
    [
      "POLICY_CONFIG_REF_MISSING",
      deployment("", "\n          envFrom: [{secretRef: {name: s}}]"),
      "spec.template.spec.containers[1].envFrom[0].secretRef",
    ],
    [
      "POLICY_ENV_UNSUPPORTED",
      deployment("", "\n          env: [{name: Y, valueFrom: {fieldRef: {fieldPath: spec.bogus}}}]"),
      "spec.template.spec.containers[1].env[0].valueFrom.fieldRef.fieldPath",
    ],
    [
      "POLICY_VOLUME_MISSING",
      deployment("", "\n          volumeMounts: [{name: x, mountPath: /x}]"),
      "spec.template.spec.containers[1].volumeMounts[0].name",
    ],
    [
      "POLICY_VOLUME_UNSUPPORTED",
      deployment(
        "      volumes: [{name: ok, emptyDir: {}}, {name: x, nfs: {server: s, path: /}}]",
        "\n          volumeMounts: [{name: x, mountPath: /x}]",
      ),
      // strict mode stops at the unknown field first
      "spec.template.spec.volumes[1].nfs",
    ],
    [
      "POLICY_IMAGE_METADATA",
      deployment("").replace(`image: ${IMAGE}\n        - name: b`, "image: example.com/unknown:1\n        - name: b"),
      "spec.template.spec.containers[0].image",
    ],
    [
      "POLICY_IMAGE_REFERENCE_INVALID",
      deployment("").replace(`image: ${IMAGE}\n        - name: b`, "image: 'Bad Ref'\n        - name: b"),
      "spec.template.spec.containers[0].image",
    ],
  ];

  it.each(cases.map(([code, yaml, path]) => [code, path ?? "(no field: file and line)", yaml, path] as const))(
    "%s at %s",
    async (code, _title, yaml, path) => {
      const e = await failure(yaml, "dir/app.yaml");
      expect(e.code === code || (code === "POLICY_VOLUME_UNSUPPORTED" && e.code === "POLICY_UNSUPPORTED_FIELD")).toBe(
        true,
      );
      expect(e.details?.file).toBe("dir/app.yaml");
      expect(e.message).toContain("dir/app.yaml");
      if (path !== undefined) expect(e.details?.path).toBe(path);
    },
  );

  it("POLICY_VOLUME_UNSUPPORTED names the volume's full path (unknown volume types allowed)", async () => {
    const yaml = deployment(
      "      volumes: [{name: x, nfs: {server: s, path: /}}]",
      "\n          volumeMounts: [{name: x, mountPath: /x}]",
    );
    try {
      await generatePolicies(yaml, { images: fixtureImages(), source: "dir/app.yaml", strict: false });
      throw new Error("generation succeeded");
    } catch (e) {
      expect(e).toBeInstanceOf(PolicyError);
      expect((e as PolicyError).code).toBe("POLICY_VOLUME_UNSUPPORTED");
      expect((e as PolicyError).details).toMatchObject({ file: "dir/app.yaml", path: "spec.template.spec.volumes[0]" });
    }
  });
});

describe("the default pause image's metadata is built in", () => {
  it("is never fetched, and its real layer is in the policy", async () => {
    const images = recordingImages();
    const settings = { ...DEFAULT_SETTINGS, cluster_config: { ...DEFAULT_SETTINGS.cluster_config, guest_pull: false } };
    const r = await generatePolicies(pod(""), { images, settings });
    expect(images.asked).toEqual([IMAGE]);
    const pause = r.workloads[0]?.policyData.containers[0];
    // genpolicy's layer name for it, sha256("sha256:<diff ID>"), as in real genpolicy policies.
    expect(pause?.storages[0]?.mount_point).toBe(
      "/run/kata-containers/sandbox/layers/5a5aad80055ff20012a50dc25f8df7a29924474324d65f7d5306ee8ee27ff71d",
    );
    expect(JSON.stringify(pause?.storages)).toContain(
      "root-hash=817250f1a3e336da76f5bd3fa784e1b26d959b9c131876815ba2604048b70c18",
    );
    expect(pause?.OCI.Process.Args).toEqual(["/pause"]);
    expect(pause?.OCI.Process.User).toMatchObject({ UID: 65535, GID: 65535 });
  });

  it("fetches any other pause image, and its failure names the setting", async () => {
    const pause = "registry.example/pause:1";
    const settings = {
      ...DEFAULT_SETTINGS,
      cluster_config: { ...DEFAULT_SETTINGS.cluster_config, pause_container_image: pause },
    };
    const images = recordingImages();
    await expect(generatePolicies(pod(""), { images, settings })).rejects.toMatchObject({
      message: expect.stringContaining("cluster_config.pause_container_image"),
      details: { setting: "/cluster_config/pause_container_image" },
    });
    expect(images.asked).toContain(pause);
  });
});

describe("comments", () => {
  const header = "# Copyright Istio Authors\n#\n#   Licensed under the Apache License, Version 2.0\n\n";
  const service = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n";

  it("keeps a comment-only preamble before the first --- when no document is a workload", async () => {
    const text = `${header}---\n${service}`;
    const r = await generatePolicies(text, { images: fixtureImages() });
    expect(r.workloads).toEqual([]);
    expect(serializeYamlDocuments(parseYamlDocuments(text))).toBe(text);
  });

  it("keeps the preamble and the comments inside an annotated workload", async () => {
    const text = `${header}---\n# the app\n${pod("").replace("name: app", "name: app  # main container")}---\n${service}`;
    const r = await generatePolicies(text, { images: fixtureImages() });
    expect(r.workloads).toHaveLength(1);
    expect(r.yaml.startsWith(`${header}---\n# the app\n`)).toBe(true);
    expect(r.yaml).toMatch(/name: app +# main container/);
    expect(r.yaml.endsWith(`---\n${service}`)).toBe(true);
  });

  it("keeps the comments of every annotated bookinfo workload", async () => {
    const text = readFileSync(join(REPO, "testdata/kube/istio-bookinfo/bookinfo.yaml"), "utf8");
    const r = await generatePolicies(text, { images: corpusImageSource(), runtimeClassPrefixes: [] });
    expect(r.workloads).toHaveLength(6);
    const comments = (s: string) => s.split("\n").filter((l) => l.trimStart().startsWith("#"));
    expect(comments(r.yaml)).toEqual(comments(text));
  });
});

describe("comments and separators (property)", () => {
  it("keep a comment preamble, and a first document that no --- opened, as they are (property)", () => {
    const comment = fc.stringMatching(/^[ -~]{0,24}$/).map((t) => `#${t}`);
    const obj = fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.string({ maxLength: 8 }), { maxKeys: 3 });
    fc.assert(
      fc.property(
        fc.array(comment, { minLength: 1, maxLength: 4 }),
        fc.option(obj),
        fc.array(obj, { maxLength: 3 }),
        (lines, head, rest) => {
          const preamble = head === null ? `${lines.join("\n")}\n` : "";
          const first = head === null ? "" : dump(head);
          const text = `${preamble}${first}${rest.map((o) => `---\n${dump(o)}`).join("")}`;
          const docs = parseYamlDocuments(text);
          expect(docs.map((d) => d.value).filter((v) => v !== null)).toEqual([
            ...(head === null ? [] : [head]),
            ...rest,
          ]);
          expect(serializeYamlDocuments(docs)).toBe(text);
        },
      ),
      { numRuns: fuzzRuns(100) },
    );
  });
});

describe("unpinned images", () => {
  it("are warned about once per image, with every container that uses it", async () => {
    const tag = "example.com/app:1";
    const yaml = pod(`    - name: b\n      image: ${tag}\n    - name: c\n      image: ${tag}`).replace(
      `image: ${IMAGE}`,
      `image: ${tag}`,
    );
    const r = await generatePolicies(yaml, { images: fixtureImages({ [tag]: nginx() }) });
    const unpinned = r.warnings.filter((w) => w.code === "POLICY_IMAGE_UNPINNED");
    expect(unpinned).toHaveLength(1);
    expect(unpinned[0]?.image).toBe(tag);
    expect(unpinned[0]?.usedBy).toEqual(["Pod/p container app", "Pod/p container b", "Pod/p container c"]);
  });
});
