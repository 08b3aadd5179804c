import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSimulatedAuthority, nodeSimAuthorityFileSystem } from "@contrast/attestation/testing";
import { describe, expect, it } from "vitest";
import { emojivotoWorkspace, GOLDEN } from "./generate-helpers.js";
import { runBundle, tempDir } from "./helpers.js";

/** Set UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change (and review the diff). */
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const POLICY = /(io\.katacontainers\.config\.agent\.policy: )([A-Za-z0-9+/=]+)/g;

/** The YAML with each policy annotation replaced by the SHA-256 of its policy: goldens stay readable. */
function normalise(yaml: string): string {
  return yaml.replace(POLICY, (_m, key: string, value: string) => {
    const hash = createHash("sha256").update(Buffer.from(value, "base64")).digest("hex");
    return `${key}<policy sha256:${hash}>`;
  });
}

function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const f of readdirSync(join(dir, "resources")).sort()) {
    files.set(`resources/${f}`, readFileSync(join(dir, "resources", f), "utf8"));
  }
  files.set("manifest.json", readFileSync(join(dir, "manifest.json"), "utf8"));
  return files;
}

describe("contrast generate on emojivoto (golden, the real CLI process)", () => {
  it("patches the YAML and writes the manifest as the golden files say, and a second run changes no byte", () => {
    const dir = emojivotoWorkspace();
    const args = ["generate", "--reference-values", "metal-qemu-snp", "--image-metadata", "images.json", "resources"];
    const first = runBundle(dir, args);
    expect(first.stderr).toContain("Please fill in the reference values for Metal-QEMU-SNP");
    expect(first.status).toBe(0);
    expect(first.stdout).toContain("Updated manifest");
    const after = snapshot(dir);

    const golden = join(GOLDEN, "emojivoto");
    if (UPDATE) {
      mkdirSync(join(golden, "resources"), { recursive: true });
      for (const [name, text] of after) writeFileSync(join(golden, name), normalise(text));
    }
    for (const [name, text] of after) {
      expect(normalise(text), name).toBe(readFileSync(join(golden, name), "utf8"));
    }
    // Every policy hash in the manifest is one of an annotation in the YAML, and the other way round.
    const manifest = JSON.parse(after.get("manifest.json") as string) as { Policies: Record<string, unknown> };
    const annotated = [...after.values()].flatMap((t) =>
      [...t.matchAll(POLICY)].map((m) =>
        createHash("sha256")
          .update(Buffer.from(m[2] as string, "base64"))
          .digest("hex"),
      ),
    );
    expect(Object.keys(manifest.Policies).sort()).toEqual([...annotated].sort());
    expect(annotated).toHaveLength(3);

    // Files created on the first run, with upstream's modes.
    const mode = (f: string) => statSync(join(dir, f)).mode & 0o777;
    expect(mode("settings.json")).toBe(0o644);
    expect(mode("rules.rego")).toBe(0o644);
    expect(mode("layers-cache.json")).toBe(0o644);
    expect(mode("manifest.json")).toBe(0o644);

    const second = runBundle(dir, args);
    expect(second.status).toBe(0);
    expect(snapshot(dir)).toEqual(after);
  });

  it("with --reference-values sim, names the ARK of the simulated TEE in CONTRAST_SIM_DIR (created when missing)", async () => {
    const dir = emojivotoWorkspace();
    const sim = join(tempDir(), "sim");
    const env = { ...process.env, CONTRAST_SIM_DIR: sim };
    const args = [
      "generate",
      "--reference-values",
      "SIM",
      "--image-metadata",
      "images.json",
      "resources",
      "-o",
      "json",
    ];
    const r = runBundle(dir, args, env);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; platform: string; runtimeHandler: string };
    expect(doc).toMatchObject({ ok: true, platform: "sim" });
    expect(doc.runtimeHandler).toMatch(/^contrast-cc-sim-[0-9a-f]{8}$/);
    const authority = await loadSimulatedAuthority(join(sim, "authority.json"), nodeSimAuthorityFileSystem);
    expect(authority).toBeDefined();
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as {
      ReferenceValues: { sim: { ArkKeyDigest: string }[]; snp?: unknown };
    };
    expect(manifest.ReferenceValues.sim.map((s) => s.ArkKeyDigest)).toEqual([authority?.arkKeyDigest]);
    expect(manifest.ReferenceValues.snp).toBeUndefined();
    const web = readFileSync(join(dir, "resources/web.yml"), "utf8");
    expect(web).toContain(`runtimeClassName: ${doc.runtimeHandler}`);

    // The authority is reused, not replaced: a second run gives the same bytes and writes nothing.
    const before = snapshot(dir);
    const again = runBundle(dir, args, env);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout).files.written).toEqual([]);
    expect(snapshot(dir)).toEqual(before);

    // A manifest that trusts another simulated TEE is kept, with a warning naming the sim directory.
    const other = (before.get("manifest.json") as string).replace(authority?.arkKeyDigest as string, "a".repeat(64));
    writeFileSync(join(dir, "manifest.json"), other);
    const warned = runBundle(dir, args, env);
    expect(warned.status).toBe(0);
    const warnings = JSON.parse(warned.stdout).warnings as { code?: string; simDir?: string }[];
    expect(warnings.find((w) => w.code === "CLI_SIM_AUTHORITY_MISMATCH")?.simDir).toBe(sim);
  });
});
