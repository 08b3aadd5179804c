// contrast set's pieces and its failures before (or instead of) a Coordinator: the address, the
// expected policy hash, the YAML-against-manifest check, keys, an unreachable port, and a TLS
// server that cannot attest.
import { createHash, generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:tls";
import { utf8 } from "@contrast/core";
import {
  type Manifest,
  parseManifest,
  SIM_COORDINATOR_POLICY_HASH,
  SIM_COORDINATOR_POLICY_LABEL,
  serializeManifest,
  simReferenceValues,
} from "@contrast/manifest";
import { encodeEcPrivateKey, encodeSeedShareOwnerKey } from "@contrast/mesh-pki";
import { errorCode, expectCode, FUZZ_RUNS, freePort, opensslSelfSigned } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { policiesToSend } from "../src/commands/set.js";
import { parseCoordinatorAddress } from "../src/coordinator/address.js";
import { expectedCoordinatorPolicyHashes } from "../src/coordinator/policy-hash.js";
import { workloadPolicies } from "../src/coordinator/yaml-policies.js";
import { IMAGE_METADATA, manifestFor, workloadsYaml } from "./e2e-harness.js";
import { cli, MANIFESTS, tempDir } from "./helpers.js";

const ARK = "ab".repeat(32);
const manifestWith = (m: Partial<Manifest>): Manifest =>
  ({
    Policies: new Map(),
    ReferenceValues: { snp: [], tdx: [], sim: [] },
    WorkloadOwnerKeyDigests: [],
    SeedshareOwnerPubKeys: [],
    ...m,
  }) as Manifest;

describe("--coordinator", () => {
  it("takes host:port and bracketed IPv6, and refuses the rest with a code", () => {
    expect(parseCoordinatorAddress("203.0.113.7:1313")).toEqual({
      host: "203.0.113.7",
      port: 1313,
      target: "203.0.113.7:1313",
    });
    expect(parseCoordinatorAddress("coordinator.example:443").host).toBe("coordinator.example");
    expect(parseCoordinatorAddress("[2001:db8::7]:1313")).toEqual({
      host: "2001:db8::7",
      port: 1313,
      target: "[2001:db8::7]:1313",
    });
    for (const missing of [undefined, "", "  "]) expectCode(() => parseCoordinatorAddress(missing), "CLI_USAGE");
    for (const bad of [
      "1.2.3.4",
      "1.2.3.4:0",
      "1.2.3.4:65536",
      "2001:db8::7:1313",
      "host:port",
      "a b:1",
      "1.2.3.4:0001313",
    ]) {
      expectCode(() => parseCoordinatorAddress(bad), "CLI_COORDINATOR_ADDRESS_INVALID", "input");
    }
  });

  it("never throws anything but its code, whatever the text (fuzz)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const code = errorCode(() => parseCoordinatorAddress(s));
        expect([undefined, "CLI_USAGE", "CLI_COORDINATOR_ADDRESS_INVALID"]).toContain(code);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe("the Coordinator policy hash expected", () => {
  const sim = manifestWith({ ReferenceValues: { snp: [], tdx: [], sim: [simReferenceValues(ARK)] } });

  it("is this build's sim value for a sim manifest, and the flag alone when given", () => {
    expect(expectedCoordinatorPolicyHashes(sim, undefined)).toEqual({
      hashes: [SIM_COORDINATOR_POLICY_HASH],
      source: "default",
    });
    const flag = "AA".repeat(32);
    expect(expectedCoordinatorPolicyHashes(sim, flag)).toEqual({ hashes: ["aa".repeat(32)], source: "flag" });
    for (const bad of ["aa", "zz".repeat(32), "aa".repeat(33)]) {
      expectCode(() => expectedCoordinatorPolicyHashes(sim, bad), "CLI_COORDINATOR_POLICY_HASH_INVALID");
    }
  });

  it("has no default on hardware (no release yet) unless the manifest lists a coordinator policy", () => {
    const snp = parseManifest(readFileSync(`${MANIFESTS}/v1.5-metal-qemu-snp.json`)).manifest as Manifest;
    const withoutCoordinator = {
      ...snp,
      Policies: new Map([...(snp.Policies ?? [])].filter(([, e]) => e.Role !== "coordinator")),
    };
    expectCode(
      () => expectedCoordinatorPolicyHashes(withoutCoordinator, undefined),
      "CLI_COORDINATOR_POLICY_HASH_UNKNOWN",
    );
    const hash = "cd".repeat(32);
    const withCoordinator = {
      ...withoutCoordinator,
      Policies: new Map([[hash, { SANs: [], WorkloadSecretID: "", Role: "coordinator" }]]),
    };
    expect(expectedCoordinatorPolicyHashes(withCoordinator, undefined).hashes).toEqual([hash]);
  });
});

describe("the YAML's policies against the manifest", () => {
  const sha = (t: string) => createHash("sha256").update(t).digest("hex");
  const w = (name: string, text: string) => ({
    workload: `Deployment default/${name}`,
    file: "app.yaml",
    hash: sha(text),
    bytes: utf8(text),
  });
  const entry = { SANs: [], WorkloadSecretID: "", Role: "" };

  it("sends each policy once, and the simulated Coordinator's label for its entry", () => {
    const a = w("a", "package agent_policy # a");
    const b = w("b", "package agent_policy # a");
    const entries = new Map([
      [a.hash, entry],
      [SIM_COORDINATOR_POLICY_HASH, { ...entry, Role: "coordinator" }],
    ]);
    const sent = policiesToSend([a, b], entries, "manifest.json");
    expect(sent.map((p) => Buffer.from(p).toString())).toEqual([
      "package agent_policy # a",
      SIM_COORDINATOR_POLICY_LABEL,
    ]);
  });

  it("refuses a workload the manifest does not name, and a manifest entry no workload carries", () => {
    const a = w("a", "package agent_policy # a");
    expectCode(() => policiesToSend([a], new Map(), "manifest.json"), "CLI_SET_POLICY_NOT_IN_MANIFEST");
    const stray = "ef".repeat(32);
    expectCode(
      () =>
        policiesToSend(
          [a],
          new Map([
            [a.hash, entry],
            [stray, entry],
          ]),
          "manifest.json",
        ),
      "CLI_SET_POLICY_COUNT_MISMATCH",
    );
  });

  it("reads the policies of contrast-cc workloads only, and refuses one without a policy", async () => {
    const dir = tempDir();
    writeFileSync(
      `${dir}/plain.yaml`,
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: x}]\n",
    );
    expect(await workloadPolicies([`${dir}/plain.yaml`])).toEqual([]);
    writeFileSync(`${dir}/cc.yaml`, workloadsYaml());
    await expect(workloadPolicies([`${dir}/cc.yaml`])).rejects.toMatchObject({ code: "POLICY_ANNOTATION_MISSING" });
  });
});

/** A workspace with generated policies and their manifest (sim), ready for `contrast set`. */
async function workspace(): Promise<string> {
  const dir = tempDir();
  writeFileSync(`${dir}/app.yaml`, workloadsYaml());
  writeFileSync(`${dir}/images.json`, IMAGE_METADATA);
  const g = await cli(
    ["policy", "generate", "app.yaml", "--platform", "sim", "--image-metadata", "images.json", "-o", "json"],
    { cwd: dir },
  );
  expect(g.status, g.stdout).toBe(0);
  writeFileSync(
    `${dir}/manifest.json`,
    manifestFor(JSON.parse(g.stdout).workloads, ARK, { workloadOwners: [], seedShareOwners: [] }),
  );
  return dir;
}

describe("contrast set, failing before the manifest is sent", () => {
  it("without --coordinator, or with a manifest whose reference values are unfilled", async () => {
    const dir = await workspace();
    const r = await cli(["set", "app.yaml", "-o", "json"], { cwd: dir });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe("CLI_USAGE");
    const unfilled = await cli(
      [
        "set",
        "-c",
        "127.0.0.1:1",
        "-m",
        `${MANIFESTS}/v1.5-bare-metal-unfilled.json`,
        "--coordinator-policy-hash",
        "ab".repeat(32),
        "-o",
        "json",
      ],
      { cwd: dir },
    );
    expect(JSON.parse(unfilled.stdout).error.code).toBe("REFERENCE_VALUES_INVALID");
  });

  it("on hardware without --coordinator-policy-hash: this build has no default to expect", async () => {
    const dir = tempDir();
    const snp = parseManifest(readFileSync(`${MANIFESTS}/v1.5-metal-qemu-snp.json`)).manifest as Manifest;
    writeFileSync(`${dir}/manifest.json`, serializeManifest({ ...snp, Policies: new Map() }));
    const r = await cli(["set", "-c", "127.0.0.1:1", "-o", "json"], { cwd: dir });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe("CLI_COORDINATOR_POLICY_HASH_UNKNOWN");
    // Named, it is expected (and the unreachable port is tried).
    const named = await cli(
      ["set", "-c", "127.0.0.1:1", "--coordinator-policy-hash", "ab".repeat(32), "--timeout", "0.5", "-o", "json"],
      { cwd: dir },
    );
    expect(JSON.parse(named.stdout).error.code).toBe("CLI_COORDINATOR_UNREACHABLE");
  });

  it("with a key of the wrong type, or a named key file that does not exist", async () => {
    const dir = await workspace();
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    writeFileSync(`${dir}/rsa.pem`, encodeSeedShareOwnerKey(rsa));
    const wrong = await cli(["set", "-c", "127.0.0.1:1", "app.yaml", "--workload-owner-key", "rsa.pem", "-o", "json"], {
      cwd: dir,
    });
    expect(wrong.status).toBe(1);
    const err = JSON.parse(wrong.stdout).error;
    expect(err.code).toBe("KEY_WRONG_TYPE");
    expect(err.hint).toContain("--workload-owner-key");
    const missing = await cli(
      ["set", "-c", "127.0.0.1:1", "app.yaml", "--workload-owner-key", "nope.pem", "-o", "json"],
      { cwd: dir },
    );
    expect(JSON.parse(missing.stdout).error.code).toBe("FILE_NOT_FOUND");
  });

  it("with YAML whose policies the manifest does not name", async () => {
    const dir = await workspace();
    writeFileSync(`${dir}/manifest.json`, manifestFor([], ARK, { workloadOwners: [], seedShareOwners: [] }));
    const r = await cli(["set", "-c", "127.0.0.1:1", "app.yaml", "-o", "json"], { cwd: dir });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: "CLI_SET_POLICY_NOT_IN_MANIFEST",
      details: { workload: "Deployment shop/web" },
    });
  });

  it("warns as upstream does about the owner keys: none in the manifest, and a key not listed", async () => {
    const dir = await workspace();
    const ec = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
    writeFileSync(`${dir}/workload-owner.pem`, encodeEcPrivateKey(ec));
    const port = await freePort();
    const r = await cli(["set", "-c", `127.0.0.1:${port}`, "app.yaml", "--timeout", "0.5", "-o", "json"], { cwd: dir });
    expect(JSON.parse(r.stdout).warnings.map((w: { code: string }) => w.code)).toEqual(["CLI_MANIFEST_NO_OWNER_KEYS"]);
    const other = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey;
    const g = JSON.parse(
      (
        await cli(
          ["policy", "generate", "app.yaml", "--platform", "sim", "--image-metadata", "images.json", "-o", "json"],
          { cwd: dir },
        )
      ).stdout,
    );
    writeFileSync(
      `${dir}/manifest.json`,
      manifestFor(g.workloads, ARK, { workloadOwners: [other], seedShareOwners: [] }),
    );
    const r2 = await cli(["set", "-c", `127.0.0.1:${port}`, "app.yaml", "--timeout", "0.5", "-o", "json"], {
      cwd: dir,
    });
    expect(JSON.parse(r2.stdout).warnings.map((w: { code: string }) => w.code)).toEqual([
      "CLI_WORKLOAD_OWNER_KEY_NOT_IN_MANIFEST",
    ]);
  });

  it("retries an unreachable Coordinator every second, with a spinner on a terminal only, then gives up with a code", async () => {
    const dir = await workspace();
    const port = await freePort();
    const tty = await cli(["set", "-c", `127.0.0.1:${port}`, "app.yaml", "--timeout", "2.5"], { cwd: dir, tty: true });
    expect(tty.status).toBe(1);
    expect(tty.stderr).toContain(`Waiting for the Coordinator at 127.0.0.1:${port}`);
    expect(tty.stderr).toContain("[CLI_COORDINATOR_UNREACHABLE]");
    const piped = await cli(["set", "-c", `127.0.0.1:${port}`, "app.yaml", "--timeout", "1.5", "-o", "json"], {
      cwd: dir,
    });
    expect(piped.stderr).not.toContain("Waiting");
    const err = JSON.parse(piped.stdout).error;
    expect(err.code).toBe("CLI_COORDINATOR_UNREACHABLE");
    expect(err.details.attempts).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it("refuses a TLS server that cannot attest, before a single byte of the request is written", async () => {
    const dir = await workspace();
    const { keyPath, certPath } = opensslSelfSigned(dir, "not-a-coordinator");
    let received = 0;
    let connections = 0;
    const server = createServer(
      { key: readFileSync(keyPath), cert: readFileSync(certPath), ALPNProtocols: ["h2"] },
      (socket) => {
        socket.on("data", (d) => {
          received += d.length;
        });
        socket.on("error", () => {});
      },
    );
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await cli(["set", "-c", `127.0.0.1:${port}`, "app.yaml", "-o", "json"], { cwd: dir });
      expect(r.status).toBe(1);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: "ATLS_EVIDENCE_MISSING", kind: "crypto" });
      // Let the server see whatever the client might still have sent.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(connections).toBeGreaterThanOrEqual(1);
      expect(received).toBe(0);
    } finally {
      server.close();
    }
  });
});
