import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeApiDouble } from "../src/index.js";

let kube: KubeApiDouble;
beforeAll(async () => {
  kube = await KubeApiDouble.start();
});
afterAll(async () => {
  await kube.close();
});

/** A raw HTTPS call, as any Kubernetes client makes it: JSON in, status and JSON out. */
function call(
  method: string,
  path: string,
  body?: unknown,
  token = kube.token,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${kube.url}${path}`,
      {
        method,
        ca: kube.caPem,
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      },
      (res) => {
        let data = "";
        res.on("data", (d: Buffer) => {
          data += d.toString();
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(data) as Record<string, unknown> }),
        );
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const cm = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, labels: { app: "x" } },
  binaryData: { k: Buffer.from("v").toString("base64") },
  ...extra,
});

describe("KubeApiDouble", () => {
  it("answers like the API server: create, AlreadyExists, get, Conflict on a stale resourceVersion, NotFound", async () => {
    const base = "/api/v1/namespaces/t1/configmaps";
    const created = await call("POST", base, cm("a"));
    expect(created.status).toBe(201);
    const rv = (created.json.metadata as { resourceVersion: string }).resourceVersion;
    const dup = await call("POST", base, cm("a"));
    expect([dup.status, dup.json.kind, dup.json.reason]).toEqual([409, "Status", "AlreadyExists"]);
    const got = await call("GET", `${base}/a`);
    expect(got.json.binaryData).toEqual({ k: "dg==" });
    const upd = await call("PUT", `${base}/a`, cm("a", { metadata: { name: "a", resourceVersion: rv } }));
    expect(upd.status).toBe(200);
    expect(Number((upd.json.metadata as { resourceVersion: string }).resourceVersion)).toBeGreaterThan(Number(rv));
    const stale = await call("PUT", `${base}/a`, cm("a", { metadata: { name: "a", resourceVersion: rv } }));
    expect([stale.status, stale.json.reason]).toEqual([409, "Conflict"]);
    const missing = await call("GET", `${base}/nope`);
    expect([missing.status, missing.json.reason]).toEqual([404, "NotFound"]);
    expect((await call("PUT", `${base}/nope`, cm("nope"))).status).toBe(404);
  });

  it("refuses a wrong token, invalid names, non-base64 binaryData and more than 1 MiB", async () => {
    const base = "/api/v1/namespaces/t2/configmaps";
    expect((await call("GET", `${base}/a`, undefined, "wrong")).status).toBe(401);
    expect((await call("POST", base, cm("Upper"))).json.reason).toBe("Invalid");
    expect((await call("POST", base, cm("b", { binaryData: { k: "not base64!" } }))).status).toBe(422);
    const big = Buffer.alloc((1 << 20) + 1).toString("base64");
    expect((await call("POST", base, cm("c", { binaryData: { k: big } }))).status).toBe(422);
    expect(kube.configMapNames("t2")).toEqual([]);
  });

  it("lists pods by equality label selector", async () => {
    kube.putPod("t3", { name: "p1", ip: "10.0.0.1", labels: { app: "a" } });
    kube.putPod("t3", { name: "p2", ip: "10.0.0.2", labels: { app: "b" } });
    const list = await call("GET", `/api/v1/namespaces/t3/pods?labelSelector=${encodeURIComponent("app=a")}`);
    expect(list.json.kind).toBe("PodList");
    expect((list.json.items as { metadata: { name: string } }[]).map((p) => p.metadata.name)).toEqual(["p1"]);
    const other = await call("GET", `/api/v1/namespaces/t3/pods?labelSelector=${encodeURIComponent("app!=a")}`);
    expect((other.json.items as { metadata: { name: string } }[]).map((p) => p.metadata.name)).toEqual(["p2"]);
  });
});
