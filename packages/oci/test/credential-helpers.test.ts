import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildImage,
  createPassStore,
  expectCode,
  expectCodeAsync,
  LocalRegistry,
  passStoreAvailable,
  scratchDir,
} from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { dockerCredentialSource, type HelperRun, nodeRunProgram, type RunProgram } from "../src/credential-helpers.js";
import { parseDockerConfig } from "../src/docker-config.js";
import type { Fetcher } from "../src/http.js";
import { createImageMetadataSource } from "../src/source.js";

const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString("base64");

/** A helper double: answers from a table by program and server, records every call. */
function helpers(table: Record<string, Record<string, HelperRun>>): { run: RunProgram; calls: string[] } {
  const calls: string[] = [];
  const run: RunProgram = async (program, args, stdin) => {
    calls.push(`${program} ${args.join(" ")} <${stdin}`);
    const byServer = table[program];
    if (byServer === undefined) return { code: undefined, stdout: "", stderr: "", spawnError: "ENOENT" };
    return byServer[stdin] ?? { code: 1, stdout: "credentials not found in native keychain\n", stderr: "" };
  };
  return { run, calls };
}

const ok = (username: string, secret: string, server = ""): HelperRun => ({
  code: 0,
  stdout: JSON.stringify({ ServerURL: server, Username: username, Secret: secret }),
  stderr: "",
});

describe("Docker credential helpers", () => {
  const config = parseDockerConfig(
    JSON.stringify({
      auths: { "ghcr.io": {}, "plain.example": { auth: basic("p", "q") }, "stored.example": { auth: basic("s", "t") } },
      credsStore: "desktop",
      credHelpers: { "https://gcr.io": "gcloud", "registry.internal:5000": "pass" },
    }),
  );

  it("asks credHelpers before credsStore, Docker Hub under its index URL, once per registry", async () => {
    const { run, calls } = helpers({
      "docker-credential-desktop": {
        "ghcr.io": ok("gh", "token"),
        "https://index.docker.io/v1/": ok("hub", "pw"),
      },
      "docker-credential-gcloud": { "gcr.io": ok("oauth2accesstoken", "ya29") },
      "docker-credential-pass": { "registry.internal:5000": ok("int", "secret") },
    });
    const lookup = dockerCredentialSource(config, run);
    expect(await lookup("ghcr.io")).toEqual({ username: "gh", password: "token" });
    expect(await lookup("docker.io")).toEqual({ username: "hub", password: "pw" });
    expect(await lookup("gcr.io")).toEqual({ username: "oauth2accesstoken", password: "ya29" });
    expect(await lookup("registry.internal:5000")).toEqual({ username: "int", password: "secret" });
    expect(await lookup("ghcr.io")).toEqual({ username: "gh", password: "token" });
    expect(calls).toEqual([
      "docker-credential-desktop get <ghcr.io",
      "docker-credential-desktop get <https://index.docker.io/v1/",
      "docker-credential-gcloud get <gcr.io",
      "docker-credential-pass get <registry.internal:5000",
    ]);
  });

  it("falls back to `auths` when the helper has no login; identity tokens and empty answers count as none", async () => {
    const { run } = helpers({
      "docker-credential-desktop": {
        "token.example": ok("<token>", "refresh-token"),
        "empty.example": ok("", ""),
      },
    });
    const lookup = dockerCredentialSource(config, run);
    expect(await lookup("plain.example")).toEqual({ username: "p", password: "q" });
    expect(await lookup("token.example")).toBeUndefined();
    expect(await lookup("empty.example")).toBeUndefined();
    expect(await lookup("nowhere.example")).toBeUndefined();
    // Without any helper, `auths` alone.
    const none = dockerCredentialSource(
      parseDockerConfig(JSON.stringify({ auths: { "stored.example": { auth: basic("s", "t") } } })),
      run,
    );
    expect(await none("stored.example")).toEqual({ username: "s", password: "t" });
  });

  it("reports a missing, failing or garbled helper with DOCKER_CREDENTIAL_HELPER_FAILED", async () => {
    const missing = dockerCredentialSource(config, helpers({}).run);
    await expectCodeAsync(() => missing("ghcr.io"), "DOCKER_CREDENTIAL_HELPER_FAILED", "io");
    await expect(missing("ghcr.io")).rejects.toMatchObject({
      hint: expect.stringContaining("docker-credential-desktop"),
    });
    const failing = dockerCredentialSource(
      config,
      helpers({
        "docker-credential-desktop": {
          "ghcr.io": { code: 1, stdout: "", stderr: "gpg: decryption failed: No secret key\n" },
        },
      }).run,
    );
    await expectCodeAsync(() => failing("ghcr.io"), "DOCKER_CREDENTIAL_HELPER_FAILED", "io");
    await expect(failing("ghcr.io")).rejects.toThrow("No secret key");
    const garbled = dockerCredentialSource(
      config,
      helpers({ "docker-credential-desktop": { "ghcr.io": { code: 0, stdout: "user=x", stderr: "" } } }).run,
    );
    await expectCodeAsync(() => garbled("ghcr.io"), "DOCKER_CREDENTIAL_HELPER_FAILED", "io");
  });

  it("refuses a helper name that is a path, so config.json cannot name any program", () => {
    for (const bad of ["../../bin/sh", "/usr/bin/x", "a b", ""]) {
      expectCode(
        () => parseDockerConfig(JSON.stringify({ credHelpers: { "ghcr.io": bad } })),
        "DOCKER_CONFIG_INVALID",
        "input",
      );
    }
    expectCode(() => parseDockerConfig(JSON.stringify({ credsStore: "x/y" })), "DOCKER_CONFIG_INVALID", "input");
  });

  it("nodeRunProgram reports a program that is not installed as a spawn error", async () => {
    const r = await nodeRunProgram("docker-credential-surely-not-installed", ["get"], "ghcr.io");
    expect(r.spawnError).toBe("ENOENT");
  });
});

