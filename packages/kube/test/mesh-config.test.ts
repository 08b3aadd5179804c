import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { YamlFile } from "../src/findings.js";
import { formatFinding } from "../src/findings.js";
import { parseAdminPort, parseEgressConfig, parseIngressConfig, validateMeshAnnotations } from "../src/mesh-config.js";
import { parseYamlDocuments } from "../src/yaml.js";
import { POD_SPEC, workload, yaml } from "./kinds.js";

const RUNS = fuzzRuns(200);
const INGRESS = "contrast.edgeless.systems/servicemesh-ingress";
const EGRESS = "contrast.edgeless.systems/servicemesh-egress";
const ADMIN = "contrast.edgeless.systems/servicemesh-admin-interface-port";

describe("parseIngressConfig", () => {
  it("reads upstream's example", () => {
    expect(parseIngressConfig("main#8001#false##metrics#8080#true")).toEqual({
      entries: [
        { name: "main", port: 8001, disableTLS: false },
        { name: "metrics", port: 8080, disableTLS: true },
      ],
      problems: [],
    });
  });

  it("takes every form Go's strconv.ParseBool takes, and no other", () => {
    for (const t of ["1", "t", "T", "TRUE", "true", "True"])
      expect(parseIngressConfig(`a#80#${t}`).entries[0]?.disableTLS).toBe(true);
    for (const f of ["0", "f", "F", "FALSE", "false", "False"])
      expect(parseIngressConfig(`a#80#${f}`).entries[0]?.disableTLS).toBe(false);
    for (const bad of ["yes", "no", "tRUE", "", " true", "2"])
      expect(parseIngressConfig(`a#80#${bad}`).problems).toHaveLength(1);
  });

  it("skips empty entries (a trailing or doubled ##) and an empty value", () => {
    expect(parseIngressConfig("")).toEqual({ entries: [], problems: [] });
    expect(parseIngressConfig("a#80#true##").entries).toHaveLength(1);
    expect(parseIngressConfig("##a#80#true####b#81#false").entries).toHaveLength(2);
  });

  it("reports every bad entry, each with its text", () => {
    const { entries, problems } = parseIngressConfig(
      "a#80##b#x#true##c#70000#true##d#81#maybe##e#0#true##ok#82#true##f#82#false",
    );
    expect(entries).toEqual([{ name: "ok", port: 82, disableTLS: true }]);
    expect(problems.map((p) => p.entry)).toEqual([
      "a#80",
      "b#x#true",
      "c#70000#true",
      "d#81#maybe",
      "e#0#true",
      "f#82#false",
    ]);
    expect(problems[0]?.message).toMatch(/2 fields, not 3/);
    expect(problems[5]?.message).toMatch(/port 82 is already configured/);
  });
});

