import { X509Certificate } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { isContrastError, sha256Hex } from "@contrast/core";
import { isRecord, parseYamlDocuments, serializeYamlDocuments } from "@contrast/kube";
import { buildDemoImages, type LocalCluster, type RunningPod, startLocalCluster } from "@contrast/localrun";
import { parsePlatform } from "@contrast/manifest";
import { loadImageMetadataFile, nodeFileSystem } from "@contrast/oci";
import { policyProfile } from "@contrast/policy";
import type { Outcome } from "../command-spec.js";
import { DEFAULT_INITIALIZER_IMAGE, DEFAULT_SERVICE_MESH_IMAGE, generate } from "../commands/generate.js";
import { recover } from "../commands/recover.js";
import { set } from "../commands/set.js";
import { verify } from "../commands/verify.js";
import type { Context } from "../context.js";
import { cliError } from "../coordinator/errors.js";
import { Output, type Stream } from "../output.js";
import { type DemoPod, PodRunner, readDeployment, type Workload } from "./deploy.js";
import type { Narrator } from "./narrator.js";
import { meshGet, plainGet, requestWithoutClientCertificate } from "./requests.js";
import type { DemoSource } from "./source.js";
import { retry, summary, waitUntil } from "./wait.js";
import { type DemoPaths, writeResources } from "./workspace.js";

export interface DemoSettings {
  readonly paths: DemoPaths;
  readonly source: DemoSource;
  /** The tag of the demo's images: the CLI's version. */
  readonly version: string;
  readonly stepTimeoutMs: number;
  readonly keep: boolean;
  /** True when this process runs in the user namespace it re-executed itself in. */
  readonly rootless: boolean;
  /** Registers the cluster's close() with the signal handlers' cleanup. */
  readonly onCluster: (cluster: LocalCluster) => void;
  /** How the user runs this CLI, for the commands --keep prints (e.g. `node apps/cli/dist/contrast.cjs`). */
  readonly cliCommand: string;
  /** With --keep: resolves when the user stops the demo (a signal). */
  readonly untilStopped: () => Promise<void>;
}

/** The sample app's resource files, as apps/cli/src/demo/resources names them. */
const FILES = { coordinator: "coordinator.yml", backend: "backend.yml", frontend: "frontend.yml" } as const;
const USER_API_PORT = 1313;
const PROBE_PORT = 9102;

/**
 * `contrast demo`'s steps, in the order of the issue: build the sample app, generate, start the
 * Coordinator and the workloads, set, verify, talk through the mesh, tamper, kill and recover the
 * Coordinator, restart the workloads, clean up. Every CLI step calls the command's own body
 * in-process with the demo's directory as its working directory, so what runs is the real CLI.
 */
