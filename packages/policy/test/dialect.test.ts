import { readFileSync } from "node:fs";
import { Policy, parseModule, REGORUS_0_2_8_LANGUAGE, regoInventory } from "@contrast/rego";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_RULES } from "../src/default-rules.js";
import { policyDialectFindings } from "../src/dialect.js";
import { generatePolicies, PolicyError, policyProfile, policyProfiles, profileDialect } from "../src/index.js";
import { fixtureImages } from "./fixtures/images.js";

const FUZZ_RUNS = fuzzRuns(200);
const IMAGE = "registry.k8s.io/pause:3.6@sha256:3d380ca8864549e74af4b29c10f9cb0956236dfb01c40ca076fb6c37253234db";
const images = fixtureImages();

// A pod with what makes the rules take their less common paths: an emptyDir, an exec probe, env.
const POD = `
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  runtimeClassName: contrast-cc
  volumes: [{name: scratch, emptyDir: {}}]
  containers:
    - name: app
      image: ${IMAGE}
      env: [{name: A, value: "1"}]
      volumeMounts: [{name: scratch, mountPath: /scratch}]
      readinessProbe: {exec: {command: [cat, /ready]}}
`;

describe("the rules keep to the agent's Rego dialect", () => {
  // Read from disk, not DEFAULT_RULES: whatever rules.rego becomes, it is checked here.
  const rulesFile = readFileSync(new URL("../rules.rego", import.meta.url), "utf8");

  it("packages/policy/rules.rego uses only what regorus 0.2.8 of Kata 3.13/3.14 and of the Microsoft fork has", () => {
    for (const id of ["metal-qemu-snp", "aks-clh-snp"]) {
      expect(policyDialectFindings(rulesFile, profileDialect(policyProfile(id))), id).toEqual([]);
    }
    expect(rulesFile).toBe(DEFAULT_RULES);
  });

  it("uses only built-ins of the Kata agent's set and constructs with regorus 0.2.8 evidence", () => {
    const inv = regoInventory([parseModule(rulesFile, { file: "rules.rego" })]);
    const kata = profileDialect(policyProfile("metal-qemu-snp")).builtins;
    expect(inv.builtins.size).toBeGreaterThan(10);
    for (const name of inv.builtins.keys()) expect(kata.has(name), name).toBe(true);
    for (const f of inv.features) expect(REGORUS_0_2_8_LANGUAGE[f], f).toBeDefined();
    // The v0 rules import the keywords they use (regorus reads `if`, `in`, `every` as names otherwise).
    expect(inv.features.has("import future.keywords")).toBe(true);
  });

  for (const profile of policyProfiles()) {
    it(`${profile.id}: a generated policy document (rules + policy_data) passes ${profileDialect(profile).id}`, async () => {
      const result = await generatePolicies(POD, { images, profile });
      expect(result.warnings.filter((w) => w.code === "POLICY_REGO_DIALECT")).toEqual([]);
      const [w] = result.workloads;
      expect(w).toBeDefined();
      expect(policyDialectFindings(w?.policy ?? "", profileDialect(profile), "policy.rego")).toEqual([]);
    });
  }

  it("maps AKS to the Microsoft fork's build and every other platform to Kata's", () => {
    for (const p of policyProfiles()) {
      expect(profileDialect(p).id, p.id).toBe(
        p.flavour === "microsoft" ? "regorus-0.2.8-microsoft" : "regorus-0.2.8-kata",
      );
    }
    expect(profileDialect().id).toBe("regorus-0.2.8-kata");
  });
});

describe("generatePolicies and the dialect", () => {
  const profile = policyProfile("metal-qemu-snp");

  it("refuses a profile's own rules that use a built-in the agent lacks (POLICY_REGO_DIALECT)", async () => {
    const broken = { ...profile, rules: `${DEFAULT_RULES}\nnow_ok if time.now_ns() > 0\n` };
    const error = await generatePolicies(POD, { images, profile: broken }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyError);
    const e = error as PolicyError;
    expect(e.code).toBe("POLICY_REGO_DIALECT");
    expect(e.kind).toBe("policy");
    expect(e.hint).toMatch(/regorus 0\.2\.8/);
    expect(e.details?.findings).toEqual([
      expect.objectContaining({ code: "REGO_DIALECT_BUILTIN", name: "time.now_ns" }),
    ]);
  });

  it("warns about rules the user brought, and still generates", async () => {
    const rules = `${DEFAULT_RULES}\nsha_ok if crypto.sha256("a") != ""\n`;
    const result = await generatePolicies(POD, { images, profile, rules });
    expect(result.workloads).toHaveLength(1);
    const warnings = result.warnings.filter((w) => w.code === "POLICY_REGO_DIALECT");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/crypto\.sha256.*REGO_DIALECT_BUILTIN/);
  });

  it("judges base64 built-ins by the platform: available on AKS, missing on the Kata-based platforms", async () => {
    const rules = `${DEFAULT_RULES}\nb64_ok if base64.decode("YQ==") == "a"\n`;
    const aks = await generatePolicies(POD, { images, profile: policyProfile("aks-clh-snp"), rules });
    expect(aks.warnings.filter((w) => w.code === "POLICY_REGO_DIALECT")).toEqual([]);
    const metal = await generatePolicies(POD, { images, profile, rules });
    expect(metal.warnings.map((w) => w.code)).toContain("POLICY_REGO_DIALECT");
  });

  it("reports rules that do not parse as POLICY_RULES_INVALID", () => {
    expect(() => policyDialectFindings("package agent_policy\na if {", profileDialect(profile))).toThrow(
      expect.objectContaining({ code: "POLICY_RULES_INVALID" }),
    );
  });
});

describe("b64url_encode in the rules (replaces base64url.encode, which Kata's agent lacks)", () => {
  const policy = Policy.compile({ file: "rules.rego", source: DEFAULT_RULES });
  const encode = (s: string) =>
    policy.query(`x := data.agent_policy.b64url_encode(${JSON.stringify(s)})`)[0]?.bindings.x;

  it("gives base64url with padding, as regorus' base64url.encode (property)", () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });
    fc.assert(
      fc.property(printable, (s) => {
        expect(encode(s)).toBe(Buffer.from(s, "ascii").toString("base64").replace(/\+/g, "-").replace(/\//g, "_"));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("encodes block-device addresses and is undefined for characters outside printable ASCII", () => {
    expect(encode("0/1")).toBe("MC8x");
    expect(encode("8:16")).toBe("ODoxNg==");
    expect(encode("")).toBe("");
    expect(encode("é")).toBeUndefined();
    expect(encode("a\nb")).toBeUndefined();
  });
});