// Docker's real pass helper, with a private GnuPG home and password store. `docker login` itself
// stores the login through the helper, as on a desktop with `"credsStore": "pass"`.
describe.runIf(passStoreAvailable())("docker-credential-pass (real helper)", () => {
  it("pulls from an htpasswd registry with the login docker login stored in pass", async () => {
    const registry = await LocalRegistry.start({ htpasswd: { user: "erin", password: "in-the-keychain" } });
    const dir = scratchDir("contrast-credential-pass-");
    const store = createPassStore(dir);
    try {
      const image = await buildImage([[{ name: "hello.txt", content: "hello\n" }]]);
      await registry.pushImage("private/hello", "v1", image);
      const dockerDir = join(dir, "docker");
      execFileSync("mkdir", ["-p", dockerDir]);
      writeFileSync(join(dockerDir, "config.json"), JSON.stringify({ credsStore: "pass" }));
      const env = { ...process.env, ...store.env, HOME: dir, DOCKER_CONFIG: dockerDir };
      execFileSync("docker", ["login", registry.host, "-u", "erin", "--password-stdin"], {
        input: "in-the-keychain\n",
        env,
        stdio: ["pipe", "ignore", "pipe"],
      });
      const config = parseDockerConfig(execFileSync("cat", [join(dockerDir, "config.json")], { encoding: "utf8" }));
      expect(config.credentials.get(registry.host)).toBeUndefined(); // the secret is in pass, not in the file
      const run: RunProgram = (program, args, stdin) => {
        const saved = { GNUPGHOME: process.env.GNUPGHOME, PASSWORD_STORE_DIR: process.env.PASSWORD_STORE_DIR };
        Object.assign(process.env, store.env);
        return nodeRunProgram(program, args, stdin).finally(() => {
          for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
          }
        });
      };
      const lookup = dockerCredentialSource(config, run);
      expect(await lookup(registry.host)).toEqual({ username: "erin", password: "in-the-keychain" });
      expect(await lookup("not-logged-in.example")).toBeUndefined();
      const source = createImageMetadataSource({
        fetch: ((url, init) => fetch(url, init)) as Fetcher,
        hashThreads: 0,
        credentials: lookup,
      });
      try {
        expect((await source.get(`${registry.host}/private/hello:v1`)).digest).toBe(image.manifestDigest);
      } finally {
        await source.close();
      }
    } finally {
      store.close();
      await registry.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
