import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCluster, type PodEvent, startLocalCluster } from "../src/index.js";
import { admission, buildTestLayout, container, httpReady, podToRun, scratchDir } from "./runtime-helpers.js";

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
                probes: [httpReady(8080)],
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
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (pod.status().containers.find((c) => c.name === "reader")?.ready) resolve();
        };
        pod.on("event", check);
        check();
      });
      const body = (await (await fetch(`http://${pod.ip}:8080/`)).json()) as { shared: string };
      expect(body.shared).toBe("written by init\n");
      await pod.stop();
      expect(pod.status().phase).toBe("Stopped");
      // Stopped with SIGTERM (the server has no handler for it), not killed.
      expect(pod.status().containers.find((c) => c.name === "reader")?.current).toMatchObject({
        state: "terminated",
        signal: "SIGTERM",
      });
    }, 120_000);

    it("keeps a claim directory across pod restarts; emptyDirs start empty", async () => {
      const spec = () =>
        podToRun(
          work,
          layout,
          "stateful-0",
          admission(
            "stateful-0",
            [
              container("count", ["/app/write.mjs", "/state/starts", "start"], {
                role: "init",
                volumeMounts: [{ name: "state", mountPath: "/state", readOnly: false }],
              }),
              container("scratch", ["/app/write.mjs", "/scratch/starts", "start"], {
                role: "init",
                volumeMounts: [{ name: "scratch", mountPath: "/scratch", readOnly: false }],
              }),
              container("serve", ["/app/server.mjs"], {
                env: ["READ_FILE=/state/starts"],
                probes: [httpReady(8080)],
                volumeMounts: [
                  { name: "state", mountPath: "/state", readOnly: true },
                  { name: "config", mountPath: "/etc/app", readOnly: true },
                ],
              }),
            ],
            {
              volumes: [
                { name: "state", kind: "claim", claim: "state-stateful-0" },
                { name: "scratch", kind: "emptyDir" },
                { name: "config", kind: "files", files: { "app.conf": "key=value\n" } },
              ],
            },
          ),
        );
      const first = await cluster.runPod(spec());
      await first.waitFor("Ready", 60_000);
      await first.stop();
      const second = await cluster.runPod(spec());
      await second.waitFor("Ready", 60_000);
      const body = (await (await fetch(`http://${second.ip}:8080/`)).json()) as { shared: string };
      expect(body.shared).toBe("start\nstart\n");
      expect(readFileSync(`${work}/claims/state-stateful-0/starts`, "utf8")).toBe("start\nstart\n");
      expect(readFileSync(`${work}/pods/default_stateful-0/volumes/scratch/starts`, "utf8")).toBe("start\n");
      expect(readFileSync(`${work}/pods/default_stateful-0/volumes/config/app.conf`, "utf8")).toBe("key=value\n");
      await second.stop();
    }, 120_000);

    it("follows restartPolicy: Never fails the pod, OnFailure restarts a failure and keeps a success", async () => {
      const never = await cluster.runPod(
        podToRun(
          work,
          layout,
          "never",
          admission("never", [
            container("once", ["/app/env.mjs", "7"], {
              restartPolicy: "Never",
              user: { uid: 65534, gid: 65534 },
              cwd: "/made/for/it",
            }),
          ]),
        ),
      );
      await expect(never.waitFor("Running", 60_000)).resolves.toBeUndefined();
      await expect(never.waitFor("Succeeded", 60_000)).rejects.toMatchObject({ code: "LOCALRUN_POD_FAILED" });
      expect(never.status().phase).toBe("Failed");
      expect(never.status().containers[0]?.restartCount).toBe(0);
      expect(never.status().containers[0]?.lastExit?.exitCode).toBe(7);
      // The admitted user and cwd (created when the image lacks it), not root's.
      expect(never.logs("once")).toContain('"cwd":"/made/for/it","uid":65534,"gid":65534,');

      // An init container failing once: OnFailure retries it, the mains start after it succeeded.
      const flaky = await cluster.runPod(
        podToRun(
          work,
          layout,
          "flaky",
          admission(
            "flaky",
            [
              container("init-fails-first", ["/app/write.mjs", "/data/tries", "x", "0"], {
                role: "init",
                restartPolicy: "OnFailure",
                // Fails while /data/go is missing (the script exits with the status its 3rd argument gives).
                args: ["/bin/sh", "-c", 'echo try >> /data/tries; [ "$(wc -l < /data/tries)" -ge 2 ]'],
                volumeMounts: [{ name: "data", mountPath: "/data", readOnly: false }],
              }),
              container("ok", ["/app/env.mjs", "0"], {
                restartPolicy: "OnFailure",
                capabilities: ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_NOT_A_THING"],
              }),
            ],
            { volumes: [{ name: "data", kind: "emptyDir" }] },
          ),
        ),
      );
      await flaky.waitFor("Succeeded", 60_000);
      const statuses = flaky.status().containers;
      expect(statuses.find((c) => c.name === "init-fails-first")?.restartCount).toBe(1);
      expect(statuses.find((c) => c.name === "ok")?.restartCount).toBe(0);
      // Root's process holds exactly the admitted capabilities (bits 0 and 12).
      expect(flaky.logs("ok")).toContain('"capBnd":"0000000000001001"');
      await never.stop();
      await flaky.stop();
    }, 120_000);

    it("does not start a denied container; the pod is Blocked with the denial", async () => {
      const events: PodEvent[] = [];
      const denial = {
        request: "CreateContainerRequest",
        container: "app",
        reasons: [{ rule: "env" }],
        text: "env FOO=bar is not allowed",
      };
      const pod = await cluster.runPod(
        podToRun(
          work,
          layout,
          "tampered",
          admission("tampered", [container("init", ["/app/env.mjs", "0"], { role: "init" })], { denial }),
        ),
      );
      pod.on("event", (e) => events.push(e));
      await expect(pod.waitFor("Ready", 60_000)).rejects.toMatchObject({ code: "LOCALRUN_POD_BLOCKED" });
      expect(pod.status()).toMatchObject({ phase: "Blocked", ready: false, blocked: denial });
      expect(pod.status().containers.map((c) => c.name)).toEqual(["init"]);
      // Attached when runPod resolved, the listener saw everything from the sandbox on.
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (events.some((e) => e.type === "blocked")) resolve();
        };
        pod.on("event", check);
        check();
      });
      expect(events.slice(0, 2)).toEqual([
        { type: "sandbox-started", pod: "tampered", ip: pod.ip },
        { type: "blocked", pod: "tampered", container: "app", request: "CreateContainerRequest", text: denial.text },
      ]);
      await pod.stop();
    }, 60_000);

    it("restarts a container on request and on a failing liveness probe; exec probes run inside", async () => {
      const pod = await cluster.runPod(
        podToRun(
          work,
          layout,
          "probed",
          admission("probed", [
            container("web", ["/app/server.mjs"], {
              probes: [
                {
                  type: "readiness",
                  // Runs in the container: its root has /app/top.txt from the image's top layer.
                  action: {
                    kind: "exec",
                    command: ["/bin/sh", "-c", "test -f /app/top.txt && ! test -e /app/removed-later.txt"],
                  },
                  initialDelaySeconds: 0,
                  periodSeconds: 1,
                  timeoutSeconds: 5,
                  successThreshold: 1,
                  failureThreshold: 1,
                },
              ],
            }),
            container("dies", ["/app/server.mjs"], {
              env: ["PORT=8081"],
              probes: [
                {
                  type: "liveness",
                  action: { kind: "tcpSocket", port: 9999 },
                  initialDelaySeconds: 0,
                  periodSeconds: 1,
                  timeoutSeconds: 1,
                  successThreshold: 1,
                  failureThreshold: 2,
                },
              ],
            }),
          ]),
        ),
      );
      await new Promise<void>((resolve) => {
        const check = (): void => {
          const s = pod.status().containers;
          if ((s.find((c) => c.name === "dies")?.restartCount ?? 0) >= 1 && s.find((c) => c.name === "web")?.ready)
            resolve();
        };
        pod.on("event", check);
        check();
      });
      const before = pod.status().containers.find((c) => c.name === "web");
      expect(before?.restartCount).toBe(0);
      await pod.restartContainer("web");
      const after = pod.status().containers.find((c) => c.name === "web");
      expect(after?.restartCount).toBe(1);
      expect(after?.lastExit?.signal).toBe("SIGKILL");
      expect(() => pod.kill("nope")).toThrow(expect.objectContaining({ code: "LOCALRUN_CONTAINER_UNKNOWN" }));
      await pod.stop();
    }, 120_000);
  },
);