export async function runDemo(ctx: Context, narrator: Narrator, s: DemoSettings): Promise<Outcome> {
  const { paths, stepTimeoutMs: timeout } = s;
  const cli = cliContext(ctx, paths.dir);
  const rel = (p: string) => relative(ctx.cwd, p) || ".";
  const images = new Map<string, string>();
  let metadataFile = "";

  narrator.note(
    `Contrast demo in ${rel(paths.dir)}/: a confidential deployment on this machine, on the simulated TEE (INSECURE: no TEE protects anything here)${s.rootless ? ", in a user namespace (no root)" : ""}`,
  );

  // 1. The sample app: its images and resources.
  await narrator.step("app", "Build the sample app", async () => {
    const built = await buildDemoImages({
      apps: s.source.apps,
      layoutDir: paths.images,
      version: s.version,
    });
    for (const i of built.images) images.set(i.name, i.reference);
    metadataFile = built.metadataFile;
    const files = await writeResources(s.source.resourcesDir, paths.resources, images);
    await writeFile(
      paths.imageReplacements,
      [
        "# The images `contrast generate` injects, replaced by the demo's own builds.",
        `${DEFAULT_INITIALIZER_IMAGE} = ${need(images, "initializer")}`,
        `${DEFAULT_SERVICE_MESH_IMAGE} = ${need(images, "service-mesh")}`,
        "",
      ].join("\n"),
    );
    return {
      line: `Sample app: a frontend that calls a backend through the mesh egress, a backend behind mesh ingress; ${built.images.length} images in ${rel(paths.images)}/`,
      more: [
        ...built.images.map((i) => `${i.name}: ${i.reference.replace(/(@sha256:[0-9a-f]{12})[0-9a-f]+$/, "$1…")}`),
        `resources: ${files.map(rel).join(", ")}`,
      ],
      details: { images: built.images, resources: files, metadataFile: built.metadataFile },
    };
  });

  // 2. contrast generate --reference-values sim.
  await narrator.step("generate", "contrast generate --reference-values sim", async () => {
    const outcome = await generate(cli, [paths.resources], {
      referenceValues: "sim",
      imageReplacements: paths.imageReplacements,
      imageMetadata: metadataFile,
      simDir: paths.sim,
    });
    const manifest = JSON.parse(await readFile(join(paths.dir, "manifest.json"), "utf8")) as {
      Policies?: Record<string, { SANs?: string[]; Role?: string }>;
    };
    const policies = Object.entries(manifest.Policies ?? {}).map(([hash, p]) => ({
      hash,
      sans: p.SANs ?? [],
      role: p.Role ?? "",
    }));
    return {
      line: `contrast generate --reference-values sim ${rel(paths.resources)}/: ${policies.length} policies, the initializer and service mesh injected, ${rel(join(paths.dir, "manifest.json"))} written`,
      more: policies.map((p) => `${p.hash.slice(0, 16)}… ${p.role === "" ? "" : `(${p.role}) `}${p.sans.join(", ")}`),
      details: { policies, fields: outcome.fields },
    };
  });

  const deployments = {
    coordinator: await readDeployment(join(paths.resources, FILES.coordinator)),
    backend: await readDeployment(join(paths.resources, FILES.backend)),
    frontend: await readDeployment(join(paths.resources, FILES.frontend)),
  };
  const services = Object.values(deployments).flatMap((d) => d.services);
  const configs = Object.values(deployments).flatMap((d) => d.configs);

  // The cluster: a pod network, cluster DNS for the Services.
  let cluster: LocalCluster | undefined;
  let runner: PodRunner | undefined;
  await narrator.step("cluster", "Start the local runtime", async () => {
    const c = await startLocalCluster({ workDir: paths.cluster, log: ctx.log });
    cluster = c;
    s.onCluster(c);
    c.setServices(services);
    const imageSource = await loadImageMetadataFile(
      nodeFileSystem,
      metadataFile,
      policyProfile(parsePlatform("sim").id).tarfs,
    );
    runner = new PodRunner({
      cluster: c,
      images: imageSource,
      layoutDir: paths.images,
      workDir: paths.cluster,
      simDir: paths.sim,
    });
    return {
      line: `Local runtime: pod network ${c.subnet}, this side ${c.hostAddress}${c.rootless ? " (in a user namespace)" : ""}; Services ${services.map((x) => x.name).join(", ")}`,
      details: { subnet: c.subnet, hostAddress: c.hostAddress, rootless: c.rootless, services },
    };
  });
  if (cluster === undefined || runner === undefined) throw new Error("unreachable: the cluster step returned");
  const run = runner;
  const net = cluster;

  // 3. The Coordinator, then the workloads; their initializers wait.
  let coordinator: DemoPod | undefined;
  await narrator.step("coordinator", "Start the Coordinator", async () => {
    const c = await run.run(only(deployments.coordinator.workloads, FILES.coordinator), configs);
    coordinator = c;
    mustBeAllowed(c);
    await waitUntil(`the Coordinator's probe server at ${c.pod.ip}:${PROBE_PORT}`, [c.pod], timeout, async () => {
      blockedOrFailed(c.pod);
      const r = await plainGet(c.pod.ip, PROBE_PORT, "/probe/startup", 2000).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    });
    return {
      line: `Coordinator ${c.name} running at ${c.pod.ip}; its simulated TEE reports its policy hash ${short(c.admission.policyHash)} as HOST_DATA`,
      details: { pod: c.name, ip: c.pod.ip, policyHash: c.admission.policyHash },
    };
  });
  if (coordinator === undefined) throw new Error("unreachable: the coordinator step returned");
  const coord = coordinator;
  const coordinatorAddress = `${coord.pod.ip}:${USER_API_PORT}`;

  let workloads: DemoPod[] = [];
  await narrator.step("workloads", "Start the workloads", async () => {
    workloads = await startWorkloads(run, deployments, configs);
    const waiting = await waitUntil("the workloads' initializers running", workloadPods(workloads), timeout, () => {
      for (const w of workloads) blockedOrFailed(w.pod);
      const states = workloads.map((w) => initializerState(w.pod));
      return states.every((x) => x === "running") && workloads.every((w) => !w.pod.status().initialized)
        ? states
        : undefined;
    });
    return {
      line: `Workloads ${workloads.map((w) => w.name).join(", ")} started; their initializers wait for the Coordinator (it has no manifest yet)`,
      details: {
        pods: workloads.map((w) => ({ pod: w.name, ip: w.pod.ip, policyHash: w.admission.policyHash })),
        waiting,
      },
    };
  });

  // 4. contrast set: the initializers get their certificates, the apps start.
  await narrator.step("set", `contrast set -c ${coordinatorAddress}`, async () => {
    const outcome = await set(cli, [paths.resources], {
      coordinator: coordinatorAddress,
      timeout: String(Math.ceil(timeout / 1000)),
    });
    const f = outcome.fields as { manifestHash?: string; policies?: number; files?: Record<string, string> };
    return {
      line: `contrast set -c ${coordinatorAddress} ${rel(paths.resources)}/: the Coordinator's evidence matches the manifest; manifest ${short(f.manifestHash)} set with ${f.policies} policies; seed shares in ${rel(f.files?.seedShares ?? "seed-shares.json")}`,
      details: outcome.fields,
    };
  });
  await narrator.step("certificates", "The workloads get their mesh certificates", async () => {
    await waitUntil("the workloads ready", workloadPods(workloads), timeout, () => {
      for (const w of workloads) blockedOrFailed(w.pod);
      return workloads.every((w) => w.pod.status().ready) ? true : undefined;
    });
    return {
      line: `The initializers got their mesh certificates from the Coordinator; ${workloads.map((w) => w.workload.name).join(" and ")} are ready`,
      details: { pods: workloads.map((w) => ({ pod: w.name, status: summary(w.pod.status()) })) },
    };
  });

  // 5. contrast verify.
  const first = await narrator.step("verify", `contrast verify -c ${coordinatorAddress}`, async () => {
    const outcome = await verify(cli, { coordinator: coordinatorAddress, timeout: String(Math.ceil(timeout / 1000)) });
    const f = outcome.fields as { files: { manifests: string[]; policies: string[] }; historyLength: number };
    return {
      line: `contrast verify: the Coordinator's evidence matches the manifest, and its active manifest is ours; ${rel(paths.verify)}/ holds its CAs, ${f.files.manifests.length} manifest(s) and ${f.files.policies.length} policies`,
      details: { ...outcome.fields, history: await historyHashes(paths.verify) },
    };
  });
  const meshCaBefore = await readFile(join(paths.verify, "mesh-ca.pem"), "utf8");
  const rootCaBefore = await readFile(join(paths.verify, "coordinator-root-ca.pem"), "utf8");

  // 6. Through the mesh, and without a mesh certificate.
  const frontend = byName(workloads, "frontend");
  const backend = byName(workloads, "backend");
  await narrator.step("mesh", "A request through the mesh", async () => {
    const r = await meshRequest(frontend, meshCaBefore, timeout);
    return {
      line: `GET https://${frontend.pod.ip}:${appPort(frontend)}/ (checked against ${rel(join(paths.verify, "mesh-ca.pem"))}): ${r.status} from the frontend, which reached the backend through its mesh egress over mTLS`,
      more: [r.body.trim().slice(0, 200)],
      details: {
        url: `https://${frontend.pod.ip}:${appPort(frontend)}/`,
        status: r.status,
        body: r.body,
        server: r.server,
      },
    };
  });
  await narrator.step("refused", "A request without a mesh certificate", async () => {
    const port = appPort(backend);
    const r = await requestWithoutClientCertificate({ host: backend.pod.ip, port, timeoutMs: 10_000 });
    if (!r.refused) {
      throw cliError(
        "CLI_DEMO_CHECK_FAILED",
        `the backend at ${backend.pod.ip}:${port} answered a client without a mesh certificate: ${r.how}`,
        {
          details: { pod: backend.name, port, how: r.how },
        },
      );
    }
    return {
      line: `A request to the backend at ${backend.pod.ip}:${port} without a mesh certificate is refused: ${r.how}`,
      details: { pod: backend.name, port, how: r.how },
    };
  });

  // 7. Tamper with a workload's YAML after generate: its pod is blocked by policy.
  await narrator.step("tamper", "Deploy a tampered frontend", async () => {
    const { file, workload, change } = await tamper(frontend.workload, paths.tampered);
    const t = await run.run(workload, configs);
    const status = t.pod.status();
    await t.pod.stop();
    const denial = t.admission.denial;
    if (t.admission.allowed || denial === undefined) {
      throw cliError("CLI_DEMO_CHECK_FAILED", `the tampered frontend (${change}) was not blocked by its policy`, {
        details: { file, status: summary(status) },
      });
    }
    return {
      line: `A frontend whose YAML was changed after generate (${change}) is blocked by policy: ${denial.request}${denial.container === undefined ? "" : ` for container "${denial.container}"`} denied`,
      more: [
        ...denial.reasons.map((r) => r.message),
        `see for yourself: contrast policy check --honest --platform sim --image-metadata ${rel(metadataFile)} ${rel(file)}`,
      ],
      details: {
        file,
        change,
        pod: t.name,
        phase: status.phase,
        request: denial.request,
        container: denial.container,
        reasons: denial.reasons,
        text: denial.text,
      },
    };
  });

  // 8. Kill the Coordinator: restarted on its state volume, it is in recovery mode.
  const coordinatorContainer = mainContainer(coord);
  await narrator.step("restart", "Kill the Coordinator", async () => {
    const restartsBefore = restarts(coord.pod, coordinatorContainer);
    coord.pod.kill(coordinatorContainer, "SIGKILL");
    const readiness = await waitUntil("the restarted Coordinator's probes", [coord.pod], timeout, async () => {
      blockedOrFailed(coord.pod);
      if (restarts(coord.pod, coordinatorContainer) <= restartsBefore) return undefined;
      const r = await plainGet(coord.pod.ip, PROBE_PORT, "/probe/readiness", 2000).catch(() => undefined);
      return r;
    });
    if (readiness.status !== 503) {
      throw cliError(
        "CLI_DEMO_CHECK_FAILED",
        `the restarted Coordinator's readiness is ${readiness.status}, not 503 (recovery)`,
        {
          details: readiness,
        },
      );
    }
    // What the CLI sees: the Coordinator attests, then refuses to serve until it is recovered.
    const verified = await verify(cli, {
      coordinator: coordinatorAddress,
      timeout: String(Math.ceil(timeout / 1000)),
    }).then(
      () => "answered",
      (e: unknown) => (isContrastError(e) ? e.code : String(e)),
    );
    if (verified !== "COORDINATOR_IN_RECOVERY") {
      throw cliError(
        "CLI_DEMO_CHECK_FAILED",
        `contrast verify against the restarted Coordinator: ${verified}, not COORDINATOR_IN_RECOVERY`,
        {
          details: { readiness, verify: verified },
        },
      );
    }
    return {
      line: `Coordinator killed (SIGKILL) and restarted by its restart policy on the same state volume: it is in recovery mode (readiness 503: ${readiness.body.trim()}; contrast verify: ${verified})`,
      details: { restarts: restarts(coord.pod, coordinatorContainer), readiness, verify: verified },
    };
  });

  // 9. contrast recover; verify again: the same history; restarted workloads get the new mesh CA.
  await narrator.step("recover", `contrast recover -c ${coordinatorAddress}`, async () => {
    const outcome = await recover(cli, { coordinator: coordinatorAddress, timeout: String(Math.ceil(timeout / 1000)) });
    return {
      line: "contrast recover: the Coordinator has its seed again (decrypted from seed-shares.json with seedshare-owner.pem)",
      details: outcome.fields,
    };
  });
  await narrator.step("verify-again", `contrast verify -c ${coordinatorAddress}`, async () => {
    const outcome = await verify(cli, { coordinator: coordinatorAddress, timeout: String(Math.ceil(timeout / 1000)) });
    const history = await historyHashes(paths.verify);
    const before = (first.details as { history: string[] }).history;
    const meshCa = await readFile(join(paths.verify, "mesh-ca.pem"), "utf8");
    const rootCa = await readFile(join(paths.verify, "coordinator-root-ca.pem"), "utf8");
    // The CA certificates are made anew (serial, validity) by every Coordinator start; what
    // recovery keeps is the root CA's key, derived from the seed, and the mesh CA's key is new.
    const sameRootKey = publicKey(rootCa) === publicKey(rootCaBefore);
    const newMeshKey = publicKey(meshCa) !== publicKey(meshCaBefore);
    if (history.join() !== before.join() || !sameRootKey || !newMeshKey) {
      throw cliError(
        "CLI_DEMO_CHECK_FAILED",
        "after recovery the Coordinator does not serve the same manifest history and root CA key with a new mesh CA key",
        { details: { before, after: history, sameRootKey, newMeshKey } },
      );
    }
    return {
      line: `contrast verify: the same manifest history (${history.length} manifest${history.length === 1 ? "" : "s"}) and root CA key (derived from the seed); a new mesh CA key`,
      details: { ...outcome.fields, history, sameRootKey, newMeshKey },
    };
  });
  await narrator.step("new-certificates", "Restart the workloads", async () => {
    const meshCa = await readFile(join(paths.verify, "mesh-ca.pem"), "utf8");
    for (const w of workloads) await w.pod.stop();
    workloads = await startWorkloads(run, deployments, configs);
    net.setServices(services);
    await waitUntil("the restarted workloads ready", workloadPods(workloads), timeout, () => {
      for (const w of workloads) blockedOrFailed(w.pod);
      return workloads.every((w) => w.pod.status().ready) ? true : undefined;
    });
    const fe = byName(workloads, "frontend");
    const r = await meshRequest(fe, meshCa, timeout);
    const old = await meshGet({ host: fe.pod.ip, port: appPort(fe), ca: meshCaBefore, timeoutMs: 10_000 }).then(
      () => "accepted",
      (e: NodeJS.ErrnoException) => e.code ?? e.message,
    );
    if (old === "accepted") {
      throw cliError("CLI_DEMO_CHECK_FAILED", "the restarted frontend's certificate still chains to the old mesh CA", {
        details: { server: r.server },
      });
    }
    return {
      line: `Restarted ${workloads.map((w) => w.name).join(", ")}: their certificates chain to the new mesh CA (against the old one: ${old}); the request through the mesh works again (${r.status})`,
      details: {
        pods: workloads.map((w) => ({ pod: w.name, ip: w.pod.ip })),
        status: r.status,
        server: r.server,
        oldMeshCa: old,
        meshCaFingerprint: new X509Certificate(meshCa).fingerprint256,
      },
    };
  });

  // 10. Clean up, or keep it running.
  if (s.keep) {
    narrator.note("");
    narrator.note(
      `The deployment keeps running (--keep); press Ctrl-C to clean up. Talk to it from ${s.rootless ? `this user namespace (nsenter --preserve-credentials --user --net --mount --target ${process.pid})` : "this machine"}:`,
    );
    narrator.note(`  ${s.cliCommand} verify -c ${coordinatorAddress} --workspace-dir ${rel(paths.dir)}`);
    const fe = byName(workloads, "frontend");
    const port = appPort(fe);
    // The mesh certificate names the workload, not its IP: curl checks the name, so it is resolved.
    narrator.note(
      `  curl --cacert ${rel(join(paths.verify, "mesh-ca.pem"))} --resolve ${fe.workload.name}:${port}:${fe.pod.ip} https://${fe.workload.name}:${port}/`,
    );
    narrator.note(`  logs: ${rel(join(paths.cluster, "pods"))}/<namespace>_<pod>/<container>.log`);
    await s.untilStopped();
  }
  await narrator.step("cleanup", "Clean up", async () => {
    await net.close();
    return {
      line: `Cleaned up: the demo's processes, namespaces and links are gone; its files stay in ${rel(paths.dir)}/`,
    };
  });

  return {
    ok: true,
    fields: {
      dir: paths.dir,
      rootless: s.rootless,
      coordinator: coordinatorAddress,
      wallSeconds: Number(narrator.elapsedSeconds.toFixed(1)),
      steps: narrator.steps,
    },
  };
}

