import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { toHex, utf8 } from "@contrast/core";
import { ZERO_TRANSITION_HASH } from "@contrast/mesh-pki";
import { expectCodeAsync, fuzzRuns, KubeApiDouble, scratchDir } from "@contrast/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONFIGMAP_STORE_LABELS,
  ConfigMapStore,
  configMapName,
  History,
  inClusterCoreV1Api,
  kubeconfigCoreV1Api,
  statefulSetOwnerOf,
} from "../src/index.js";
import { behavesLikeMemoryStore } from "./helpers/store-model.js";
import { expectCompareAndSwapContract } from "./store-contract.js";

let kube: KubeApiDouble;
beforeAll(async () => {
  kube = await KubeApiDouble.start();
});
afterAll(async () => {
  await kube.close();
});

let nsCounter = 0;
/** A fresh namespace per test, so tests sharing the double do not see each other's ConfigMaps. */
const freshNamespace = () => `ns-${++nsCounter}`;

const storeFor = async (namespace: string, extra: { requestTimeoutMs?: number; token?: string } = {}) =>
  new ConfigMapStore({
    api: await kubeconfigCoreV1Api(kube.kubeconfig(namespace, extra.token)),
    namespace,
    ...(extra.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: extra.requestTimeoutMs }),
  });

