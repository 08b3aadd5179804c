import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error: plain ESM tool without type declarations
import { checkRegistries as check } from "../src/check.mjs";
// @ts-expect-error: plain ESM tool without type declarations
import { REGISTRIES as registries } from "../src/registries.mjs";
// @ts-expect-error: plain ESM tool without type declarations
import { renderErrorsDoc as render } from "../src/render.mjs";

interface Entry {
  code: string;
  kind: string;
  meaning: string;
  hint: string;
}
interface Finding {
  code: string;
  severities?: readonly string[];
  meaning: string;
  hint: string;
}
interface Registry {
  package: string;
  prefixes: string[];
  codes: readonly Entry[];
  findings?: readonly Finding[];
}
const REGISTRIES = registries as Registry[];
const checkRegistries = check as (r: Registry[]) => string[];
const renderErrorsDoc = render as (r: Registry[]) => string;

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const entry = (code: string, kind = "input"): Entry => ({ code, kind, meaning: "m", hint: "h" });

describe("error registries", () => {
  it("have no collisions, stray prefixes or empty fields", () => {
    expect(checkRegistries(REGISTRIES)).toEqual([]);
    expect(REGISTRIES.map((r) => r.package)).toEqual([
      "@contrast/core",
      "@contrast/x509",
      "@contrast/manifest",
      "@contrast/attestation",
      "@contrast/rego",
      "@contrast/kube",
      "@contrast/oci",
      "@contrast/policy",
      "@contrast/mesh-pki",
      "@contrast/api",
      "@contrast/atls",
      "@contrast/coordinator",
      "@contrast/workload",
      "@contrast/mesh-proxy",
      "@contrast/netfilter",
      "@contrast/node-installer",
      "@contrast/localrun",
      "@contrast/cli",
      "@contrast/coordinator-app",
      "@contrast/release",
    ]);
  });

  it("find the collision there was: MANIFEST_INVALID for a Contrast and an OCI image manifest", () => {
    const manifest = { package: "@contrast/manifest", prefixes: ["MANIFEST_"], codes: [entry("MANIFEST_INVALID")] };
    const policy = { package: "@contrast/policy", prefixes: ["IMAGE_"], codes: [entry("MANIFEST_INVALID")] };
    expect(checkRegistries([manifest, policy])).toEqual([
      "@contrast/policy: MANIFEST_INVALID: collides with the same code in @contrast/manifest",
      "@contrast/policy: MANIFEST_INVALID: outside the package's prefixes",
      "@contrast/policy: MANIFEST_INVALID: also under the prefixes of @contrast/manifest",
    ]);
    // The rename resolves it.
    const renamed = { ...policy, codes: [entry("IMAGE_MANIFEST_INVALID")] };
    expect(checkRegistries([manifest, renamed])).toEqual([]);
  });

  it("let a whole-code prefix win over another package's word prefix, and only for that code", () => {
    const core = { package: "core", prefixes: ["FILE_"], codes: [entry("FILE_NOT_FOUND")] };
    const cli = { package: "cli", prefixes: ["CLI_", "FILE_TOO_LARGE"], codes: [entry("FILE_TOO_LARGE")] };
    expect(checkRegistries([core, cli])).toEqual([]);
    // Without the exception the code is the word prefix's owner's.
    const bare = { ...cli, prefixes: ["CLI_"] };
    expect(checkRegistries([core, bare])).toEqual([
      "cli: FILE_TOO_LARGE: outside the package's prefixes",
      "cli: FILE_TOO_LARGE: also under the prefixes of core",
    ]);
    // The exception does not hand the rest of the word prefix over.
    const stray = { ...cli, codes: [entry("FILE_TOO_LARGE"), entry("FILE_TOO_SMALL")] };
    expect(checkRegistries([core, stray])).toEqual([
      "cli: FILE_TOO_SMALL: outside the package's prefixes",
      "cli: FILE_TOO_SMALL: also under the prefixes of core",
    ]);
  });

  it("check findings as codes, letting a warning share its code with an error of its own package only", () => {
    const finding = (code: string, severities?: string[]): Finding => ({
      code,
      ...(severities ? { severities } : {}),
      meaning: "m",
      hint: "h",
    });
    const policy = {
      package: "policy",
      prefixes: ["POLICY_"],
      codes: [entry("POLICY_REGO_DIALECT")],
      findings: [finding("POLICY_REGO_DIALECT"), finding("POLICY_IMAGE_UNPINNED")],
    };
    const manifest = {
      package: "manifest",
      prefixes: ["MANIFEST_"],
      codes: [entry("MANIFEST_INVALID")],
      findings: [
        finding("MANIFEST_WRONG_TYPE", ["error"]),
        finding("MANIFEST_VALUE_REQUIRED", ["error", "expected-missing"]),
      ],
    };
    expect(checkRegistries([policy, manifest])).toEqual([]);
    const bad = {
      ...manifest,
      findings: [
        finding("MANIFEST_WRONG_TYPE", ["fatal"]),
        finding("MANIFEST_WRONG_TYPE"),
        finding("POLICY_REGO_DIALECT"),
      ],
    };
    expect(checkRegistries([policy, bad])).toEqual([
      'manifest: MANIFEST_WRONG_TYPE (finding): unknown severity "fatal"',
      "manifest: MANIFEST_WRONG_TYPE (finding): collides with the same finding in manifest",
      "manifest: POLICY_REGO_DIALECT (finding): collides with the same finding in policy",
      "manifest: POLICY_REGO_DIALECT (finding): collides with the same code in policy",
      "manifest: POLICY_REGO_DIALECT (finding): outside the package's prefixes",
      "manifest: POLICY_REGO_DIALECT (finding): also under the prefixes of policy",
    ]);
    expect(renderErrorsDoc([policy])).toContain("| `POLICY_IMAGE_UNPINNED` | warning | m | h |");
  });

  it("find duplicates within a package, shared prefixes and malformed entries", () => {
    const a = {
      package: "a",
      prefixes: ["A_", "SHARED_", "WHOLE"],
      codes: [
        entry("A_ONE"),
        entry("A_ONE"),
        entry("A_bad"),
        entry("A_TWO", "weird"),
        { ...entry("WHOLE"), hint: " " },
      ],
    };
    const b = { package: "b", prefixes: ["SHARED_", "B_"], codes: [entry("B_ONE"), entry("WHOLE_NOT")] };
    expect(checkRegistries([a, b])).toEqual([
      "a: A_ONE: collides with the same code in a",
      "a: A_bad: not SCREAMING_SNAKE",
      'a: A_TWO: unknown kind "weird"',
      "a: WHOLE: empty hint",
      // A whole-code prefix is not a word prefix.
      "b: WHOLE_NOT: outside the package's prefixes",
      "prefix SHARED_ is claimed by a and b",
    ]);
  });

  it("register every code the packages' sources throw with a literal code", () => {
    // Where a class takes a typed code the compiler already checks this; this also covers
    // `new ContrastError("…")`, whose code is any string.
    const dirs: Record<string, string> = {
      "@contrast/core": "packages/core/src",
      "@contrast/x509": "packages/x509/src",
      "@contrast/manifest": "packages/manifest/src",
      "@contrast/attestation": "packages/attestation/src",
      "@contrast/rego": "packages/rego/src",
      "@contrast/kube": "packages/kube/src",
      "@contrast/oci": "packages/oci/src",
      "@contrast/policy": "packages/policy/src",
      "@contrast/mesh-pki": "packages/mesh-pki/src",
      "@contrast/api": "packages/api/src",
      "@contrast/atls": "packages/atls/src",
      "@contrast/coordinator": "packages/coordinator/src",
      "@contrast/workload": "packages/workload/src",
      "@contrast/mesh-proxy": "packages/mesh-proxy/src",
      "@contrast/netfilter": "packages/netfilter/src",
      "@contrast/node-installer": "packages/node-installer/src",
      "@contrast/localrun": "packages/localrun/src",
      "@contrast/cli": "apps/cli/src",
      "@contrast/coordinator-app": "apps/coordinator/src",
      "@contrast/release": "tools/release/src",
    };
    const thrown = /\b(?:new [A-Za-z]*Error|fail|tsmError|releaseError)\(\s*"([A-Z][A-Z0-9_]*)"/g;
    const all = new Set(REGISTRIES.flatMap((r) => r.codes.map((e) => e.code)));
    const unregistered: string[] = [];
    let seen = 0;
    for (const r of REGISTRIES) {
      // A package may also throw a dependency's error class with that dependency's code (policy's
      // request-stream parser throws rego's REGO_INVALID_INPUT, as it did inside rego).
      const dir = join(root, dirs[r.package] as string);
      const pkg = JSON.parse(readFileSync(join(dir, "../package.json"), "utf8")) as {
        dependencies?: object;
        devDependencies?: object;
      };
      // Apps are bundled: the packages they build on are devDependencies.
      const bundled = (dirs[r.package] as string).startsWith("apps/");
      const deps = new Set(Object.keys({ ...pkg.dependencies, ...(bundled ? pkg.devDependencies : {}) }));
      const codes = new Set(
        REGISTRIES.filter((o) => o === r || deps.has(o.package)).flatMap((o) => o.codes.map((e) => e.code)),
      );
      for (const file of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
        if (!/\.(?:ts|mjs)$/.test(file) || file.endsWith("error-codes.ts")) continue;
        for (const m of readFileSync(join(dir, file), "utf8").matchAll(thrown)) {
          seen++;
          // The CLI also reports libraries' codes for their conditions (EvidenceError's
          // SNP_CRL_REQUIRED, policy's POLICY_NO_WORKLOAD): registered there, not twice.
          const known = r.package === "@contrast/cli" ? all : codes;
          if (!known.has(m[1] as string)) unregistered.push(`${r.package}: ${file}: ${m[1]}`);
        }
      }
    }
    expect(unregistered).toEqual([]);
    expect(seen).toBeGreaterThan(100);
  });

  it("docs/errors.md is generated from them (run `pnpm errors-doc` after a change)", () => {
    const committed = readFileSync(join(root, "docs/errors.md"), "utf8");
    expect(committed).toBe(renderErrorsDoc(REGISTRIES));
    for (const r of REGISTRIES) for (const e of r.codes) expect(committed).toContain(`| \`${e.code}\` | ${e.kind} |`);
    // The findings the CLI prints as warnings or issues are there too.
    for (const code of ["POLICY_IMAGE_UNPINNED", "MANIFEST_VALUE_EXPECTED_MISSING", "REGO_DIALECT_BUILTIN"]) {
      expect(committed).toMatch(new RegExp(`\\| \`${code}\` \\| [a-z, -]+ \\|`));
    }
  });
});

describe("docs/CONTRIBUTING.md", () => {
  it("lists the same prefixes per package as the registries", () => {
    const text = readFileSync(join(root, "docs/CONTRIBUTING.md"), "utf8");
    for (const r of REGISTRIES) {
      const name = r.package.replace("@contrast/", "");
      const row = text.split("\n").find((l) => l.startsWith(`| \`${name}\``));
      expect(row, name).toBeDefined();
      const listed = [...((row as string).split("|")[2] ?? "").matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]);
      expect(listed, name).toEqual(r.prefixes);
    }
  });
});
