import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, type PodEvent, startLocalCluster } from "../src/index.js";
import { admission, buildTestLayout, container, podToRun, scratchDir } from "./runtime-helpers.js";

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const tools = ["ip", "unshare", "nsenter", "setpriv", "chroot"].every(
  (t) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0,
);
const reason = !isRoot
  ? "needs root (namespaces, mounts); CI runs as root"
  : !tools
    ? "needs iproute2 and util-linux"
    : "";

describe.skipIf(reason !== "")(
  `local cluster with real namespaces${reason === "" ? "" : ` (skipped: ${reason})`}`,
  () => {
    const scratch = scratchDir("cluster");
    const work = `${scratch.path}/work`;
    const layout = `${scratch.path}/layout`;
    let cluster: LocalCluster;

    beforeAll(async () => {
      await buildTestLayout(layout);
      cluster = await startLocalCluster({ workDir: work });
    }, 60_000);

    afterAll(async () => {
      await cluster?.close();
      scratch.remove();
    }, 60_000);

    it("runs two pods that talk over the bridge by Service name, with only the admitted environment", async () => {
      const backend = await cluster.runPod(
        podToRun(
          work,
          layout,
          "backend-0",
          admission(
            "backend-0",
            [
              container("server", ["/app/server.mjs"], {
                env: ["PATH=/usr/bin:/bin", "ALLOWED=yes"],
                probes: [
                  {
                    type: "readiness",
                    action: { kind: "httpGet", port: 8080, path: "/", scheme: "HTTP" },
                    initialDelaySeconds: 0,
                    periodSeconds: 1,
                    timeoutSeconds: 2,
                    successThreshold: 1,
                    failureThreshold: 3,
                  },
                ],
              }),
            ],
            { labels: { app: "backend" } },
          ),
          { vmEnv: { CONTRAST_SIM_POLICY_HASH: "ab".repeat(32) } },
        ),
      );
      cluster.setServices([{ name: "backend", namespace: "default", selector: { app: "backend" } }]);
      await backend.waitFor("Ready", 60_000);
      const res = await fetch(`http://${backend.ip}:8080/`);
      const body = (await res.json()) as { hostname: string; env: Record<string, string>; cwd: string };
      expect(body.hostname).toBe("backend-0");
      expect(body.cwd).toBe("/app");
      // Exactly the admitted variables plus the VM's own, nothing of the host's.
      expect(body.env).toEqual({ PATH: "/usr/bin:/bin", ALLOWED: "yes", CONTRAST_SIM_POLICY_HASH: "ab".repeat(32) });

      const client = await cluster.runPod(
        podToRun(
          work,
          layout,
          "client",
          admission("client", [
            container("get", ["/app/get.mjs", "http://backend.default.svc.cluster.local:8080/"], {
              restartPolicy: "Never",
            }),
          ]),
        ),
      );
      await client.waitFor("Succeeded", 60_000);
      await expect(client.waitFor("Ready", 1000)).rejects.toMatchObject({ code: "LOCALRUN_POD_FAILED" });
      const line = client
        .logs("get")
        .split("\n")
        .find((l) => l.startsWith("BODY "));
      const seen = JSON.parse(line?.slice(5) ?? "{}") as { hostname: string; hosts: string };
      expect(seen.hostname).toBe("backend-0");
      // setServices after the backend started rewrote its hosts file in place: the running container sees it.
      expect(seen.hosts).toContain(
        `${backend.ip}\tbackend backend.default backend.default.svc backend.default.svc.cluster.local\n`,
      );
    }, 120_000);

    it("shares an emptyDir between an init container and a main container; restarts by policy", async () => {
      const events: PodEvent[] = [];
      const pod = await cluster.runPod(
        podToRun(
          work,
          layout,
          "shared",
          admission(
            "shared",
            [
              container("writer", ["/app/write.mjs", "/data/note", "written by init"], {
                role: "init",
                volumeMounts: [{ name: "data", mountPath: "/data", readOnly: false }],
              }),
              container("reader", ["/app/server.mjs"], {
                env: ["READ_FILE=/data/note"],
                volumeMounts: [{ name: "data", mountPath: "/data", readOnly: true }],
              }),
              container("crasher", ["/app/env.mjs", "3"], { restartPolicy: "Always" }),
            ],
            { volumes: [{ name: "data", kind: "emptyDir" }] },
          ),
        ),
      );
      pod.on("event", (e) => events.push(e));
      await pod.waitFor("Initialized", 60_000);
      // The crasher restarts with backoff; wait until it has been restarted once.
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if ((pod.status().containers.find((c) => c.name === "crasher")?.restartCount ?? 0) >= 1) resolve();
        };
        pod.on("event", check);
        check();
      });
      const crasher = pod.status().containers.find((c) => c.name === "crasher");
      expect(crasher?.lastExit?.exitCode).toBe(3);
      expect(events.some((e) => e.type === "restarting" && e.container === "crasher")).toBe(true);
      const body = (await (await fetch(`http://${pod.ip}:8080/`)).json()) as { shared: string };
      expect(body.shared).toBe("written by init\n");
      await pod.stop();
      expect(pod.status().phase).toBe("Stopped");
    }, 120_000);
  },
);