/** The CLI's commands, run in the demo's directory and printing nothing (the narrator speaks). */
function cliContext(ctx: Context, dir: string): Context {
  const sink: Stream = { write: () => true };
  return {
    ...ctx,
    cwd: dir,
    workspaceDir: undefined,
    out: new Output({ format: "json", stdout: sink, stderr: sink }),
  };
}

async function startWorkloads(
  run: PodRunner,
  deployments: Record<"backend" | "frontend", { workloads: readonly Workload[] }>,
  configs: readonly unknown[],
): Promise<DemoPod[]> {
  // The backend first: the frontend's hosts file then names its pod.
  const backend = await run.run(only(deployments.backend.workloads, FILES.backend), configs);
  const frontend = await run.run(only(deployments.frontend.workloads, FILES.frontend), configs);
  for (const p of [backend, frontend]) mustBeAllowed(p);
  return [backend, frontend];
}

function workloadPods(w: readonly DemoPod[]): RunningPod[] {
  return w.map((x) => x.pod);
}

function only(workloads: readonly Workload[], file: string): Workload {
  const [w] = workloads;
  if (w === undefined || workloads.length !== 1) {
    throw cliError("CLI_DEMO_CHECK_FAILED", `${file} should hold exactly one workload, not ${workloads.length}`);
  }
  return w;
}