describe("ConfigMapStore", () => {
  it("keeps key <kind>/<name> in ConfigMap contrast-store-<kind>-<name> as binaryData[<name>] with upstream's labels", async () => {
    const ns = freshNamespace();
    const store = await storeFor(ns);
    expect(await store.get("manifests/abc")).toBeUndefined();
    await store.set("manifests/abc", utf8("hello"));
    expect(configMapName("manifests/abc")).toBe("contrast-store-manifests-abc");
    const cm = kube.configMap(ns, "contrast-store-manifests-abc");
    expect(cm?.binaryData).toEqual({ abc: Buffer.from("hello").toString("base64") });
    expect(cm?.metadata.labels).toEqual(CONFIGMAP_STORE_LABELS);
    expect(cm?.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("contrast.edgeless.systems");
    expect(await store.get("manifests/abc")).toEqual(utf8("hello"));
    await store.set("manifests/abc", utf8("again"));
    expect(await store.get("manifests/abc")).toEqual(utf8("again"));
    expect(kube.configMapNames(ns)).toEqual(["contrast-store-manifests-abc"]);
  });

  it("implements compareAndSwap's contract (absent, mismatch, match)", async () => {
    const store = await storeFor(freshNamespace());
    await expectCompareAndSwapContract(store);
  });

  it("holds a History: upstream's contrast-store-transitions-latest, readable by a second client", async () => {
    const ns = freshNamespace();
    const h = new History(await storeFor(ns));
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const m = await h.putManifest(utf8("hello"));
    const t = await h.setLatest(
      undefined,
      { manifestHash: m, previousTransitionHash: ZERO_TRANSITION_HASH },
      privateKey,
    );
    expect(kube.configMapNames(ns)).toEqual(
      [
        `contrast-store-manifests-${toHex(m)}`,
        `contrast-store-transitions-${toHex(t.transitionHash)}`,
        "contrast-store-transitions-latest",
      ].sort(),
    );
    const latest = Buffer.from(
      kube.configMap(ns, "contrast-store-transitions-latest")?.binaryData?.latest ?? "",
      "base64",
    );
    expect(toHex(latest.subarray(0, 32))).toBe(toHex(t.transitionHash));
    const again = new History(await storeFor(ns));
    expect((await again.getLatest(publicKey))?.transitionHash).toEqual(t.transitionHash);
  });

  it("answers every sequence of operations as the MemoryStore does (property)", async () => {
    await fc.assert(
      behavesLikeMemoryStore(() => storeFor(freshNamespace())),
      { numRuns: Math.min(fuzzRuns(30), 500) },
    );
  });

  it("gives exactly one winner when two stores swap from the same value concurrently", async () => {
    const ns = freshNamespace();
    const [a, b] = [await storeFor(ns), await storeFor(ns)];
    const k = "transitions/latest";
    expect(
      await Promise.all([a.compareAndSwap(k, undefined, utf8("a0")), b.compareAndSwap(k, undefined, utf8("b0"))]),
    ).toSatisfy((r: boolean[]) => r.filter(Boolean).length === 1);
    for (let round = 1; round <= 15; round++) {
      const cur = await a.get(k);
      const results = await Promise.all([
        a.compareAndSwap(k, cur, utf8(`a${round}`)),
        b.compareAndSwap(k, cur, utf8(`b${round}`)),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results[0] ? "a" : "b";
      expect(Buffer.from((await b.get(k)) ?? []).toString()).toBe(`${winner}${round}`);
    }
  });

  it("loses no increment with eight concurrent writers on two clients", async () => {
    const ns = freshNamespace();
    const stores = [await storeFor(ns), await storeFor(ns)];
    const key = "transitions/latest";
    const wins: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const store = stores[i % 2] as ConfigMapStore;
        for (;;) {
          const cur = await store.get(key);
          const n = cur === undefined ? 0 : Number(Buffer.from(cur).toString());
          if (n >= 30) return;
          if (await store.compareAndSwap(key, cur, utf8(String(n + 1)))) wins.push(n + 1);
        }
      }),
    );
    expect(wins.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // The double really saw conflicting updates, not a serial run.
    expect(kube.requests.filter((r) => r.startsWith(`PUT /api/v1/namespaces/${ns}/`)).length).toBeGreaterThan(29);
  });

  it("keeps one linear history when four Coordinators on separate clients append concurrently", async () => {
    const ns = freshNamespace();
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
    const perWriter = 3;
    const won = (
      await Promise.all(
        ["w0", "w1", "w2", "w3"].map(async (id) => {
          const history = new History(await storeFor(ns));
          const mine: string[] = [];
          while (mine.length < perWriter) {
            const latest = await history.getLatest(publicKey);
            const manifest = await history.putManifest(utf8(`manifest ${id}-${mine.length}`));
            try {
              const next = await history.setLatest(
                latest,
                { manifestHash: manifest, previousTransitionHash: latest?.transitionHash ?? ZERO_TRANSITION_HASH },
                privateKey,
              );
              mine.push(toHex(next.transitionHash));
            } catch (e) {
              if ((e as { code?: string }).code !== "HISTORY_CONCURRENT_UPDATE") throw e;
            }
          }
          return mine;
        }),
      )
    ).flat();
    const history = new History(await storeFor(ns));
    const latest = await history.getLatest(publicKey);
    const chain = await history.chain(latest?.transitionHash ?? new Uint8Array(32));
    expect(chain).toHaveLength(4 * perWriter);
    expect(new Set(chain.map((e) => toHex(e.transitionHash)))).toEqual(new Set(won));
  }, 60_000);

  it("retries a set that lost an update race, and keeps other entries of a shared ConfigMap", async () => {
    const ns = freshNamespace();
    const store = await storeFor(ns);
    await store.set("policies/abc", utf8("one"));
    kube.failNext("PUT", `/api/v1/namespaces/${ns}/configmaps/contrast-store-policies-abc`, 409, "Conflict", 2);
    await store.set("policies/abc", utf8("two"));
    expect(await store.get("policies/abc")).toEqual(utf8("two"));
    // "a-b/c" and "a/b-c" share one ConfigMap name (as upstream's); each keeps its own entry.
    await store.set("a-b/c", utf8("x"));
    await store.set("a/b-c", utf8("y"));
    expect(await store.get("a-b/c")).toEqual(utf8("x"));
    expect(await store.get("a/b-c")).toEqual(utf8("y"));
  });

  it("rejects keys outside the grammar and upper-case keys without a request", async () => {
    const ns = freshNamespace();
    const store = await storeFor(ns);
    const before = kube.requests.length;
    // Upstream objectName test cases plus path tricks.
    for (const key of ["foo/bar/baz", "***/***", "", "../x", "a"])
      await expectCodeAsync(() => store.get(key), "HISTORY_KEY_INVALID");
    await expectCodeAsync(() => store.set("Manifests/abc", utf8("x")), "HISTORY_KEY_INVALID");
    expect(kube.requests.length).toBe(before);
  });

  it("reports API failures as HISTORY_STORE_KUBE_API: bad token, server error, too large, timeout", async () => {
    const ns = freshNamespace();
    await expectCodeAsync(
      async () => (await storeFor(ns, { token: "wrong" })).get("manifests/abc"),
      "HISTORY_STORE_KUBE_API",
      "io",
    );
    const store = await storeFor(ns, { requestTimeoutMs: 500 });
    kube.failNext("GET", `/api/v1/namespaces/${ns}/configmaps/`, 500, "InternalError");
    await expectCodeAsync(() => store.get("manifests/abc"), "HISTORY_STORE_KUBE_API");
    // A ConfigMap holds at most 1 MiB: the API server refuses larger values with 422 Invalid.
    const big = new Uint8Array(1024 * 1024 + 1);
    await expectCodeAsync(() => store.set("manifests/big", big), "HISTORY_STORE_KUBE_API");
    expect(await store.get("manifests/big")).toBeUndefined();
    kube.failNext("GET", `/api/v1/namespaces/${ns}/configmaps/`, 0, "hang");
    // Aborted by the 500 ms request timeout (the test's own timeout is 20 s).
    await expectCodeAsync(() => store.get("manifests/abc"), "HISTORY_STORE_KUBE_API");
  });

  it("sets the configured ownerReferences on the ConfigMaps it creates", async () => {
    const ns = freshNamespace();
    const owner = { apiVersion: "apps/v1", kind: "StatefulSet", name: "coordinator", uid: "1234-5678" };
    const store = new ConfigMapStore({
      api: await kubeconfigCoreV1Api(kube.kubeconfig(ns)),
      namespace: ns,
      ownerReferences: [owner],
    });
    await store.compareAndSwap("transitions/latest", undefined, utf8("a"));
    expect(kube.configMap(ns, "contrast-store-transitions-latest")?.metadata.ownerReferences).toEqual([owner]);
  });

  it("takes the owner reference from the StatefulSet that owns its own pod, as newer upstream", async () => {
    const ns = freshNamespace();
    const api = await kubeconfigCoreV1Api(kube.kubeconfig(ns));
    const sts = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      name: "coordinator",
      uid: "00000000-0000-0000-0000-000000000000",
    };
    kube.putPod(ns, { name: "coordinator-0", ip: "10.0.0.1", ownerReferences: [sts] });
    kube.putPod(ns, { name: "bare", ip: "10.0.0.2" });
    expect(await statefulSetOwnerOf(api, ns, "coordinator-0")).toEqual([sts]);
    expect(await statefulSetOwnerOf(api, ns, "bare")).toEqual([]);
    await expectCodeAsync(() => statefulSetOwnerOf(api, ns, "missing"), "HISTORY_STORE_KUBE_API");
    const store = new ConfigMapStore({
      api,
      namespace: ns,
      ownerReferences: await statefulSetOwnerOf(api, ns, "coordinator-0"),
    });
    await store.set("foo/bar", utf8("val1"));
    expect(kube.configMap(ns, "contrast-store-foo-bar")?.metadata.ownerReferences).toEqual([sts]);
  });

  it("names objects as upstream's objectName cases", () => {
    expect(configMapName("foo/bar")).toBe("contrast-store-foo-bar");
    expect(configMapName("transitions/latest")).toBe("contrast-store-transitions-latest");
  });

  it("works with the in-cluster configuration from injected service-account files, and refuses a server the CA does not vouch for", async () => {
    const dir = scratchDir();
    const tokenFile = join(dir, "token");
    const caFile = join(dir, "ca.crt");
    writeFileSync(tokenFile, kube.token);
    writeFileSync(caFile, kube.caPem);
    const port = new URL(kube.url).port;
    const ns = freshNamespace();
    const store = new ConfigMapStore({
      api: await inClusterCoreV1Api({ host: "127.0.0.1", port, tokenFile, caFile }),
      namespace: ns,
    });
    await store.set("manifests/abc", utf8("in-cluster"));
    expect(kube.configMap(ns, "contrast-store-manifests-abc")).toBeDefined();
    const other = await KubeApiDouble.start();
    try {
      writeFileSync(caFile, other.caPem);
      const untrusting = new ConfigMapStore({
        api: await inClusterCoreV1Api({ host: "127.0.0.1", port, tokenFile, caFile }),
        namespace: ns,
      });
      await expectCodeAsync(() => untrusting.get("manifests/abc"), "HISTORY_STORE_KUBE_API");
    } finally {
      await other.close();
    }
  });
});
