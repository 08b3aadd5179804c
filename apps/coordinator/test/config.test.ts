import { SIM_COORDINATOR_POLICY_HASH } from "@contrast/manifest";
import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../src/config.js";

const parse = (argv: string[], env: Record<string, string> = {}) => parseCommandLine(argv, env, "/home/u", "1.2.3");
const config = (argv: string[], env: Record<string, string> = {}) => {
  const r = parse(argv, env);
  if (r.kind !== "run") throw new Error("expected a configuration");
  return r.config;
};
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return "no error";
};

describe("parseCommandLine", () => {
  it("takes upstream's ports and the sim directory under XDG_STATE_HOME by default", () => {
    const c = config(["--platform", "sim", "--state-dir", "/s"], { XDG_STATE_HOME: "/x" });
    expect(c).toMatchObject({
      platform: "sim",
      store: { kind: "fs", stateDir: "/s" },
      userApiPort: 1313,
      meshApiPort: 7777,
      probePort: 9102,
      host: "0.0.0.0",
      logLevel: "info",
      simDir: "/x/contrast/sim",
      simPolicyHash: SIM_COORDINATOR_POLICY_HASH,
      shutdownBudgetMs: 20_000,
      handshakeTimeoutMs: 30_000,
      defaultDeny: "auto",
    });
    expect(config(["--platform", "sim", "--state-dir", "/s"]).simDir).toBe("/home/u/.local/state/contrast/sim");
  });

  it("--default-deny: auto, remove or keep", () => {
    expect(config(["--platform", "snp", "--state-dir", "/s", "--default-deny", "keep"]).defaultDeny).toBe("keep");
    expect(config(["--platform", "sim", "--state-dir", "/s"], { CONTRAST_DEFAULT_DENY: "remove" }).defaultDeny).toBe(
      "remove",
    );
    expect(code(() => parse(["--platform", "sim", "--state-dir", "/s", "--default-deny", "drop"]))).toBe(
      "SERVER_CONFIG_INVALID",
    );
  });

  it("refuses to start without a platform: no silent fallback", () => {
    expect(code(() => parse(["--state-dir", "/s"]))).toBe("SERVER_PLATFORM_REQUIRED");
    expect(code(() => parse(["--platform", "sev", "--state-dir", "/s"]))).toBe("SERVER_CONFIG_INVALID");
  });

  it("reads the environment when a flag is absent, and flags win", () => {
    const env = { CONTRAST_PLATFORM: "snp", CONTRAST_STATE_DIR: "/e", CONTRAST_USER_API_PORT: "2000" };
    expect(config([], env)).toMatchObject({
      platform: "snp",
      store: { stateDir: "/e" },
      userApiPort: 2000,
      simDir: undefined,
      simPolicyHash: undefined,
    });
    expect(config(["--platform", "tdx", "--user-api-port", "3000"], env)).toMatchObject({
      platform: "tdx",
      userApiPort: 3000,
    });
    // An empty variable counts as unset, as in a pod spec with `value: ""`.
    expect(code(() => parse([], { CONTRAST_PLATFORM: "" }))).toBe("SERVER_PLATFORM_REQUIRED");
  });

  it("needs a state directory for fs and a namespace for configmap", () => {
    expect(code(() => parse(["--platform", "sim"]))).toBe("SERVER_CONFIG_INVALID");
    expect(code(() => parse(["--platform", "sim", "--store", "configmap"]))).toBe("SERVER_CONFIG_INVALID");
    expect(
      config(["--platform", "snp", "--store", "configmap", "--namespace", "ns"], { HOSTNAME: "c-0" }).store,
    ).toEqual({
      kind: "configmap",
      namespace: "ns",
      kubeconfig: undefined,
      podName: "c-0",
      peerRecoveryIntervalMs: 10_000,
    });
    expect(code(() => parse(["--platform", "sim", "--store", "etcd", "--state-dir", "/s"]))).toBe(
      "SERVER_CONFIG_INVALID",
    );
  });

  it("rejects bad ports, equal ports, bad log levels, bad budgets and unknown flags", () => {
    const base = ["--platform", "sim", "--state-dir", "/s"];
    for (const bad of [
      ["--user-api-port", "70000"],
      ["--mesh-api-port", "-1"],
      ["--probe-port", "12ab"],
      ["--user-api-port", "7777"],
      ["--log-level", "loud"],
      ["--shutdown-budget", "soon"],
      ["--handshake-timeout", "0"],
      ["--handshake-timeout", "1e3"],
      ["--no-such-flag"],
      ["extra-argument"],
      ["--sim-dir"],
    ]) {
      expect(
        code(() => parse([...base, ...bad])),
        bad.join(" "),
      ).toBe("SERVER_CONFIG_INVALID");
    }
    expect(code(() => parse(["--platform", "snp", "--state-dir", "/s", "--sim-dir", "/d"]))).toBe(
      "SERVER_CONFIG_INVALID",
    );
  });

  it("--sim-policy-hash: 64 hex characters, platform sim only", () => {
    const base = ["--platform", "sim", "--state-dir", "/s"];
    const hash = "0F".repeat(32);
    expect(config([...base, "--sim-policy-hash", hash]).simPolicyHash).toBe(hash.toLowerCase());
    expect(config(base, { CONTRAST_SIM_POLICY_HASH: "0f".repeat(32) }).simPolicyHash).toBe("0f".repeat(32));
    // An empty variable counts as unset: the fixed hash.
    expect(config(base, { CONTRAST_SIM_POLICY_HASH: "" }).simPolicyHash).toBe(SIM_COORDINATOR_POLICY_HASH);
    for (const bad of ["0f".repeat(31), `${"0f".repeat(31)}zz`, "sha256:00"]) {
      expect(
        code(() => parse([...base, "--sim-policy-hash", bad])),
        bad,
      ).toBe("SERVER_CONFIG_INVALID");
    }
    expect(code(() => parse(["--platform", "snp", "--state-dir", "/s", "--sim-policy-hash", hash]))).toBe(
      "SERVER_CONFIG_INVALID",
    );
    // On hardware a stray variable (the pod VM's) is ignored: the TEE reports its own HOST_DATA.
    expect(config(["--platform", "tdx", "--state-dir", "/s"], { CONTRAST_SIM_POLICY_HASH: hash }).simPolicyHash).toBe(
      undefined,
    );
  });

  it("accepts port 0 (any free port) for every server and upstream's numeric log levels", () => {
    const c = config([
      "--platform",
      "sim",
      "--state-dir",
      "/s",
      "--user-api-port",
      "0",
      "--mesh-api-port",
      "0",
      "--probe-port",
      "0",
      "--log-level",
      "-4",
    ]);
    expect(c).toMatchObject({ userApiPort: 0, meshApiPort: 0, probePort: 0, logLevel: "debug" });
  });

  it("prints help and version instead of running", () => {
    const help = parse(["--help"]);
    expect(help.kind).toBe("print");
    expect(help.kind === "print" && help.text).toContain("CONTRAST_PLATFORM");
    expect(parse(["--version"])).toEqual({ kind: "print", text: "1.2.3\n" });
  });
});
