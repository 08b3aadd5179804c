import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { buildImage, dockerLoginToFile, expectCode, fuzzRuns, LocalRegistry, scratchDir } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDockerConfig } from "../src/docker-config.js";
import type { Fetcher } from "../src/http.js";
import { createImageMetadataSource } from "../src/source.js";

const RUNS = fuzzRuns(200);
const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString("base64");

describe("Docker's config.json", () => {
  it("reads `auths` as docker login writes them, Docker Hub under its legacy index URL", () => {
    const config = parseDockerConfig(
      JSON.stringify({
        auths: {
          "https://index.docker.io/v1/": { auth: basic("hubuser", "hubpass") },
          "ghcr.io": { auth: basic("gh", "token:with:colons") },
          "http://registry.internal:5000/v2/": { auth: basic("int", "pw") },
          "quay.io": { identitytoken: "opaque" },
          "empty.example": { auth: "" },
          "nocolon.example": { auth: Buffer.from("justuser").toString("base64") },
        },
        credsStore: "desktop",
      }),
    );
    expect(Object.fromEntries(config.credentials)).toEqual({
      "docker.io": { username: "hubuser", password: "hubpass" },
      "ghcr.io": { username: "gh", password: "token:with:colons" },
      "registry.internal:5000": { username: "int", password: "pw" },
    });
    expect(config.credsStore).toBe("desktop");
    expect(parseDockerConfig("{}")).toEqual({ credentials: new Map(), credHelpers: new Map() });
  });

  it("refuses what is not a config file with DOCKER_CONFIG_INVALID", () => {
    for (const text of [
      "",
      "{",
      "null",
      '{"auths":{"ghcr.io":{"auth":"not base64!"}}}',
      '{"auths":{"x":{"auth":"QR=="}}}',
    ]) {
      expectCode(() => parseDockerConfig(text, "/home/u/.docker/config.json"), "DOCKER_CONFIG_INVALID", "input");
    }
  });

  it("gives back any user and password it is given (property)", () => {
    fc.assert(
      fc.property(
        fc.string().filter((u) => !u.includes(":")),
        fc.string(),
        fc.domain(),
        (user, password, host) => {
          const text = JSON.stringify({ auths: { [`https://${host}/v1/`]: { auth: basic(user, password) } } });
          const expected = host === "index.docker.io" ? "docker.io" : host;
          expect(parseDockerConfig(text).credentials.get(expected)).toEqual({ username: user, password });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("either reads arbitrary text or throws DOCKER_CONFIG_INVALID, never anything else (fuzz)", () => {
    const auth = fc.oneof(fc.base64String(), fc.string(), fc.constant(basic("u", "p")));
    const doc = fc.oneof(
      fc.string(),
      fc.json(),
      fc.dictionary(fc.string(), fc.record({ auth }, { requiredKeys: [] })).map((auths) => JSON.stringify({ auths })),
    );
    fc.assert(
      fc.property(doc, (text) => {
        try {
          parseDockerConfig(text);
        } catch (e) {
          expect((e as { code?: string }).code).toBe("DOCKER_CONFIG_INVALID");
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("pulls from an htpasswd registry with the login `docker login` stored", async () => {
    const registry = await LocalRegistry.start({ htpasswd: { user: "carol", password: "pa:ss" } });
    const dir = scratchDir("contrast-docker-config-");
    try {
      const image = await buildImage([[{ name: "hello.txt", content: "hello\n" }]]);
      await registry.pushImage("private/hello", "v1", image);
      // The real Docker CLI writes the file; with no daemon it logs in to the registry itself.
      dockerLoginToFile(registry.host, "carol", "pa:ss", dir);
      const config = parseDockerConfig(readFileSync(join(dir, "config.json"), "utf8"));
      expect(config.credentials.get(registry.host)).toEqual({ username: "carol", password: "pa:ss" });
      const fetcher: Fetcher = (url, init) => fetch(url, init);
      const source = createImageMetadataSource({
        fetch: fetcher,
        hashThreads: 0,
        credentials: (r) => config.credentials.get(r),
      });
      try {
        expect((await source.get(`${registry.host}/private/hello:v1`)).digest).toBe(image.manifestDigest);
      } finally {
        await source.close();
      }
    } finally {
      await registry.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
