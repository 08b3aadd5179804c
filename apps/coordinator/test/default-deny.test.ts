import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { LogFields, Logger } from "@contrast/core";
import { execFileRunner, type IptablesRunner, installDefaultDeny } from "@contrast/netfilter";
import {
  connectNetns,
  createNetns,
  execIn,
  execInSync,
  expectCodeAsync,
  netnsAvailable,
  scratchDir,
  spawnIn,
} from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { liftDefaultDeny } from "../src/default-deny.js";

const DENY = "-m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP";

function recorder() {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: LogFields): void => {
      lines.push({ level, msg, ...(fields === undefined ? {} : { fields }) });
    };
  const log: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { log, lines };
}

/** A fake iptables whose INPUT chain holds `rules`; records every call. */
function fake(rules: string[]) {
  const calls: string[] = [];
  const runner: IptablesRunner = async (binary, args) => {
    calls.push(`${binary} ${args.join(" ")}`);
    const spec = args.slice(args.indexOf("INPUT") + 1).join(" ");
    const at = rules.indexOf(`${binary} ${spec}`);
    if (args.includes("-C")) return { code: at >= 0 ? 0 : 1, stdout: "", stderr: "" };
    if (args.includes("-D") && at >= 0) rules.splice(at, 1);
    return { code: 0, stdout: "", stderr: "" };
  };
  return { runner, calls };
}

describe("liftDefaultDeny", () => {
  it("auto on sim and keep touch nothing; auto on snp and tdx removes the rule", async () => {
    for (const config of [
      { defaultDeny: "auto", platform: "sim" },
      { defaultDeny: "keep", platform: "snp" },
    ] as const) {
      const f = fake([`iptables ${DENY}`]);
      await liftDefaultDeny(config, { log: recorder().log, iptables: f.runner });
      expect(f.calls).toEqual([]);
    }
    for (const platform of ["snp", "tdx"] as const) {
      const f = fake([`iptables ${DENY}`]);
      const r = recorder();
      await liftDefaultDeny({ defaultDeny: "auto", platform }, { log: r.log, iptables: f.runner });
      expect(f.calls).toContain(`iptables -w -t filter -D INPUT ${DENY}`);
      expect(r.lines.map((l) => l.msg)).toEqual(["default-deny rule removed"]);
    }
  });

  it("auto keeps running without iptables (a warning); remove fails", async () => {
    const missing = execFileRunner({
      binaries: { iptables: "/nonexistent/iptables", ip6tables: "/nonexistent/ip6tables" },
    });
    const r = recorder();
    await liftDefaultDeny({ defaultDeny: "auto", platform: "snp" }, { log: r.log, iptables: missing });
    expect(r.lines).toMatchObject([{ level: "warn", fields: { error: { code: "NETFILTER_IPTABLES_MISSING" } } }]);
    await expectCodeAsync(
      () => liftDefaultDeny({ defaultDeny: "remove", platform: "sim" }, { log: r.log, iptables: missing }),
      "NETFILTER_IPTABLES_MISSING",
    );
  });
});

const available = netnsAvailable();
const reason = available.ok ? "" : ` (skipped: ${available.reason})`;
const BUNDLE = fileURLToPath(new URL("../dist/contrast-coordinator.cjs", import.meta.url));

describe("the built Coordinator in a pod VM's network namespace", () => {
  it.skipIf(!available.ok)(
    `--default-deny remove lifts the rule once it listens: the probe port becomes reachable${reason}`,
    { timeout: 60_000 },
    async () => {
      if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run pnpm build`);
      const pod = createNetns("coord");
      const client = createNetns("cli");
      connectNetns({ ns: client, ipv4: "10.233.0.1/24" }, { ns: pod, ipv4: "10.233.0.2/24" });
      await installDefaultDeny(execFileRunner({ wrapper: ["ip", "netns", "exec", pod.name] }));
      const probe = `require("node:http").get("http://10.233.0.2:19102/probe/liveness", { timeout: 700 }, (r) => { console.log(r.statusCode); process.exit(0); }).on("timeout", () => { console.log("timeout"); process.exit(0); }).on("error", (e) => { console.log(e.code); process.exit(0); });`;
      const start = (mode: string) => {
        const child = spawnIn(
          pod,
          [
            process.execPath,
            BUNDLE,
            "--platform",
            "sim",
            "--state-dir",
            scratchDir(),
            "--sim-dir",
            scratchDir(),
            "--user-api-port",
            "0",
            "--mesh-api-port",
            "0",
            "--probe-port",
            "19102",
            "--default-deny",
            mode,
          ],
          { stdio: ["ignore", "ignore", "pipe"] },
        );
        let stderr = "";
        const listening = new Promise<string>((resolve, reject) => {
          child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
            stderr += chunk;
            if (stderr.includes('"coordinator listening"')) resolve(stderr);
          });
          child.once("exit", (code) => reject(new Error(`coordinator exited ${code}: ${stderr}`)));
        });
        return { child, listening };
      };

      // auto on sim: the rule stays, and nothing reaches the listening Coordinator from outside.
      const auto = start("auto");
      await auto.listening;
      expect(execInSync(pod, ["iptables", "-w", "-S", "INPUT"])).toContain(DENY);
      expect((await execIn(client, [process.execPath, "-e", probe])).stdout.trim()).toBe("timeout");
      auto.child.kill("SIGTERM");
      await new Promise((resolve) => auto.child.once("exit", resolve));

      const remove = start("remove");
      const logs = await remove.listening;
      expect(logs).toContain('"default-deny rule removed"');
      expect(execInSync(pod, ["iptables", "-w", "-S", "INPUT"])).not.toContain(DENY);
      expect((await execIn(client, [process.execPath, "-e", probe])).stdout.trim()).toBe("200");
      remove.child.kill("SIGTERM");
    },
  );
});
