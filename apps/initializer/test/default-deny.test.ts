import { chmodSync, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileRunner, installDefaultDeny } from "@contrast/netfilter";
import { createNetns, execInSync, type Netns, netnsAvailable, scratchDir, spawnIn } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { INITIALIZER } from "./processes.js";

// CONTRAST_SERVICE_MESH_DISABLED: the built initializer in a network namespace whose INPUT chain
// holds the pod VM's default-deny rule, as a pod without a mesh sidecar starts.

const available = netnsAvailable();
const reason = available.ok ? "" : ` (skipped: ${available.reason})`;
const DENY = "-A INPUT -m conntrack ! --ctstate RELATED,ESTABLISHED -j DROP";
const HASH = "ab".repeat(32);

/**
 * The bundle where any user can read it: the unprivileged run must fail at the iptables call, not
 * at loading a bundle inside a checkout that only root may enter (mktemp -d makes 0700 folders).
 */
function readableBundle(): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "contrast-initializer-"));
  chmodSync(dir, 0o755);
  const path = join(dir, "contrast-initializer.cjs");
  copyFileSync(INITIALIZER, path);
  chmodSync(path, 0o644);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the initializer in `ns` until it exits (a sim dir without an authority: exit 1 right after the rule step). */
async function runInitializer(ns: Netns, env: Record<string, string>, wrapper: readonly string[] = []) {
  const bundle = readableBundle();
  const child = spawnIn(
    ns,
    [
      ...wrapper,
      process.execPath,
      bundle.path,
      "--platform",
      "sim",
      "--sim-dir",
      scratchDir(),
      "--sim-policy-hash",
      HASH,
      "--coordinator-host",
      "127.0.0.1",
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: { PATH: process.env.PATH ?? "", HOME: "/", ...env } },
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  bundle.remove();
  const logs = stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { msg: string; error?: { code?: string } });
  return { code, logs };
}

describe("CONTRAST_SERVICE_MESH_DISABLED (built initializer, real iptables)", () => {
  it.skipIf(!available.ok)(
    `set: the initializer removes the default-deny rule before anything else${reason}`,
    async () => {
      const pod = createNetns("init");
      const runner = execFileRunner({ wrapper: ["ip", "netns", "exec", pod.name] });
      await installDefaultDeny(runner);
      const rules = (binary: string) => execInSync(pod, [binary, "-w", "-S", "INPUT"]);

      const unset = await runInitializer(pod, {});
      expect(unset.code).toBe(1);
      expect(rules("iptables")).toContain(DENY);

      // Without NET_ADMIN the removal fails, the initializer stops there: exit 1, the rule stays.
      const denied = await runInitializer(pod, { CONTRAST_SERVICE_MESH_DISABLED: "true" }, [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
      ]);
      expect(denied.code).toBe(1);
      expect(denied.logs.at(-1)?.error?.code).toBe("NETFILTER_PERMISSION_DENIED");
      expect(rules("iptables")).toContain(DENY);

      const set = await runInitializer(pod, { CONTRAST_SERVICE_MESH_DISABLED: "true" });
      expect(set.logs.map((l) => l.msg)).toContain("default-deny rule removed");
      expect(set.code).toBe(1); // the sim dir has no authority: the step after the rule fails
      expect(rules("iptables")).not.toContain(DENY);
      expect(rules("ip6tables")).not.toContain(DENY);

      const again = await runInitializer(pod, { CONTRAST_SERVICE_MESH_DISABLED: "true" });
      expect(again.logs.map((l) => l.msg)).toContain("no default-deny rule, nothing to do");
    },
  );
});
