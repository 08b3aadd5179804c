import { execFileSync } from "node:child_process";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { expectCode, expectCodeAsync, FUZZ_RUNS, freePort, LocalRegistry, scratchDir } from "@contrast/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BuiltOciImage,
  buildImage,
  buildLayer,
  isValidTag,
  type PushFetcher,
  parsePushTarget,
  pushImage,
} from "../src/index.js";

const nodeFetch = fetch as unknown as PushFetcher;

function makeImage(body: string): BuiltOciImage {
  return buildImage({
    layers: [
      buildLayer([{ type: "file", path: "/shared/base", content: Buffer.alloc(5000, 7) }]),
      buildLayer([{ type: "file", path: "/app/main.js", content: Buffer.from(body) }]),
    ],
    config: { entrypoint: ["/app/main.js"], env: { A: "1" } },
  });
}

function pushOptions(image: BuiltOciImage, registry: string, repository: string) {
  const blobs = new Map(image.blobs.map((b) => [b.digest, b.bytes]));
  return {
    fetch: nodeFetch,
    registry,
    repository,
    manifest: image.manifest,
    blobs: image.blobs.map((b) => ({ digest: b.digest, size: b.bytes.length })),
    readBlob: async (d: string) => blobs.get(d) as Uint8Array,
    attempts: 1,
  };
}

/** skopeo's view of a pushed image: the manifest digest it pulls. */
function skopeoDigest(ref: string, creds?: string): string {
  const args = ["inspect", "--no-tags", "--tls-verify=false", ...(creds ? ["--creds", creds] : []), `docker://${ref}`];
  return JSON.parse(execFileSync("skopeo", args, { encoding: "utf8" })).Digest;
}

describe("pushImage to docker-registry", () => {
  let registry: LocalRegistry;
  beforeAll(async () => {
    registry = await LocalRegistry.start();
  });
  afterAll(async () => {
    await registry.stop();
  });

  it("uploads blobs and the manifest; skopeo copies back the same digest; a second push uploads nothing", async () => {
    const image = makeImage("one");
    const first = await pushImage({ ...pushOptions(image, registry.host, "contrast/one"), tags: ["v1"] });
    expect(first.digest).toBe(image.digest);
    expect(first.uploaded).toHaveLength(3);
    expect(skopeoDigest(`${registry.host}/contrast/one:v1`)).toBe(image.digest);
    const dir = scratchDir();
    execFileSync("skopeo", [
      "copy",
      "--src-tls-verify=false",
      `docker://${registry.host}/contrast/one:v1`,
      `oci:${dir}:one`,
    ]);
    const pulled = JSON.parse(execFileSync("skopeo", ["inspect", `oci:${dir}:one`], { encoding: "utf8" }));
    expect(pulled.Digest).toBe(image.digest);
    const again = await pushImage({ ...pushOptions(image, registry.host, "contrast/one"), tags: ["v1"] });
    expect(again.uploaded).toEqual([]);
    expect(again.existing).toHaveLength(3);
  });

  it("mounts blobs another repository already holds instead of uploading them", async () => {
    const a = makeImage("a");
    const b = makeImage("b");
    await pushImage(pushOptions(a, registry.host, "mount/a"));
    const result = await pushImage({ ...pushOptions(b, registry.host, "mount/b"), mountFrom: ["mount/a"] });
    // The shared base layer is mounted; config and app layer differ and are uploaded.
    expect(result.mounted).toEqual([b.layers[0]?.digest]);
    expect(result.uploaded).toHaveLength(2);
    expect(skopeoDigest(`${registry.host}/mount/b@${b.digest}`)).toBe(b.digest);
  });

  it("reports a registry that is down as REGISTRY_UNAVAILABLE", async () => {
    const port = await freePort();
    await expectCodeAsync(
      () => pushImage(pushOptions(makeImage("x"), `127.0.0.1:${port}`, "contrast/x")),
      "REGISTRY_UNAVAILABLE",
      "io",
    );
  });

  it("reports a manifest the registry refuses (missing blob) as IMAGE_PUSH_REJECTED", async () => {
    const image = makeImage("missing");
    const opts = pushOptions(image, registry.host, "contrast/missing");
    await expectCodeAsync(
      () => pushImage({ ...opts, blobs: opts.blobs.slice(0, 1), tags: ["v1"] }),
      "IMAGE_PUSH_REJECTED",
    );
  });

  it("refuses invalid tags and repositories before any request", async () => {
    const opts = pushOptions(makeImage("t"), "127.0.0.1:1", "contrast/t");
    await expectCodeAsync(() => pushImage({ ...opts, tags: ["-bad"] }), "IMAGE_REFERENCE_INVALID");
    await expectCodeAsync(() => pushImage({ ...opts, repository: "Upper/case" }), "IMAGE_REFERENCE_INVALID");
  });
});

