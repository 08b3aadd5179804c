import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  connectNetns,
  createNetns,
  execIn,
  execInSync,
  expectCodeAsync,
  type Netns,
  netnsAvailable,
  spawnIn,
} from "@contrast/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import {
  execFileRunner,
  type IpFamily,
  type IptablesRunner,
  installDefaultDeny,
  planInterception,
  removeDefaultDeny,
  removeInterception,
  ruleText,
  setUpInterception,
} from "../src/index.js";

// Real iptables and ip6tables in network namespaces: a "pod" with the rules, and a "client" on the
// other end of a veth pair. A stand-in for the proxy (fixtures/intercept-server.mjs) runs in the
// pod and reports what the built library's originalDestination says about each connection.

const available = netnsAvailable();
const reason = available.ok ? "" : ` (skipped: ${available.reason})`;
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const DIST_INDEX = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const ADDON = fileURLToPath(new URL("../dist/original_dst.node", import.meta.url));

const POD4 = "10.232.0.2";
const CLIENT4 = "10.232.0.1";
const POD6 = "fd00:232::2";
const INGRESS = [
  { port: 8080, disableTLS: false },
  { port: 9090, disableTLS: true },
];
const PROXY = { mtls: 15006, tls: 15007 };

interface Pods {
  readonly pod: Netns;
  readonly client: Netns;
  readonly runner: IptablesRunner;
}

function pods(): Pods {
  const pod = createNetns("pod");
  const client = createNetns("client");
  connectNetns(
    { ns: client, ipv4: `${CLIENT4}/24`, ipv6: "fd00:232::1/64" },
    { ns: pod, ipv4: `${POD4}/24`, ipv6: `${POD6}/64` },
  );
  return { pod, client, runner: execFileRunner({ wrapper: ["ip", "netns", "exec", pod.name] }) };
}

async function startServer(pod: Netns, mode: "split" | "dual"): Promise<ChildProcess> {
  const child = spawnIn(pod, [process.execPath, fixture("intercept-server.mjs"), DIST_INDEX, ADDON, mode], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`intercept-server exited ${code}`)));
  });
  return child;
}

type Outcome = { target: string; reply?: { listener: number; dst?: unknown; error?: string }; error?: string };

async function connectAll(client: Netns, targets: readonly string[], timeoutMs = 3000): Promise<Outcome[]> {
  const result = await execIn(client, [process.execPath, fixture("connect-all.mjs"), ...targets], {
    env: { ...process.env, CONNECT_TIMEOUT_MS: String(timeoutMs) },
  });
  return JSON.parse(result.stdout) as Outcome[];
}

function natRules(pod: Netns, family: IpFamily): string[] {
  const binary = family === 4 ? "iptables" : "ip6tables";
  const lines = execInSync(pod, [binary, "-w", "-t", "nat", "-S"]).trim().split("\n");
  return ["PREROUTING", "CONTRAST_INBOUND", "CONTRAST_IN_REDIRECT"].flatMap((chain) =>
    lines.filter((line) => line.startsWith(`-A ${chain} `)),
  );
}

function inputRules(pod: Netns, family: IpFamily): string[] {
  return execInSync(pod, [family === 4 ? "iptables" : "ip6tables", "-w", "-S", "INPUT"])
    .trim()
    .split("\n");
}