function byName(pods: readonly DemoPod[], name: string): DemoPod {
  const p = pods.find((x) => x.workload.name === name);
  if (p === undefined) throw cliError("CLI_DEMO_CHECK_FAILED", `no workload named ${name} in the sample app`);
  return p;
}

function need(images: ReadonlyMap<string, string>, name: string): string {
  const ref = images.get(name);
  if (ref === undefined) throw cliError("CLI_DEMO_CHECK_FAILED", `the demo built no ${name} image`);
  return ref;
}

function mustBeAllowed(p: DemoPod): void {
  if (!p.admission.allowed) {
    throw cliError(
      "CLI_DEMO_CHECK_FAILED",
      `the agent policy blocked ${p.name}, which contrast generate just made a policy for: ${p.admission.denial?.text ?? "no reason given"}`,
      { details: { pod: p.name, denial: p.admission.denial } },
    );
  }
}

function blockedOrFailed(pod: RunningPod): void {
  const st = pod.status();
  if (st.phase === "Blocked" || st.phase === "Failed" || st.phase === "Stopped") {
    throw cliError(
      "CLI_DEMO_POD_NOT_READY",
      `pod ${pod.name} is ${st.phase}${st.blocked ? `: ${st.blocked.text}` : ""}`,
      {
        details: { pod: pod.name, dir: pod.dir, status: summary(st) },
      },
    );
  }
}

