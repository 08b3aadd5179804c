import { readFileSync } from "node:fs";
import { join } from "node:path";
import { noopLogger, systemClock } from "@contrast/core";
import { repoPath, scratchDir } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { type InitializerConfig, parseCommandLine, SETTINGS } from "../src/config.js";
import { detectPlatform, GUEST_DEVICES, openIssuer } from "../src/issuer.js";

const HASH = "ab".repeat(32);
const parse = (argv: string[], env: Record<string, string> = {}) => parseCommandLine(argv, env, "/home/u", "1.2.3");
const config = (argv: string[], env: Record<string, string> = {}): InitializerConfig => {
  const r = parse(argv, env);
  if (r.kind !== "run") throw new Error("expected a run configuration");
  return r.config;
};
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe("parseCommandLine", () => {
  it("takes COORDINATOR_HOST and upstream's defaults: port 7777, /contrast, /done, auto", () => {
    expect(config([], { COORDINATOR_HOST: "coordinator" })).toEqual({
      coordinatorHost: "coordinator",
      meshApiPort: 7777,
      platform: "auto",
      simDir: undefined,
      simPolicyHash: undefined,
      root: "/contrast",
      doneFile: "/done",
      logLevel: "info",
      retryInitialMs: 1000,
      retryMaxMs: 5000,
      callTimeoutMs: 30_000,
      coordinatorManifest: undefined,
      coordinatorPolicyHash: undefined,
      serviceMeshDisabled: false,
    });
  });

  it("CONTRAST_SERVICE_MESH_DISABLED: any non-empty value disables the mesh, as upstream reads it", () => {
    const env = { COORDINATOR_HOST: "c" };
    expect(config([], { ...env, CONTRAST_SERVICE_MESH_DISABLED: "true" }).serviceMeshDisabled).toBe(true);
    expect(config([], { ...env, CONTRAST_SERVICE_MESH_DISABLED: "false" }).serviceMeshDisabled).toBe(true);
    expect(config([], { ...env, CONTRAST_SERVICE_MESH_DISABLED: "" }).serviceMeshDisabled).toBe(false);
  });

  it("flags win over the environment; empty variables are unset; --done-file '' disables the marker", () => {
    const c = config(
      ["--coordinator-host", "flag", "--done-file", "", "--retry-max", "0.5", "--retry-initial", "0.1"],
      {
        COORDINATOR_HOST: "env",
        CONTRAST_INITIALIZER_ROOT: "",
        CONTRAST_MESH_API_PORT: "7000",
      },
    );
    expect(c).toMatchObject({ coordinatorHost: "flag", root: "/contrast", meshApiPort: 7000, doneFile: "" });
    expect(c).toMatchObject({ retryInitialMs: 100, retryMaxMs: 500 });
  });

  it("sim: needs a policy hash, defaults the sim dir like the Coordinator, lower-cases the hash", () => {
    expect(codeOf(() => parse(["--platform", "sim"], { COORDINATOR_HOST: "c" }))).toBe(
      "INITIALIZER_SIM_POLICY_HASH_REQUIRED",
    );
    const c = config(["--platform", "sim", "--sim-policy-hash", HASH.toUpperCase()], { COORDINATOR_HOST: "c" });
    expect(c).toMatchObject({ simDir: "/home/u/.local/state/contrast/sim", simPolicyHash: HASH });
    const x = config(["--platform", "sim"], {
      COORDINATOR_HOST: "c",
      CONTRAST_SIM_POLICY_HASH: HASH,
      XDG_STATE_HOME: "/s",
    });
    expect(x.simDir).toBe("/s/contrast/sim");
  });

  it("refuses what it cannot use, each with a code", () => {
    const env = { COORDINATOR_HOST: "c" };
    expect(codeOf(() => parse([]))).toBe("INITIALIZER_COORDINATOR_HOST_REQUIRED");
    for (const argv of [
      ["--mesh-api-port", "0"],
      ["--mesh-api-port", "http"],
      ["--platform", "sev"],
      ["--sim-dir", "/x"],
      ["--platform", "sim", "--sim-policy-hash", "abc"],
      ["--retry-initial", "-1"],
      ["--retry-initial", "10", "--retry-max", "5"],
      ["--call-timeout", "soon"],
      ["--log-level", "loud"],
      ["--coordinator-policy-hash", HASH],
      ["--coordinator-manifest", "m.json"],
      ["--unknown"],
      ["extra"],
    ]) {
      expect(
        codeOf(() => parse(argv, env)),
        argv.join(" "),
      ).toBe("INITIALIZER_CONFIG_INVALID");
    }
  });

  it("--help and --version print", () => {
    const help = parse(["--help"]);
    expect(help.kind).toBe("print");
    for (const s of SETTINGS) expect((help as { text: string }).text).toContain(s.env);
    expect(parse(["--version"])).toEqual({ kind: "print", text: "1.2.3\n" });
  });

  it("docs/initializer.md lists every flag with its environment variable and default", () => {
    const doc = readFileSync(repoPath("docs/initializer.md"), "utf8");
    for (const s of SETTINGS) {
      const row = doc.split("\n").find((l) => l.startsWith(`| \`${s.flag}\``));
      expect(row, s.flag).toBeDefined();
      expect(row).toContain(`\`${s.env}\``);
      if (s.def !== undefined) expect(row).toContain(`\`${s.def}\``);
    }
  });
});

describe("the platform", () => {
  it("auto: SEV-SNP or TDX by the guest device, never sim", () => {
    expect(detectPlatform((p) => p === GUEST_DEVICES.snp)).toBe("snp");
    expect(detectPlatform((p) => p === GUEST_DEVICES.tdx)).toBe("tdx");
    expect(detectPlatform(() => false)).toBeUndefined();
  });

  it("auto without a TEE: INITIALIZER_PLATFORM_UNKNOWN; tsm platforms open configfs-tsm issuers", async () => {
    const base = config([], { COORDINATOR_HOST: "c" });
    await expect(openIssuer(base, { clock: systemClock, log: noopLogger, exists: () => false })).rejects.toMatchObject({
      code: "INITIALIZER_PLATFORM_UNKNOWN",
    });
    const snp = await openIssuer(base, { clock: systemClock, log: noopLogger, exists: (p) => p === GUEST_DEVICES.snp });
    expect(snp).toMatchObject({ platform: "snp", oid: "1.3.9901.2.1" });
    const tdx = await openIssuer({ ...base, platform: "tdx" }, { clock: systemClock, log: noopLogger });
    expect(tdx).toMatchObject({ platform: "tdx", oid: "1.3.9901.2.2" });
  });

  it("sim never creates an authority", async () => {
    const dir = scratchDir();
    const c = config(["--platform", "sim", "--sim-dir", join(dir, "sim"), "--sim-policy-hash", HASH], {
      COORDINATOR_HOST: "c",
    });
    await expect(openIssuer(c, { clock: systemClock, log: noopLogger })).rejects.toMatchObject({
      code: "INITIALIZER_SIM_AUTHORITY_MISSING",
    });
  });
});