describe("parseEgressConfig", () => {
  it("reads upstream's example", () => {
    expect(parseEgressConfig("billing#127.137.0.1:8081#billing-svc:8080##cart#127.137.0.2:8081#cart-svc:8080")).toEqual(
      {
        entries: [
          {
            name: "billing",
            listenAddress: "127.137.0.1",
            listenPort: 8081,
            remoteHost: "billing-svc",
            remotePort: 8080,
          },
          { name: "cart", listenAddress: "127.137.0.2", listenPort: 8081, remoteHost: "cart-svc", remotePort: 8080 },
        ],
        problems: [],
      },
    );
  });

  it("takes IP and bracketed IPv6 remotes as net.SplitHostPort does", () => {
    expect(parseEgressConfig("a#127.0.0.1:1#10.0.0.1:443").entries[0]?.remoteHost).toBe("10.0.0.1");
    expect(parseEgressConfig("a#127.0.0.1:1#[fd00::1]:443").entries[0]?.remoteHost).toBe("fd00::1");
    expect(parseEgressConfig("a#127.0.0.1:1#fd00::1:443").problems).toHaveLength(1);
  });

  it.each([
    ["a#10.0.0.1:80#b:80", /not in the loopback range/],
    ["a#127.0.0.1#b:80", /not <IPv4>:<port>/],
    ["a#localhost:80#b:80", /not <IPv4>:<port>/],
    ["a#[::1]:80#b:80", /not <IPv4>:<port>/],
    ["a#127.0.0.256:80#b:80", /not <IPv4>:<port>/],
    ["a#127.0.0.1:0#b:80", /listen port "0"/],
    ["a#127.0.0.1:80#b", /not <host>:<port>/],
    ["a#127.0.0.1:80#:80", /not <host>:<port>/],
    ["a#127.0.0.1:80#b:http", /remote port "http"/],
    ["a#127.0.0.1:80", /2 fields, not 3/],
    ["a#127.0.0.1:80#b:80#c", /4 fields, not 3/],
  ])("%s", (value, message) => {
    const { entries, problems } = parseEgressConfig(value);
    expect(entries).toEqual([]);
    expect(problems[0]?.message).toMatch(message);
    expect(problems[0]?.entry).toBe(value);
  });

  it("reports a listen address used twice", () => {
    const { problems } = parseEgressConfig("a#127.0.0.2:80#a:80##b#127.0.0.2:80#b:80");
    expect(problems).toEqual([
      { entry: "b#127.0.0.2:80#b:80", index: 1, message: expect.stringMatching(/already used by entry "a#/) },
    ]);
  });
});

describe("parseAdminPort", () => {
  it("takes 1-65535 in decimal only", () => {
    expect(parseAdminPort("9901")).toBe(9901);
    expect(parseAdminPort("65535")).toBe(65535);
    for (const bad of ["0", "65536", "-1", "+80", "0x50", "80 ", "", "1e3"])
      expect(parseAdminPort(bad)).toBeUndefined();
  });
});

describe("the grammars (property)", () => {
  const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
  const port = fc.integer({ min: 1, max: 65535 });
  const goBool = fc.constantFrom("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False");

  it("ingress entries written by the grammar are read back exactly (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(name, port, goBool), { selector: (e) => e[1], maxLength: 6 }),
        fc.boolean(),
        (entries, trailing) => {
          const text = entries.map(([n, p, b]) => `${n}#${p}#${b}`).join("##") + (trailing ? "##" : "");
          const parsed = parseIngressConfig(text);
          expect(parsed.problems).toEqual([]);
          expect(parsed.entries).toEqual(
            entries.map(([n, p, b]) => ({
              name: n,
              port: p,
              disableTLS: ["1", "t", "T", "TRUE", "true", "True"].includes(b),
            })),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("egress entries written by the grammar are read back exactly (property)", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const entry = fc.tuple(
      name,
      fc.tuple(octet, octet, octet),
      port,
      fc.stringMatching(/^[a-z][a-z0-9.-]{0,20}$/),
      port,
    );
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => `${e[1].join(".")}:${e[2]}`, maxLength: 5 }), (entries) => {
        const text = entries.map(([n, ip, lp, host, rp]) => `${n}#127.${ip.join(".")}:${lp}#${host}:${rp}`).join("##");
        const parsed = parseEgressConfig(text);
        expect(parsed.problems).toEqual([]);
        expect(parsed.entries).toEqual(
          entries.map(([n, ip, lp, host, rp]) => ({
            name: n,
            listenAddress: `127.${ip.join(".")}`,
            listenPort: lp,
            remoteHost: host,
            remotePort: rp,
          })),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it("never throws on arbitrary text, and accounts for every non-empty entry (fuzz)", () => {
    const text = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc
        .array(fc.constantFrom("#", "##", ":", "127.0.0.1", "80", "a", "true", "[", "]", "::1", "", " "), {
          maxLength: 20,
        })
        .map((p) => p.join("")),
    );
    fc.assert(
      fc.property(text, (value) => {
        const nonEmpty = value.split("##").filter((e) => e !== "").length;
        for (const parsed of [parseIngressConfig(value), parseEgressConfig(value)]) {
          // Every non-empty entry is either accepted or rejected with a problem, never both.
          expect(parsed.entries.length + new Set(parsed.problems.map((p) => p.index)).size).toBe(nonEmpty);
          for (const p of parsed.problems) expect(value.split("##").filter((e) => e !== "")[p.index]).toBe(p.entry);
        }
        parseAdminPort(value);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("validateMeshAnnotations", () => {
  const file = (source: string, objects: unknown[]): YamlFile => ({
    source,
    documents: parseYamlDocuments(objects.map((o) => `---\n${yaml(o)}`).join(""), source),
  });

  it("lists ALL errors in ALL resources at once, each with its resource and entry", () => {
    const a = file("a.yml", [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "cm", annotations: { [INGRESS]: "not checked: not a workload" } },
      },
      workload("Deployment", "web", POD_SPEC, {
        [INGRESS]: "web#8080#false##bad#x#true",
        [EGRESS]: "emoji#10.0.0.1:8081#emoji-svc:8080",
      }),
      workload("Pod", "fine", POD_SPEC, { [INGRESS]: "a#80#true", [ADMIN]: "9901" }),
    ]);
    const b = file("b.yml", [
      {
        apiVersion: "v1",
        kind: "List",
        items: [
          workload("StatefulSet", "db", POD_SPEC, { [ADMIN]: "admin" }),
          workload("CronJob", "cron", POD_SPEC, { [EGRESS]: "x#127.0.0.1:1#y##z" }),
        ],
      },
    ]);
    const findings = validateMeshAnnotations([a, b]);
    expect(
      findings.map((f) => [
        f.code,
        f.resource.source,
        f.resource.document,
        f.resource.kind,
        f.resource.name,
        f.resource.itemPath,
        f.entry,
      ]),
    ).toEqual([
      ["KUBE_MESH_INGRESS_INVALID", "a.yml", 1, "Deployment", "web", "", "bad#x#true"],
      ["KUBE_MESH_EGRESS_INVALID", "a.yml", 1, "Deployment", "web", "", "emoji#10.0.0.1:8081#emoji-svc:8080"],
      ["KUBE_MESH_ADMIN_PORT_UNREACHABLE", "a.yml", 2, "Pod", "fine", "", "9901"],
      ["KUBE_MESH_ADMIN_PORT_INVALID", "b.yml", 0, "StatefulSet", "db", "items[0]", "admin"],
      ["KUBE_MESH_EGRESS_INVALID", "b.yml", 0, "CronJob", "cron", "items[1]", "x#127.0.0.1:1#y"],
      ["KUBE_MESH_EGRESS_INVALID", "b.yml", 0, "CronJob", "cron", "items[1]", "z"],
    ]);
    expect(findings.map((f) => f.severity)).toEqual(["error", "error", "warning", "error", "error", "error"]);
    expect(findings.every((f) => f.hint !== "" && f.resource.namespace === "shop")).toBe(true);
    expect(formatFinding(findings[0] as (typeof findings)[number])).toBe(
      `a.yml:${a.documents[1]?.line} (document 1) Deployment shop/web: ${INGRESS}: port "x" is not a port number (1-65535)`,
    );
  });

  it("reports annotations that are not strings, and ones left on a pod template", () => {
    const unquoted = {
      source: "u.yml",
      documents: parseYamlDocuments(
        `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    ${ADMIN}: 9901\nspec:\n  runtimeClassName: contrast-cc\n  containers: []\n`,
        "u.yml",
      ),
    };
    const template = workload("Deployment", "d") as { spec: { template: { metadata: Record<string, unknown> } } };
    template.spec.template.metadata.annotations = { [INGRESS]: "a#80#true" };
    const findings = validateMeshAnnotations([unquoted, file("t.yml", [template])]);
    expect(findings.map((f) => [f.code, f.severity, f.resource.name])).toEqual([
      ["KUBE_MESH_ADMIN_PORT_INVALID", "error", "p"],
      ["KUBE_MESH_ANNOTATION_MISPLACED", "warning", "d"],
    ]);
    expect(findings[0]?.message).toMatch(/must be a string, not number/);
  });

  it("skips workloads outside Contrast, and warns about an admin port that needs a client certificate", () => {
    const runc = file("r.yml", [workload("Pod", "p", { ...POD_SPEC, runtimeClassName: "runc" }, { [INGRESS]: "bad" })]);
    expect(validateMeshAnnotations(runc)).toEqual([]);
    const admin = (ingress: string) =>
      file("a.yml", [workload("Pod", "p", POD_SPEC, { [INGRESS]: ingress, [ADMIN]: "9901" })]);
    expect(validateMeshAnnotations(admin("web#8080#false")).map((f) => [f.code, f.severity])).toEqual([
      ["KUBE_MESH_ADMIN_PORT_UNREACHABLE", "warning"],
    ]);
    expect(validateMeshAnnotations(admin("web#8080#false##admin#9901#false"))).toHaveLength(1);
    expect(validateMeshAnnotations(admin("web#8080#false##admin#9901#true"))).toEqual([]);
  });

  it("finds nothing in correct input (emojivoto-style annotations)", () => {
    const ok = file("ok.yml", [
      workload("Deployment", "web", POD_SPEC, {
        [INGRESS]: "web#8080#false",
        [EGRESS]: "emoji#127.137.0.1:8081#emoji-svc:8080##voting#127.137.0.2:8081#voting-svc:8080",
      }),
      workload("Deployment", "empty", POD_SPEC, { [INGRESS]: "", [EGRESS]: "", [ADMIN]: "" }),
    ]);
    expect(validateMeshAnnotations(ok)).toEqual([]);
  });
});