function initializerState(pod: RunningPod): string | undefined {
  return pod.status().containers.find((c) => c.name === "contrast-initializer")?.current.state;
}

function mainContainer(p: DemoPod): string {
  const c = p.admission.containers.find((x) => x.role === "main");
  if (c === undefined) throw cliError("CLI_DEMO_CHECK_FAILED", `${p.name} has no main container`);
  return c.name;
}

function restarts(pod: RunningPod, container: string): number {
  return pod.status().containers.find((c) => c.name === container)?.restartCount ?? 0;
}

/** The application's port of a workload: its main container's first port (the mesh intercepts it). */
function appPort(p: DemoPod): number {
  const c = p.admission.containers.find((x) => x.role === "main");
  return c?.ports[0]?.containerPort ?? 8080;
}

/** GET / on the frontend through its mesh ingress, retried while the mesh comes up; 200 with the backend's answer. */
async function meshRequest(frontend: DemoPod, ca: string, timeoutMs: number) {
  const target = { host: frontend.pod.ip, port: appPort(frontend), ca, timeoutMs: 10_000 };
  const r = await retry(timeoutMs, async () => {
    const res = await meshGet(target);
    if (res.status !== 200) throw new Error(`status ${res.status}: ${res.body.slice(0, 200)}`);
    return res;
  }).catch((e: unknown) => {
    throw cliError(
      "CLI_DEMO_CHECK_FAILED",
      `GET https://${target.host}:${target.port}/ through the mesh failed: ${e instanceof Error ? e.message : String(e)}`,
      { details: { pod: frontend.name, status: summary(frontend.pod.status()) } },
    );
  });
  if (!r.body.includes("backend")) {
    throw cliError("CLI_DEMO_CHECK_FAILED", "the frontend answered, but not with the backend's answer", {
      details: { body: r.body },
    });
  }
  return r;
}

