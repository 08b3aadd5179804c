import { createHash } from "node:crypto";
import { type Logger, noopLogger } from "@contrast/core";
import { inNetns, mustRun } from "./commands.js";
import { LocalrunError } from "./errors.js";
import { renderHosts } from "./etc-files.js";
import { type Host, type HostProcess, nodeHost } from "./host.js";
import type { HostLayout } from "./launch.js";
import { Pod, spawnHolder, startSandbox } from "./pod.js";
import { chooseSubnet, formatIpv4, parsePrefix, usedPrefixes } from "./subnet.js";
import type { LocalCluster, LocalClusterOptions, PodToRun, RunningPod, ServiceEntry } from "./types.js";
import { insideUserNamespace } from "./userns.js";

const BRIDGE = "lrbr0";

/**
 * Starts the cluster network: a holder process keeps a "node" network namespace with a bridge;
 * one veth joins it to this process's namespace, where it carries the subnet's .1 address so
 * the host side (the CLI, the tests) reaches every pod. Pods get a veth to the bridge each. The
 * node namespace and, with it, the host veth vanish when the holder dies, which it does when this
 * process dies too (parent-death signal), so even a crash leaves no link behind.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const host = options.host ?? nodeHost;
  const log = options.log ?? noopLogger;
  if (host.uid() !== 0) {
    throw new LocalrunError(
      "LOCALRUN_NOT_ROOT",
      `the local runtime needs root (this process runs as uid ${host.uid()})`,
      {
        hint: "Run as root, or let `contrast demo` re-execute itself in a user namespace (the default without root).",
      },
    );
  }
  const workDir = options.workDir.replace(/\/+$/, "");
  if (!workDir.startsWith("/")) throw new TypeError("startLocalCluster: workDir must be absolute");
  const rootless = await insideUserNamespace(host);
  await host.fs.mkdir(`${workDir}/pods`);
  if (rootless) await mustRun(host, log, ["ip", "link", "set", "lo", "up"]);

  const addrs = await mustRun(host, log, ["ip", "-4", "-o", "addr", "show"]);
  const routes = await mustRun(host, log, ["ip", "-4", "route", "show", "table", "all"]);
  const subnet = chooseSubnet(usedPrefixes(addrs.stdout, routes.stdout), `${workDir}\0${host.pid()}`, options.subnet);
  const prefix = parsePrefix(subnet);
  if (prefix === undefined) throw new Error(`invariant: chosen subnet ${subnet} does not parse`);
  const hostAddress = formatIpv4(prefix.base + 1);
  const hostVeth = `lr${createHash("sha256").update(`${workDir}\0${host.pid()}`).digest("hex").slice(0, 10)}`;

  const node = await spawnHolder(host, [
    "unshare",
    "--net",
    "--",
    "/bin/sh",
    "-c",
    `ip link set lo up && ip link add ${BRIDGE} type bridge && ip link set ${BRIDGE} up && echo ready && exec sleep infinity`,
  ]);
  try {
    await mustRun(host, log, [
      "ip",
      "link",
      "add",
      hostVeth,
      "type",
      "veth",
      "peer",
      "name",
      "host0",
      "netns",
      String(node.pid),
    ]);
    await mustRun(
      host,
      log,
      ["ip", "-batch", "-"],
      `addr add ${hostAddress}/24 dev ${hostVeth}\nlink set ${hostVeth} up\n`,
    );
    await mustRun(host, log, inNetns(node.pid, ["ip", "link", "set", "host0", "master", BRIDGE, "up"]));
  } catch (error) {
    node.kill("SIGKILL");
    await node.exited;
    await host.run(["ip", "link", "del", hostVeth], { env: host.commandEnv() });
    throw error;
  }
  const layout = await probeLayout(host);
  log.info("localrun: cluster network up", { subnet, hostAddress, rootless });
  return new Cluster(host, log, workDir, subnet, prefix.base, hostAddress, hostVeth, rootless, node, layout);
}

async function probeLayout(host: Host): Promise<HostLayout> {
  const topLevel: Record<string, string> = {};
  for (const name of ["lib", "lib64", "lib32", "libx32", "bin", "sbin"]) {
    const stat = await host.fs.lstat(`/${name}`);
    if (stat === undefined) continue;
    topLevel[name] = stat.type === "symlink" ? await host.fs.readlink(`/${name}`) : "dir";
  }
  const systemDirs: string[] = [];
  for (const dir of [
    "/usr/lib",
    "/usr/lib64",
    "/usr/lib32",
    "/usr/libx32",
    "/usr/libexec",
    "/usr/bin",
    "/usr/sbin",
    "/etc/alternatives",
  ]) {
    if ((await host.fs.lstat(dir))?.type === "directory") systemDirs.push(dir);
  }
  const etcFiles: string[] = [];
  for (const file of ["/etc/ld.so.cache"]) if ((await host.fs.lstat(file))?.type === "file") etcFiles.push(file);
  return { topLevel, systemDirs, etcFiles, nodeBinary: host.nodeBinary() };
}

class Cluster implements LocalCluster {
  private readonly live = new Map<string, Pod>();
  private services: readonly ServiceEntry[] = [];
  /** Host parts (.2 to .254) of pods that hold an address. */
  private readonly usedIndexes = new Set<number>();
  private nextIndex = 2;
  private closing: Promise<void> | undefined;
  private hostsWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: Host,
    private readonly log: Logger,
    readonly workDir: string,
    readonly subnet: string,
    private readonly base: number,
    readonly hostAddress: string,
    private readonly hostVeth: string,
    readonly rootless: boolean,
    private readonly node: HostProcess,
    private readonly layout: HostLayout,
  ) {}

  pods = (): readonly RunningPod[] => [...this.live.values()];

  async runPod(spec: PodToRun): Promise<RunningPod> {
    if (this.closing !== undefined) {
      throw new LocalrunError("LOCALRUN_CLUSTER_CLOSED", "the local cluster is closed", {
        hint: "Start a new local cluster.",
      });
    }
    const key = `${spec.namespace}_${spec.name}`;
    if (
      !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(spec.name) ||
      !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(spec.namespace)
    ) {
      throw new LocalrunError("LOCALRUN_POD_SPEC_INVALID", `pod name ${JSON.stringify(key)} is not a DNS name`, {
        hint: "Use lowercase letters, digits and '-' as Kubernetes does.",
      });
    }
    if (this.live.has(key)) {
      throw new LocalrunError("LOCALRUN_POD_EXISTS", `pod ${spec.namespace}/${spec.name} is already running`, {
        hint: "Stop the running pod first, or choose another name.",
      });
    }
    const index = this.allocateIndex();
    if (index === undefined) {
      throw new LocalrunError("LOCALRUN_SUBNET_UNAVAILABLE", `the pod network ${this.subnet} has no address left`, {
        kind: "io",
        hint: "Stop pods you no longer need.",
      });
    }
    const dir = `${this.workDir}/pods/${key}`;
    // A pod of the same name that ran before is gone; its logs and emptyDirs go with it, as in Kubernetes.
    await this.host.fs.rm(dir);
    await this.host.fs.mkdir(`${dir}/etc`);
    let sandbox: Awaited<ReturnType<typeof startSandbox>>;
    try {
      sandbox = await startSandbox(this.host, this.log, {
        nodePid: this.node.pid,
        bridge: BRIDGE,
        vethName: `lrp${index}`,
        ip: formatIpv4(this.base + index),
        prefixBits: 24,
        gateway: this.hostAddress,
        hostname: spec.admission.hostname,
      });
    } catch (error) {
      this.usedIndexes.delete(index);
      throw error;
    }
    if (this.closing !== undefined) {
      // close() ran while the sandbox started: it no longer sees this pod, so it goes here.
      sandbox.process.kill("SIGKILL");
      await sandbox.process.exited;
      throw new LocalrunError("LOCALRUN_CLUSTER_CLOSED", "the local cluster was closed while the pod started", {
        hint: "Start a new local cluster.",
      });
    }
    // A reused address may still sit in the host's neighbour cache with the old pod's MAC.
    await this.host.run(["ip", "neigh", "flush", "to", sandbox.ip, "dev", this.hostVeth], {
      env: this.host.commandEnv(),
    });
    const pod: Pod = new Pod(
      {
        host: this.host,
        log: this.log,
        layout: this.layout,
        rootless: this.rootless,
        nodePid: this.node.pid,
        refreshHosts: () => this.refreshHosts(),
        released: (p) => {
          if (this.live.get(key) === p) this.live.delete(key);
          this.usedIndexes.delete(index);
          void this.refreshHosts();
        },
      },
      spec,
      dir,
      sandbox,
    );
    this.live.set(key, pod);
    try {
      await pod.start();
    } catch (error) {
      await pod.stop();
      throw error;
    }
    return pod;
  }

  /**
   * The next free host part after the last one given out, round robin: an address is reused as
   * late as possible, so a stale neighbour entry or a client still talking to a stopped pod does
   * not meet its successor.
   */
  private allocateIndex(): number | undefined {
    for (let i = 0; i < 253; i++) {
      const index = 2 + ((this.nextIndex - 2 + i) % 253);
      if (!this.usedIndexes.has(index)) {
        this.usedIndexes.add(index);
        this.nextIndex = index + 1;
        return index;
      }
    }
    return undefined;
  }

  setServices(services: readonly ServiceEntry[]): void {
    this.services = [...services];
    void this.refreshHosts();
  }

  /**
   * Rewrites every pod's hosts file in place (same inode: the containers see it through a bind
   * mount of the file). Serialised, so two refreshes never interleave their writes.
   */
  private refreshHosts(): Promise<void> {
    const run = async (): Promise<void> => {
      const pods = [...this.live.values()];
      const dns = pods.map((p) => ({
        name: p.name,
        namespace: p.namespace,
        ip: p.ip,
        labels: p.labels,
        startedAt: p.startedAt,
      }));
      for (const p of pods) {
        const text = renderHosts({ ip: p.ip, hostname: p.hostname, namespace: p.namespace }, this.services, dns);
        await this.host.fs.writeFile(`${p.dir}/etc/hosts`, text).catch((error: unknown) => {
          this.log.warn("localrun: cannot write a hosts file", { pod: p.name, error: (error as Error).message });
        });
      }
    };
    this.hostsWrite = this.hostsWrite.then(run, run);
    return this.hostsWrite;
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    await Promise.all([...this.live.values()].map((p) => p.stop()));
    this.node.kill("SIGKILL");
    await this.node.exited;
    // Normally gone with the node namespace already; a leftover would keep a route to the subnet.
    const del = await this.host.run(["ip", "link", "del", this.hostVeth], { env: this.host.commandEnv() });
    if (del.code !== 0 && !/Cannot find device|does not exist|No such device/.test(del.stderr)) {
      this.log.warn("localrun: cannot remove the host veth", { veth: this.hostVeth, stderr: del.stderr.trim() });
    }
    this.log.info("localrun: cluster closed", { subnet: this.subnet });
  }
}