describe("pushImage with Basic auth (htpasswd)", () => {
  let registry: LocalRegistry;
  beforeAll(async () => {
    registry = await LocalRegistry.start({ htpasswd: { user: "pusher", password: "s3cret" } });
  });
  afterAll(async () => {
    await registry.stop();
  });

  it("pushes with the right password", async () => {
    const image = makeImage("basic");
    await pushImage({
      ...pushOptions(image, registry.host, "auth/basic"),
      tags: ["v1"],
      credentials: { username: "pusher", password: "s3cret" },
    });
    expect(skopeoDigest(`${registry.host}/auth/basic:v1`, "pusher:s3cret")).toBe(image.digest);
  });

  it("reports a wrong password or none as REGISTRY_UNAUTHORIZED", async () => {
    const opts = pushOptions(makeImage("denied"), registry.host, "auth/denied");
    await expectCodeAsync(
      () => pushImage({ ...opts, credentials: { username: "pusher", password: "wrong" } }),
      "REGISTRY_UNAUTHORIZED",
    );
    await expectCodeAsync(() => pushImage(opts), "REGISTRY_UNAUTHORIZED");
  });
});

/**
 * A Bearer-token front for docker-registry, as Docker Hub or GHCR behave: 401 with a Bearer
 * challenge, a token endpoint that checks Basic credentials and the requested scope, and
 * requests with the token proxied to the registry.
 */
class TokenFront {
  readonly scopes: string[] = [];
  private constructor(
    private readonly server: Server,
    readonly host: string,
  ) {}