describe("interception in a network namespace (real iptables)", () => {
  beforeAll(() => {
    if (!available.ok) return;
    // The fixture runs the built library: pnpm test builds first; a bare vitest run needs `pnpm build`.
    for (const file of [DIST_INDEX, ADDON]) {
      if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm --filter @contrast/netfilter build`);
    }
  });

  it.skipIf(!available.ok)(
    `the applied rules are the planned ones, and a second run changes nothing${reason}`,
    async () => {
      const { pod, runner } = pods();
      const first = await setUpInterception({ ingress: INGRESS, proxyPorts: PROXY, runner });
      expect(first.families).toEqual([
        { family: 4, rewritten: true, jumpAdded: true },
        { family: 6, rewritten: true, jumpAdded: true },
      ]);
      for (const family of [4, 6] as const) {
        const plan = planInterception({ ingress: INGRESS, proxyPorts: PROXY, family });
        expect(natRules(pod, family)).toEqual([ruleText(plan.jump), ...plan.rules.map(ruleText)]);
      }
      const before = execInSync(pod, ["iptables-save", "-t", "nat"]).replace(/^#.*\n/gm, "");
      const second = await setUpInterception({ ingress: INGRESS, proxyPorts: PROXY, runner });
      expect(second.families).toEqual([
        { family: 4, rewritten: false, jumpAdded: false },
        { family: 6, rewritten: false, jumpAdded: false },
      ]);
      expect(execInSync(pod, ["iptables-save", "-t", "nat"]).replace(/^#.*\n/gm, "")).toBe(before);

      // A changed configuration rewrites the chains; the jump stays single.
      const changed = await setUpInterception({
        ingress: [{ port: 7000, disableTLS: true }],
        proxyPorts: PROXY,
        runner,
      });
      expect(changed.families.map((f) => f.rewritten)).toEqual([true, true]);
      const plan = planInterception({ ingress: [{ port: 7000, disableTLS: true }], proxyPorts: PROXY, family: 4 });
      expect(natRules(pod, 4)).toEqual([ruleText(plan.jump), ...plan.rules.map(ruleText)]);

      // A guard left behind by a run that died mid-rewrite is cleared by the next run.
      execInSync(pod, ["iptables", "-w", "-t", "nat", "-I", "PREROUTING", "1", ...plan.guard.spec]);
      expect(natRules(pod, 4)[0]).toBe(ruleText(plan.guard));
      await setUpInterception({ ingress: [{ port: 7000, disableTLS: true }], proxyPorts: PROXY, runner });
      expect(natRules(pod, 4)).toEqual([ruleText(plan.jump), ...plan.rules.map(ruleText)]);

      await removeInterception(runner);
      await removeInterception(runner);
      expect(natRules(pod, 4)).toEqual([]);
    },
  );

  for (const mode of ["split", "dual"] as const) {
    it.skipIf(!available.ok)(
      `redirected ports land on the proxy ports with their original destination, passthrough stays plain (${mode} listeners)${reason}`,
      async () => {
        const { pod, client, runner } = pods();
        await setUpInterception({ ingress: INGRESS, proxyPorts: PROXY, runner });
        await startServer(pod, mode);
        const outcomes = await connectAll(client, [
          `${POD4}:8080`,
          `${POD4}:5432`,
          `${POD4}:9090`,
          `[${POD6}]:8080`,
          `[${POD6}]:5432`,
          `[${POD6}]:9090`,
          `${POD4}:15007`,
        ]);
        expect(outcomes.map((o) => o.reply)).toEqual([
          { listener: 15007, dst: { family: 4, address: POD4, port: 8080 }, target: `${POD4} 8080` },
          { listener: 15006, dst: { family: 4, address: POD4, port: 5432 }, target: `${POD4} 5432` },
          // Passthrough: the app itself; tracked but not rewritten, so its own address.
          { listener: 9090, dst: { family: 4, address: POD4, port: 9090 } },
          { listener: 15007, dst: { family: 6, address: POD6, port: 8080 }, target: `${POD6} 8080` },
          { listener: 15006, dst: { family: 6, address: POD6, port: 5432 }, target: `${POD6} 5432` },
          { listener: 9090, dst: { family: 6, address: POD6, port: 9090 } },
          // Addressed to the proxy port itself: redirected onto itself, refused as a loop.
          { listener: 15006, dst: { family: 4, address: POD4, port: 15007 }, target: "NETFILTER_PROXY_LOOP" },
        ]);
        // conntrack, read with the conntrack tool, holds the same mapping the addon read.
        const flows = execInSync(pod, ["conntrack", "-L", "-p", "tcp", "--orig-port-dst", "8080"]);
        expect(flows).toMatch(
          new RegExp(`src=${CLIENT4} dst=${POD4} sport=\\d+ dport=8080 src=${POD4} dst=${CLIENT4} sport=15007 `),
        );
        // Loopback is not intercepted: inside the pod, 8080 has no listener.
        const inside = await connectAll(pod, ["127.0.0.1:8080", "127.0.0.1:15006"]);
        expect(inside[0]?.error).toBe("ECONNREFUSED");
        // A local connection straight to the proxy port is tracked but not rewritten: its original
        // destination is the proxy port itself, which the proxy's loop protection refuses.
        expect(inside[1]?.reply).toEqual({
          listener: 15006,
          dst: { family: 4, address: "127.0.0.1", port: 15006 },
          target: "NETFILTER_PROXY_LOOP",
        });
      },
    );
  }

  it.skipIf(!available.ok)(
    `the proxy's plaintext connection to the original destination reaches the app, not the proxy again${reason}`,
    async () => {
      const { pod, client, runner } = pods();
      await setUpInterception({ ingress: INGRESS, proxyPorts: PROXY, runner });
      const child = spawnIn(pod, [process.execPath, fixture("forwarding-proxy.mjs"), DIST_INDEX, ADDON], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      await new Promise((resolve) => child.stdout?.once("data", resolve));
      const outcomes = await connectAll(client, [`${POD4}:8080`, `[${POD6}]:8080`, `${POD4}:15006`, `${POD4}:7000`]);
      expect(outcomes.map((o) => o.reply ?? o.error)).toEqual([
        // Through the proxy: the app sees the pod's own address, not the client's.
        { app: 8080, from: POD4 },
        { app: 8080, from: POD6 },
        { proxy: 15006, refused: "NETFILTER_PROXY_LOOP" },
        // Nothing listens on 7000: the proxy's connection is refused, not looped.
        { proxy: 15006, upstreamError: "ECONNREFUSED" },
      ]);
    },
  );

  it.skipIf(!available.ok)(`without any nat rule the addon reports NETFILTER_NOT_REDIRECTED${reason}`, async () => {
    const { pod, client } = pods();
    await startServer(pod, "split");
    const outcomes = await connectAll(client, [`${POD4}:15006`, `[${POD6}]:15007`]);
    expect(outcomes.map((o) => o.reply)).toEqual([
      { listener: 15006, error: "NETFILTER_NOT_REDIRECTED", target: "NETFILTER_NOT_REDIRECTED" },
      { listener: 15007, error: "NETFILTER_NOT_REDIRECTED", target: "NETFILTER_NOT_REDIRECTED" },
    ]);
  });

  it.skipIf(!available.ok)(
    `the default-deny rule goes only after every family's nat rules are in place${reason}`,
    async () => {
      const { pod, client, runner } = pods();
      await installDefaultDeny(runner);
      await installDefaultDeny(runner);
      const denyLine = "-A INPUT -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP";
      expect(inputRules(pod, 4).filter((l) => l === denyLine)).toHaveLength(1);
      expect(inputRules(pod, 6).filter((l) => l === denyLine)).toHaveLength(1);
      await startServer(pod, "split");
      const denied = await connectAll(client, [`${POD4}:9090`, `[${POD6}]:9090`], 800);
      expect(denied.map((o) => o.error)).toEqual(["TIMEOUT", "TIMEOUT"]);

      // ip6tables failing half-way: IPv4 is done, but the rule stays in both families.
      const failing: IptablesRunner = (binary, args) =>
        binary === "ip6tables" && args.includes("-A")
          ? Promise.resolve({ code: 4, stdout: "", stderr: "ip6tables: simulated failure" })
          : runner(binary, args);
      await expectCodeAsync(
        () => setUpInterception({ ingress: INGRESS, proxyPorts: PROXY, runner: failing }),
        "NETFILTER_COMMAND_FAILED",
      );
      expect(inputRules(pod, 4)).toContain(denyLine);
      expect(inputRules(pod, 6)).toContain(denyLine);

      const calls: string[] = [];
      const recording: IptablesRunner = (binary, args) => {
        calls.push(`${binary} ${args.join(" ")}`);
        return runner(binary, args);
      };
      const report = await setUpInterception({ ingress: INGRESS, proxyPorts: PROXY, runner: recording });
      expect(report.defaultDenyRemoved).toEqual([
        { family: 4, removed: true },
        { family: 6, removed: true },
      ]);
      const firstDelete = calls.findIndex((c) => c.includes(" -D INPUT"));
      const lastNat = calls.findLastIndex((c) => c.includes("-t nat") && (c.includes(" -A ") || c.includes(" -C ")));
      expect(firstDelete).toBeGreaterThan(lastNat);
      expect(inputRules(pod, 4)).not.toContain(denyLine);
      expect(inputRules(pod, 6)).not.toContain(denyLine);
      const open = await connectAll(client, [`${POD4}:9090`, `[${POD6}]:9090`, `${POD4}:8080`]);
      expect(open.map((o) => o.reply?.listener)).toEqual([9090, 9090, 15007]);
      expect(await removeDefaultDeny(runner)).toBe(false);
    },
  );

  it.skipIf(!available.ok)(`without NET_ADMIN iptables' refusal is NETFILTER_PERMISSION_DENIED${reason}`, async () => {
    const { pod } = pods();
    const unprivileged = execFileRunner({
      wrapper: ["ip", "netns", "exec", pod.name, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
    });
    await expectCodeAsync(
      () => setUpInterception({ ingress: [], runner: unprivileged }),
      "NETFILTER_PERMISSION_DENIED",
    );
  });
});

describe("execFileRunner", () => {
  it("a missing binary is NETFILTER_IPTABLES_MISSING", async () => {
    const runner = execFileRunner({ binaries: { iptables: "/nonexistent/iptables" } });
    await expectCodeAsync(
      () => setUpInterception({ ingress: [], runner, families: [4] }),
      "NETFILTER_IPTABLES_MISSING",
    );
  });
});
