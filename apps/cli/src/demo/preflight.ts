import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { cliError } from "../coordinator/errors.js";

/**
 * The host programs the demo cannot do without, by the package that has them on Debian: the
 * runtime's namespaces and mounts (util-linux), its network (iproute2), and the service mesh's
 * interception, which the sidecar runs with the host's iptables.
 */
export const DEMO_TOOLS = {
  unshare: "util-linux",
  nsenter: "util-linux",
  ip: "iproute2",
  iptables: "iptables",
} as const;

/** Throws CLI_DEMO_TOOL_MISSING naming every missing program and its package, before anything starts. */
export function checkDemoTools(
  pathEnv: string | undefined,
  executable: (file: string) => boolean = isExecutable,
): void {
  // sbin directories are searched too: a user's PATH often lacks them, the runtime's does not.
  const dirs = [...(pathEnv ?? "").split(delimiter).filter((d) => d !== ""), "/usr/sbin", "/sbin"];
  const missing = Object.entries(DEMO_TOOLS).filter(([tool]) => !dirs.some((d) => executable(join(d, tool))));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, p]) => p))];
    throw cliError(
      "CLI_DEMO_TOOL_MISSING",
      `the demo needs ${missing.map(([t]) => t).join(", ")}, which ${missing.length === 1 ? "is" : "are"} not installed`,
      {
        hint: `Install ${packages.join(" and ")} (Debian and Ubuntu: apt-get install ${packages.join(" ")}).`,
        details: { missing: missing.map(([tool, pkg]) => ({ tool, package: pkg })) },
      },
    );
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
