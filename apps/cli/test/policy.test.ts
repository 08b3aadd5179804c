import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUNDLE, cli, REPO, tempDir } from "./helpers.js";

const KATA = join(REPO, "testdata/rego/regorus-kata");
const cases = readdirSync(KATA, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

/** The first CreateContainerRequest of the web pod's stream, as JSON. */
function createRequest(): unknown {
  const line = readFileSync(join(KATA, "web/inputs.txt"), "utf8")
    .split("\n")
    .find((l) => l.startsWith('["ep":"CreateContainerRequest"'));
  return JSON.parse((line as string).trim().replace('"ep":', "").replace(/,$/, ""))[1];
}

describe("contrast policy check (built CLI)", () => {
  let decisions = 0;
  afterAll(() => {
    // Every recorded decision of regorus' Kata streams, through the agent protocol.
    if (cases.length === 12) expect(decisions).toBe(442);
  });
  for (const name of cases) {
    it(`reproduces every regorus decision of ${name} with --requests`, () => {
      const r = spawnSync(
        process.execPath,
        [
          BUNDLE,
          "policy",
          "check",
          join(KATA, name, "policy.rego"),
          "--requests",
          join(KATA, name, "inputs.txt"),
          "-o",
          "json",
        ],
        { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      );
      const expected = JSON.parse(readFileSync(join(KATA, name, "outputs.json"), "utf8")) as boolean[];
      const out = JSON.parse(r.stdout) as { decisions: { allowed: boolean }[]; denied: number };
      expect(out.decisions.map((d) => d.allowed)).toEqual(expected);
      decisions += out.decisions.length;
      expect(r.status).toBe(expected.every(Boolean) ? 0 : 2);
    });
  }
});

describe("contrast policy check (in-process)", () => {
  const policy = join(KATA, "web/policy.rego");

  it("allows a recorded request: exit 0", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "req.json"), JSON.stringify(createRequest()));
    const r = await cli(["policy", "check", policy, join(dir, "req.json"), "--kind", "CreateContainerRequest"]);
    expect(r.stdout).toBe("CreateContainerRequest: allowed\n");
    expect(r.status).toBe(0);
  });

  it("denies a changed request, naming the rule and the failing values: exit 2", async () => {
    const dir = tempDir();
    const req = createRequest() as { OCI: { Process: { Args: string[] } } };
    req.OCI.Process.Args = ["/bin/sh", "-c", "id"];
    writeFileSync(join(dir, "req.json"), JSON.stringify(req));
    const r = await cli(["policy", "check", policy, join(dir, "req.json"), "--kind", "CreateContainerRequest"]);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain("CreateContainerRequest: denied by data.agent_policy.CreateContainerRequest");
    const json = JSON.parse(
      (await cli(["policy", "check", policy, join(dir, "req.json"), "--kind", "CreateContainerRequest", "-o", "json"]))
        .stdout,
    );
    expect(json.decisions[0].allowed).toBe(false);
    expect(json.decisions[0].trace.join("\n")).toMatch(/policy\.rego:\d+: /);
  });

  it("explains a denial in words; the policy's print trace only with --log-level debug", async () => {
    const dir = tempDir();
    const req = createRequest() as { OCI: { Process: { Args: string[] } } };
    req.OCI.Process.Args = ["/bin/sh", "-c", "id"];
    writeFileSync(join(dir, "req.json"), JSON.stringify(req));
    const args = ["policy", "check", policy, join(dir, "req.json"), "--kind", "CreateContainerRequest"];
    const r = await cli(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('  pause container: args differ at index 0: policy "/pause", request "/bin/sh"\n');
    expect(r.stdout).not.toMatch(/policy\.rego:\d+: /);
    const debug = await cli(["--log-level", "debug", ...args, "--trace", "3"]);
    expect(debug.stdout.match(/ {2}policy\.rego:\d+: /g)?.length).toBe(3);
    const json = JSON.parse((await cli([...args, "-o", "json"])).stdout);
    expect(json.decisions[0].reasons).toContainEqual({
      container: "pause",
      field: "args",
      expected: ["/pause"],
      actual: ["/bin/sh", "-c", "id"],
      message: 'pause container: args differ at index 0: policy "/pause", request "/bin/sh"',
    });
  });

  it("reads the policy from the base64 annotation value and from YAML", async () => {
    const dir = tempDir();
    const b64 = Buffer.from(readFileSync(policy)).toString("base64");
    writeFileSync(join(dir, "policy.b64"), `${b64}\n`);
    writeFileSync(
      join(dir, "pod.yaml"),
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    metadata:\n      annotations:\n        io.katacontainers.config.agent.policy: ${b64}\n`,
    );
    writeFileSync(join(dir, "req.json"), JSON.stringify(createRequest()));
    for (const p of ["policy.b64", "pod.yaml"]) {
      const r = await cli(["policy", "check", join(dir, p), join(dir, "req.json"), "--kind", "CreateContainerRequest"]);
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it("exits 1 with a code and hint on a broken policy or missing arguments", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "bad.rego"), "package agent_policy\n\nallow {\n  x := \n}\n");
    writeFileSync(join(dir, "req.json"), "{}");
    const r = await cli(["policy", "check", join(dir, "bad.rego"), join(dir, "req.json"), "--kind", "X"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("[REGO_PARSE_ERROR]");
    expect(r.stderr).toMatch(/bad\.rego|policy\.rego:5:1/);
    const missing = await cli(["policy", "check", policy]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("[CLI_USAGE]");
  });
});

describe("contrast policy check: which workload's policy decides", () => {
  it("refuses to guess in a YAML of several policies, and --workload picks one", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "app.yaml"), readFileSync(join(REPO, "testdata/kube/istio-bookinfo/bookinfo.yaml")));
    writeFileSync(join(dir, "images.json"), readFileSync(join(REPO, "testdata/kube/images.json")));
    const gen = await cli(["policy", "generate", "app.yaml", "--all-pods", "--image-metadata", "images.json"], {
      cwd: dir,
    });
    expect(gen.status, gen.stderr).toBe(0);
    const req = await cli(
      ["policy", "requests", "app.yaml", "--image-metadata", "images.json", "--workload", "ratings-v1"],
      { cwd: dir },
    );
    expect(req.status, req.stderr).toBe(0);
    writeFileSync(join(dir, "ratings.txt"), req.stdout);

    const guess = await cli(["policy", "check", "app.yaml", "--requests", "ratings.txt"], { cwd: dir });
    expect(guess.status).toBe(1);
    expect(guess.stderr).toContain("[POLICY_WORKLOAD_AMBIGUOUS]");
    expect(guess.stderr).toContain("ratings-v1");

    const right = await cli(["policy", "check", "app.yaml", "--workload", "ratings-v1", "--requests", "ratings.txt"], {
      cwd: dir,
    });
    expect(right.status, right.stdout).toBe(0);
    // Another workload's policy denies the ratings pod: the choice matters.
    const wrong = await cli(["policy", "check", "app.yaml", "--workload", "details-v1", "--requests", "ratings.txt"], {
      cwd: dir,
    });
    expect(wrong.status).toBe(2);
    const missing = await cli(["policy", "check", "app.yaml", "--workload", "nope", "--requests", "ratings.txt"], {
      cwd: dir,
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("[POLICY_NO_WORKLOAD]");
    const notYaml = await cli(
      ["policy", "check", join(KATA, "web/policy.rego"), "--workload", "x", "--requests", "ratings.txt"],
      { cwd: dir },
    );
    expect(notYaml.status).toBe(1);
    expect(notYaml.stderr).toContain("[CLI_USAGE]");
  }, 60_000);
});
