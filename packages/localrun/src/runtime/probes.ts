import type { Host } from "./host.js";
import type { RuntimeProbe } from "./types.js";

export interface ProbeTarget {
  readonly host: Host;
  readonly podIp: string;
  /** Runs an exec probe's command in the container; resolves with its exit status. */
  exec(command: readonly string[], timeoutMs: number): Promise<number>;
}

/** One probe attempt: undefined on success, else why it failed. */
export async function probeOnce(probe: RuntimeProbe, target: ProbeTarget): Promise<string | undefined> {
  const timeoutMs = Math.max(1, probe.timeoutSeconds) * 1000;
  const action = probe.action;
  try {
    if (action.kind === "httpGet") {
      const host = action.host ?? target.podIp;
      const path = action.path.startsWith("/") ? action.path : `/${action.path}`;
      const status = await target.host.httpGet(
        `${action.scheme.toLowerCase()}://${host}:${action.port}${path}`,
        timeoutMs,
      );
      // The kubelet counts 200 to 399 as success.
      return status >= 200 && status < 400 ? undefined : `HTTP probe failed with statuscode: ${status}`;
    }
    if (action.kind === "tcpSocket") {
      await target.host.tcpConnect(action.host ?? target.podIp, action.port, timeoutMs);
      return undefined;
    }
    // The agent refuses a denied exec before anything runs in the container.
    if (probe.allowed === false) return `exec ${JSON.stringify(action.command)} denied by the agent policy`;
    const code = await target.exec(action.command, timeoutMs);
    return code === 0 ? undefined : `command ${JSON.stringify(action.command)} exited ${code}`;
  } catch (error) {
    return (error as Error).message;
  }
}
