import { ContrastError } from "@contrast/core";
import { expectCode, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { integrityOf, parseInstallConfig, resolveTargetPath } from "../src/index.js";

const sri = integrityOf(new Uint8Array([1, 2, 3]));
const shim = "/opt/edgeless/@@runtimeName@@/bin/containerd-shim-contrast-cc-v2";
const config = (files: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ files, ...extra });

describe("contrast-node-install.json", () => {
  it("parses files, debugRuntime, runtimeHandler and qemuExtraKernelParams", () => {
    const parsed = parseInstallConfig(
      config(
        [
          { url: "https://example.com/shim", path: shim, integrity: sri, executable: true },
          { url: "file:///payload/kata-kernel", path: "/opt/edgeless/@@runtimeName@@/share/kata-kernel" },
        ],
        { debugRuntime: true, runtimeHandler: "contrast-cc-metal-qemu-snp-1a2b3c4d", qemuExtraKernelParams: "quiet" },
      ),
    );
    expect(parsed.files).toHaveLength(2);
    expect(parsed.files[0]?.integrity?.text).toBe(sri);
    expect(parsed.files[0]?.executable).toBe(true);
    expect(parsed.files[1]?.integrity).toBeUndefined();
    expect(parsed.files[1]?.executable).toBe(false);
    expect(parsed.debugRuntime).toBe(true);
    expect(parsed.runtimeHandler).toBe("contrast-cc-metal-qemu-snp-1a2b3c4d");
    expect(resolveTargetPath(shim, "contrast-cc-metal-qemu-snp-1a2b3c4d")).toBe(
      "/opt/edgeless/contrast-cc-metal-qemu-snp-1a2b3c4d/bin/containerd-shim-contrast-cc-v2",
    );
    expect(parseInstallConfig('{"snapshotter":"none"}').snapshotter).toBe("none");
    expect(parseInstallConfig("{}")).toEqual({
      snapshotter: undefined,
      files: [],
      debugRuntime: false,
      runtimeHandler: undefined,
      qemuExtraKernelParams: undefined,
    });
  });

  it("requires integrity for http(s) and checks it wherever given", () => {
    for (const url of ["http://example.com/x", "https://example.com/x"]) {
      expectCode(() => parseInstallConfig(config([{ url, path: shim }])), "NODE_INSTALL_INTEGRITY_REQUIRED");
      expectCode(
        () => parseInstallConfig(config([{ url, path: shim, integrity: "" }])),
        "NODE_INSTALL_INTEGRITY_REQUIRED",
      );
    }
    expectCode(
      () => parseInstallConfig(config([{ url: "file:///x", path: shim, integrity: "sha256-nope" }])),
      "NODE_INSTALL_INTEGRITY_INVALID",
    );
  });

  it("rejects unknown fields, wrong types, other schemes and paths outside /opt/edgeless", () => {
    const bad: unknown[] = [
      "[]",
      "not json",
      config([], { debugruntime: true }),
      config([{ url: "file:///x", path: shim, integrety: sri }]),
      config([{ url: "ftp://example.com/x", path: shim }]),
      config([{ url: "file:///x" }]),
      config([{ path: shim }]),
      config([{ url: "file:///x", path: shim, executable: "yes" }]),
      config([{ url: "file:///x", path: "/usr/bin/containerd" }]),
      config([{ url: "file:///x", path: "/opt/edgeless/@@runtimeName@@/../../../etc/passwd" }]),
      config([{ url: "file:///x", path: "/opt/edgeless/@@runtimeName@@//x" }]),
      config([{ url: "file:///x", path: "/opt/edgeless/x" }]),
      config([{ url: "file:///x", path: "opt/edgeless/@@runtimeName@@/x" }]),
      config([
        { url: "file:///x", path: shim },
        { url: "file:///y", path: shim },
      ]),
      JSON.stringify({ files: {} }),
      JSON.stringify({ files: [], debugRuntime: "true" }),
      JSON.stringify({ files: [], snapshotter: "overlayfs" }),
    ];
    for (const text of bad)
      expectCode(() => parseInstallConfig(text as string), "NODE_INSTALL_CONFIG_INVALID", "input");
  });

  it("(fuzz) arbitrary JSON documents parse or fail with a node-install input code", () => {
    const codes = new Set([
      "NODE_INSTALL_CONFIG_INVALID",
      "NODE_INSTALL_INTEGRITY_INVALID",
      "NODE_INSTALL_INTEGRITY_REQUIRED",
    ]);
    const file = fc.record(
      {
        url: fc.oneof(fc.constantFrom("file:///a", "https://h/x", "http://h/y", "ftp://z"), fc.string()),
        path: fc.oneof(fc.constantFrom(shim, "/opt/edgeless/a/b", "/etc/x", "/opt/edgeless/../x"), fc.string()),
        integrity: fc.oneof(fc.constant(sri), fc.string()),
        executable: fc.oneof(fc.boolean(), fc.string()),
      },
      { requiredKeys: [] },
    );
    const doc = fc.oneof(
      fc.record(
        { files: fc.array(file, { maxLength: 4 }), debugRuntime: fc.oneof(fc.boolean(), fc.integer()) },
        { requiredKeys: [] },
      ),
      fc.jsonValue(),
    );
    fc.assert(
      fc.property(doc, (d) => {
        try {
          const parsed = parseInstallConfig(JSON.stringify(d) ?? "null");
          for (const f of parsed.files) {
            expect(f.path.startsWith("/opt/edgeless/")).toBe(true);
            expect(f.path.split("/")).not.toContain("..");
            if (!f.url.startsWith("file://")) expect(f.integrity).toBeDefined();
          }
        } catch (e) {
          expect(e).toBeInstanceOf(ContrastError);
          expect(codes.has((e as ContrastError).code)).toBe(true);
        }
      }),
      { numRuns: fuzzRuns() },
    );
  });
});
