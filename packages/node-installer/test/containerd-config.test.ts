import { ContrastError } from "@contrast/core";
import { parsePlatform } from "@contrast/manifest";
import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { parse, stringify } from "smol-toml";
import { describe, expect, it } from "vitest";
import { checkRuntimeRegistered, patchContainerdConfig, runtimeEntry } from "../src/index.js";
import { applyEdits, editToml, headerPath, tomlEqual } from "../src/toml-edit.js";
import { at, vendored } from "./host.js";

const platform = parsePlatform("metal-qemu-snp");
const handler = "contrast-cc-metal-qemu-snp-1a2b3c4d";
const entry = runtimeEntry(platform, handler);

describe("headerPath", () => {
  it("reads bare, double- and single-quoted keys with spaces and a comment", () => {
    expect(headerPath(`[plugins."io.containerd.grpc.v1.cri".containerd]`)).toEqual([
      "plugins",
      "io.containerd.grpc.v1.cri",
      "containerd",
    ]);
    expect(headerPath(`  [ plugins . 'io.containerd.cri.v1.images' ]  # images`)).toEqual([
      "plugins",
      "io.containerd.cri.v1.images",
    ]);
    expect(headerPath("[[array]]")).toBeUndefined();
    expect(headerPath("key = 1")).toBeUndefined();
    expect(headerPath(`["a\\"b"]`)).toBeUndefined();
  });
});

describe("patchContainerdConfig", () => {
  it("a file that defines the runtimes table inline cannot take an appended table: it is rewritten, meaning kept", () => {
    const text =
      'version = 2\nplugins = { "io.containerd.grpc.v1.cri" = { containerd = { runtimes = { runc = { runtime_type = "io.containerd.runc.v2" } } } } }\n';
    const result = patchContainerdConfig(text, entry);
    expect(result.how).toBe("rewritten");
    checkRuntimeRegistered(result.text, handler);
    expect(at(parse(result.text), "plugins", "io.containerd.grpc.v1.cri", "containerd", "runtimes", "runc")).toEqual({
      runtime_type: "io.containerd.runc.v2",
    });
  });

  it("treats text as a Go template only when it is not TOML", () => {
    const toml = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".cni]\n  conf_template = "/etc/{{cni}}.tmpl"\n';
    expect(patchContainerdConfig(toml, entry).how).toBe("edited");
    const template = `{{ template "base" . }}\n`;
    const result = patchContainerdConfig(template, entry);
    expect(result.how).toBe("appended-to-template");
    expect(patchContainerdConfig(result.text, entry).changed).toBe(false);
    // A broken marker block is not silently duplicated.
    const broken = result.text.replace(/# END contrast runtime .*\n/, "");
    expect(() => patchContainerdConfig(broken, entry)).toThrow(ContrastError);
  });

  it("checkRuntimeRegistered fails for a missing table, another runtime type, another shim path", () => {
    const code = (text: string) => {
      try {
        checkRuntimeRegistered(text, handler, entry.table);
        return undefined;
      } catch (e) {
        return (e as ContrastError).code;
      }
    };
    expect(code("version = 2\n")).toBe("NODE_INSTALL_RUNTIME_NOT_REGISTERED");
    const good = patchContainerdConfig(undefined, entry).text;
    expect(code(good)).toBeUndefined();
    expect(code(good.replace("io.containerd.contrast-cc.v2", "io.containerd.kata.v2"))).toBe(
      "NODE_INSTALL_RUNTIME_NOT_REGISTERED",
    );
    expect(code(good.replace("/bin/containerd-shim-contrast-cc-v2", "/bin/other"))).toBe(
      "NODE_INSTALL_RUNTIME_NOT_REGISTERED",
    );
    expect(code("not toml [")).toBe("NODE_INSTALL_RUNTIME_NOT_REGISTERED");
  });

  it("(fuzz) arbitrary text: a registered runtime that a second run leaves alone, or an input code", () => {
    const base = vendored("containerd/default-1.7.toml");
    const lines = base.split("\n");
    // Mutations of a real config (lines dropped, duplicated, cut) and free text.
    const mutated = fc
      .array(fc.tuple(fc.nat(lines.length - 1), fc.constantFrom("drop", "dup", "cut", "brace")), { maxLength: 4 })
      .map((ops) => {
        const out = [...lines];
        for (const [i, op] of ops) {
          const line = out[i % out.length] ?? "";
          if (op === "drop") out.splice(i % out.length, 1);
          else if (op === "dup") out.splice(i % out.length, 0, line);
          else if (op === "cut") out[i % out.length] = line.slice(0, line.length >> 1);
          else out[i % out.length] = `${line}{{`;
        }
        return out.join("\n");
      });
    const codes = new Set(["NODE_INSTALL_CONTAINERD_CONFIG_INVALID", "NODE_INSTALL_CONTAINERD_CONFIG_VERSION"]);
    fc.assert(
      fc.property(
        fc.oneof(mutated, fc.string(), fc.string({ unit: fc.constantFrom(..."[]\"'=.{}# \nversion23abc".split("")) })),
        (text) => {
          let result: ReturnType<typeof patchContainerdConfig>;
          try {
            result = patchContainerdConfig(text, entry);
          } catch (e) {
            expect(e).toBeInstanceOf(ContrastError);
            expect(codes.has((e as ContrastError).code), (e as ContrastError).code).toBe(true);
            return;
          }
          const again = patchContainerdConfig(result.text, entry);
          expect(again.changed).toBe(false);
          expect(again.text).toBe(result.text);
          if (result.how !== "appended-to-template") checkRuntimeRegistered(result.text, handler, entry.table);
        },
      ),
      { numRuns: fuzzRuns(300) },
    );
  });

  it("(property) editToml's text always parses to exactly the edited document", () => {
    const key = fc.constantFrom("a", "b", "c", "x.y", "q r");
    const scalar = fc.oneof(fc.boolean(), fc.integer({ min: -1000, max: 1000 }), fc.string({ maxLength: 8 }));
    const table = fc.dictionary(key, scalar, { maxKeys: 3 });
    const doc = fc.dictionary(key, fc.oneof(scalar, table, fc.dictionary(key, table, { maxKeys: 2 })), { maxKeys: 4 });
    const path = fc.array(key, { minLength: 1, maxLength: 3 });
    const edit = fc.oneof(
      fc.record({ kind: fc.constant("scalar" as const), table: path, key, value: scalar }),
      fc.record({ kind: fc.constant("table" as const), table: path, value: table }),
    );
    const how = new Map<string, number>();
    fc.assert(
      fc.property(doc, fc.array(edit, { maxLength: 3 }), fc.boolean(), (d, edits, comment) => {
        const text = `${comment ? "# a comment\n" : ""}${stringify(d)}`;
        let wanted: ReturnType<typeof applyEdits>;
        try {
          wanted = applyEdits(parse(text), edits);
        } catch {
          return; // an edit through a scalar: not a valid edit of this document
        }
        const result = editToml(text, edits);
        how.set(result.how, (how.get(result.how) ?? 0) + 1);
        expect(tomlEqual(parse(result.text), wanted)).toBe(true);
        if (result.how === "unchanged") expect(result.text).toBe(text);
        if (result.how === "edited" && comment) expect(result.text.startsWith("# a comment\n")).toBe(true);
      }),
      { numRuns: fuzzRuns() },
    );
    // The generators reach every path: nothing to do, byte-keeping edits, and rewrites.
    expect([...how.keys()].sort()).toEqual(["edited", "rewritten", "unchanged"]);
  });
});