/** The SHA-256 of each manifest of verify/, in history order. */
async function historyHashes(dir: string): Promise<string[]> {
  const names = (await readdir(dir))
    .map((n) => /^manifest\.(\d+)\.json$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]));
  return Promise.all(names.map(async (m) => sha256Hex(await readFile(join(dir, m[0])))));
}

/**
 * A copy of the workload's generated YAML with its first container's environment changed (what
 * an attacker with access to the cluster's API could do after the manifest was set): the first
 * variable's value, or a new variable when it has none. The policy annotation stays as generated.
 */
async function tamper(workload: Workload, dir: string): Promise<{ file: string; workload: Workload; change: string }> {
  const [doc] = parseYamlDocuments(workload.yaml);
  const o = structuredClone(doc?.value) as Record<string, unknown>;
  const spec = (o.spec as Record<string, unknown>)?.template as Record<string, unknown> | undefined;
  const podSpec = (spec?.spec ?? (o.kind === "Pod" ? o.spec : undefined)) as Record<string, unknown> | undefined;
  const containers = podSpec?.containers;
  const c = Array.isArray(containers) ? containers[0] : undefined;
  if (!isRecord(c)) throw cliError("CLI_DEMO_CHECK_FAILED", `${workload.name} has no container to tamper with`);
  const env = Array.isArray(c.env) ? c.env : [];
  const firstVar = env.find((e) => isRecord(e) && typeof e.value === "string") as
    | { name: string; value: string }
    | undefined;
  let change: string;
  if (firstVar !== undefined) {
    const before = firstVar.value;
    // A URL is sent somewhere else (a documentation address): the story of a redirected call.
    firstVar.value = /^https?:\/\//.test(before)
      ? before.replace(/^(https?:\/\/)[^/]+/, (_m, scheme: string) => `${scheme}203.0.113.66:8080`)
      : `${before}-tampered`;
    change = `env ${firstVar.name}=${firstVar.value}, generated with ${before}`;
  } else {
    c.env = [...env, { name: "TAMPERED", value: "1" }];
    change = "env TAMPERED=1 added";
  }
  const yaml = serializeYamlDocuments([{ raw: workload.yaml, replacement: o, opened: false }]);
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${basename(workload.name)}.yml`);
  await writeFile(file, yaml);
  return { file, change, workload: { ...workload, yaml, object: o } };
}

/** A certificate's public key (SPKI DER, hex): what stays when a CA certificate is made anew. */
function publicKey(pem: string): string {
  return new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" }).toString("hex");
}

function short(hash: string | undefined): string {
  return hash === undefined ? "(none)" : `${hash.slice(0, 12)}…`;
}