  static async start(upstream: string, user: string, password: string): Promise<TokenFront> {
    const token = "tok-123";
    let front: TokenFront | undefined;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/token") {
        const expected = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
        front?.scopes.push(...url.searchParams.getAll("scope"));
        if (req.headers.authorization !== expected) {
          res.writeHead(401).end();
          return;
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token }));
        return;
      }
      if (req.headers.authorization !== `Bearer ${token}`) {
        const realm = `http://${front?.host}/token`;
        res
          .writeHead(401, { "www-authenticate": `Bearer realm="${realm}",service="test-registry"` })
          .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const headers = { ...req.headers, host: upstream };
      delete headers.authorization;
      const up = request(`http://${upstream}${req.url}`, { method: req.method, headers }, (upRes) => {
        const h = { ...upRes.headers };
        // Upload locations point at the registry; keep clients on the front.
        if (typeof h.location === "string") h.location = h.location.replace(upstream, front?.host ?? "");
        res.writeHead(upRes.statusCode ?? 502, h);
        upRes.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    front = new TokenFront(server, `127.0.0.1:${(server.address() as AddressInfo).port}`);
    return front;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe("pushImage with a Bearer token service", () => {
  let registry: LocalRegistry;
  let front: TokenFront;
  beforeAll(async () => {
    registry = await LocalRegistry.start();
    front = await TokenFront.start(registry.host, "robot", "pw");
  });
  afterAll(async () => {
    await front.stop();
    await registry.stop();
  });

  it("gets a push token for the repository and pushes through it", async () => {
    const image = makeImage("bearer");
    const result = await pushImage({
      ...pushOptions(image, front.host, "org/bearer"),
      tags: ["v2"],
      credentials: { username: "robot", password: "pw" },
    });
    expect(result.digest).toBe(image.digest);
    expect(front.scopes).toContain("repository:org/bearer:pull,push");
    expect(skopeoDigest(`${registry.host}/org/bearer:v2`)).toBe(image.digest);
  });

  it("reports credentials the token service refuses as REGISTRY_UNAUTHORIZED", async () => {
    await expectCodeAsync(
      () =>
        pushImage({
          ...pushOptions(makeImage("nope"), front.host, "org/nope"),
          credentials: { username: "robot", password: "bad" },
        }),
      "REGISTRY_UNAUTHORIZED",
    );
  });
});

describe("parsePushTarget", () => {
  it("splits host[:port]/prefix", () => {
    expect(parsePushTarget("localhost:5000/contrast")).toEqual({ registry: "localhost:5000", prefix: "contrast" });
    expect(parsePushTarget("ghcr.io/org/team/")).toEqual({ registry: "ghcr.io", prefix: "org/team" });
    expect(parsePushTarget("127.0.0.1:5000")).toEqual({ registry: "127.0.0.1:5000", prefix: "" });
    expectCode(() => parsePushTarget("ghcr.io/Org"), "IMAGE_REFERENCE_INVALID");
    expectCode(() => parsePushTarget("https://ghcr.io/org"), "IMAGE_REFERENCE_INVALID");
    expectCode(() => parsePushTarget(""), "IMAGE_REFERENCE_INVALID");
  });

  it("accepts or refuses any string with a typed error only, and keeps what it accepts (fuzz)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[a-z0-9.:-]{1,20}(\/[a-z0-9._-]{1,10}){0,3}$/)), (s) => {
        let target: ReturnType<typeof parsePushTarget> | undefined;
        try {
          target = parsePushTarget(s);
        } catch (e) {
          expect((e as { code?: string }).code).toBe("IMAGE_REFERENCE_INVALID");
          return;
        }
        expect(s.startsWith(target.registry)).toBe(true);
        expect(target.registry).not.toContain("/");
        if (target.prefix !== "") expect(s).toContain(target.prefix);
      }),
      { numRuns: FUZZ_RUNS },
    );
    fc.assert(
      fc.property(fc.string(), (t) => {
        expect(isValidTag(t)).toBe(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(t));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("pushImage against arbitrary registry answers", () => {
  it("ends in a result or a typed registry error, never anything else (fuzz)", async () => {
    const image = makeImage("fuzz");
    const answer = fc.record({
      status: fc.oneof(
        fc.constantFrom(200, 201, 202, 204, 400, 401, 403, 404, 405, 429, 500, 503),
        fc.integer({ min: 100, max: 599 }),
      ),
      location: fc.option(fc.oneof(fc.webUrl(), fc.string(), fc.constant("/v2/x/blobs/uploads/abc?_state=1"))),
      challenge: fc.option(
        fc.oneof(
          fc.string(),
          fc.constant('Basic realm="r"'),
          fc.constant('Bearer realm="http://127.0.0.1:9/token",service="s"'),
          fc.constant("Bearer"),
        ),
      ),
      digest: fc.option(fc.oneof(fc.constant(image.digest), fc.string())),
      body: fc.string({ maxLength: 40 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(answer, { minLength: 1, maxLength: 12 }), fc.boolean(), async (answers, withCreds) => {
        let i = 0;
        const fetcher: PushFetcher = async () => {
          const a = answers[i++ % answers.length] as (typeof answers)[number];
          const headers = new Headers();
          if (a.location !== null) headers.set("location", a.location);
          if (a.challenge !== null) headers.set("www-authenticate", a.challenge);
          if (a.digest !== null) headers.set("docker-content-digest", a.digest);
          const body = new TextEncoder().encode(a.body);
          return {
            status: a.status,
            headers,
            body: (async function* () {
              yield body;
            })(),
            arrayBuffer: async () => body.buffer as ArrayBuffer,
          };
        };
        try {
          await pushImage({
            ...pushOptions(image, "registry.example:5000", "fuzz/app"),
            fetch: fetcher,
            insecure: true,
            sleep: async () => {},
            tags: ["v1"],
            ...(withCreds ? { credentials: { username: "u", password: "p" } } : {}),
          });
        } catch (e) {
          expect([
            "REGISTRY_UNAUTHORIZED",
            "REGISTRY_UNAVAILABLE",
            "REGISTRY_BAD_RESPONSE",
            "REGISTRY_INSECURE_REFUSED",
            "IMAGE_PUSH_REJECTED",
            "DIGEST_MISMATCH",
          ]).toContain((e as { code?: string }).code);
        }
      }),
      { numRuns: Math.min(FUZZ_RUNS, 300) },
    );
  });
});
