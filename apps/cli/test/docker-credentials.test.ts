import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildImage, createPassStore, dockerLoginToFile, LocalRegistry, passStoreAvailable } from "@contrast/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBundle, tempDir } from "./helpers.js";

const pod = (image: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  runtimeClassName: contrast-cc\n  containers:\n    - name: app\n      image: ${image}\n`;

describe("policy generate with Docker's stored credentials (built bundle)", () => {
  let registry: LocalRegistry;
  let dir: string;
  let image: string;
  beforeAll(async () => {
    registry = await LocalRegistry.start({ htpasswd: { user: "dana", password: "hunter2" } });
    dir = tempDir();
    const built = await buildImage([[{ name: "srv/hello.txt", content: "hello\n" }]]);
    await registry.pushImage("team/app", "v1", built);
    image = `${registry.host}/team/app:v1`;
  }, 60_000);
  afterAll(async () => {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("pulls from a registry that needs a login with the credentials `docker login` stored", () => {
    const dockerDir = join(dir, "docker");
    dockerLoginToFile(registry.host, "dana", "hunter2", dockerDir);
    writeFileSync(join(dir, "pod.yaml"), pod(image));
    const env = { PATH: process.env.PATH ?? "", HOME: dir, DOCKER_CONFIG: dockerDir };
    const r = runBundle(dir, ["policy", "generate", "pod.yaml", "--output-file", "out.yaml"], env);
    expect(r.stderr).not.toContain("REGISTRY_UNAUTHORIZED");
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, "out.yaml"), "utf8")).toContain("io.katacontainers.config.agent.policy");
    // Without the stored login the registry refuses the pull.
    const anonymous = runBundle(dir, ["policy", "generate", "pod.yaml", "--output-file", "anon.yaml"], {
      ...env,
      DOCKER_CONFIG: join(dir, "no-such-dir"),
    });
    expect(anonymous.status).toBe(1);
    expect(anonymous.stderr).toContain("REGISTRY_UNAUTHORIZED");
  }, 60_000);

  it.runIf(passStoreAvailable())(
    "pulls with the login `docker login` stored through the pass credential helper (credsStore)",
    () => {
      const dockerDir = join(dir, "docker-pass");
      mkdirSync(dockerDir, { recursive: true });
      writeFileSync(join(dockerDir, "config.json"), JSON.stringify({ credsStore: "pass" }));
      const store = createPassStore(join(dir, "pass"));
      try {
        const env = { PATH: process.env.PATH ?? "", HOME: dir, DOCKER_CONFIG: dockerDir, ...store.env };
        execFileSync("docker", ["login", registry.host, "-u", "dana", "--password-stdin"], {
          input: "hunter2\n",
          env,
          stdio: ["pipe", "ignore", "pipe"],
        });
        expect(readFileSync(join(dockerDir, "config.json"), "utf8")).not.toContain("hunter2");
        writeFileSync(join(dir, "pod.yaml"), pod(image));
        const r = runBundle(dir, ["policy", "generate", "pod.yaml", "--output-file", "pass.yaml"], env);
        expect(r.stderr).not.toContain("REGISTRY_UNAUTHORIZED");
        expect(r.status).toBe(0);
      } finally {
        store.close();
      }
    },
    60_000,
  );

  it("names a credential helper that is not installed (DOCKER_CREDENTIAL_HELPER_FAILED)", () => {
    const dockerDir = join(dir, "docker-missing-helper");
    mkdirSync(dockerDir, { recursive: true });
    writeFileSync(join(dockerDir, "config.json"), JSON.stringify({ credsStore: "no-such-helper" }));
    writeFileSync(join(dir, "pod.yaml"), pod(image));
    const r = runBundle(dir, ["policy", "generate", "pod.yaml", "--output-file", "y.yaml"], {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      DOCKER_CONFIG: dockerDir,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("DOCKER_CREDENTIAL_HELPER_FAILED");
    expect(r.stderr).toContain("docker-credential-no-such-helper");
  });

  it("refuses a broken config.json with DOCKER_CONFIG_INVALID before contacting a registry", () => {
    const broken = join(dir, "broken");
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, "config.json"), '{"auths": {"ghcr.io": {"auth": "not base64"}}}');
    writeFileSync(join(dir, "pod.yaml"), pod(image));
    const r = runBundle(dir, ["policy", "generate", "pod.yaml", "--output-file", "x.yaml"], {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      DOCKER_CONFIG: broken,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("DOCKER_CONFIG_INVALID");
    expect(r.stderr).toContain(join(broken, "config.json"));
  });
});
