import { errorCode, expectCode, fuzzRuns, thrownBy } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatHostPort, type MeshProxyError, meshConfigFromEnv, parseHostPort } from "../src/index.js";

describe("meshConfigFromEnv", () => {
  it("reads the three variables; unset and empty mean none", () => {
    expect(meshConfigFromEnv({})).toEqual({ ingress: [], egress: [], adminPort: undefined });
    expect(
      meshConfigFromEnv({
        CONTRAST_INGRESS_PROXY_CONFIG: "main#8001#false##metrics#8080#true##",
        CONTRAST_EGRESS_PROXY_CONFIG: "billing#127.137.0.1:8081#billing-svc:8080",
        CONTRAST_ADMIN_PORT: "9901",
      }),
    ).toEqual({
      ingress: [
        { name: "main", port: 8001, disableTLS: false },
        { name: "metrics", port: 8080, disableTLS: true },
      ],
      egress: [
        {
          name: "billing",
          listenAddress: "127.137.0.1",
          listenPort: 8081,
          remoteHost: "billing-svc",
          remotePort: 8080,
        },
      ],
      adminPort: 9901,
    });
  });

  it("lists every bad entry of every variable in one PROXY_CONFIG_INVALID", () => {
    const error = thrownBy(() =>
      meshConfigFromEnv({
        CONTRAST_INGRESS_PROXY_CONFIG: "a#1#maybe##b#70000#true",
        CONTRAST_EGRESS_PROXY_CONFIG: "x#10.0.0.1:80#svc:80",
        CONTRAST_ADMIN_PORT: "admin",
      }),
    );
    expect((error as MeshProxyError).code).toBe("PROXY_CONFIG_INVALID");
    const problems = (error as MeshProxyError).details?.problems as string[];
    expect(problems).toHaveLength(4);
    expect(problems.map((p) => p.split(":")[0])).toEqual([
      "CONTRAST_INGRESS_PROXY_CONFIG",
      "CONTRAST_INGRESS_PROXY_CONFIG",
      "CONTRAST_EGRESS_PROXY_CONFIG",
      "CONTRAST_ADMIN_PORT",
    ]);
  });
});

describe("parseHostPort", () => {
  it("takes IPv4, bracketed IPv6 and names; refuses the rest", () => {
    expect(parseHostPort("127.0.0.1:8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseHostPort("[::1]:15006")).toEqual({ host: "::1", port: 15006 });
    expect(parseHostPort("backend.svc:1")).toEqual({ host: "backend.svc", port: 1 });
    expect(parseHostPort("127.0.0.1:0", "--listen", { allowPortZero: true })).toEqual({ host: "127.0.0.1", port: 0 });
    for (const bad of ["::1:80", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", ":80", "[nope]:80", "a b:80", "h:8o"]) {
      expectCode(() => parseHostPort(bad), "PROXY_ADDRESS_INVALID");
    }
  });

  it("round-trips what formatHostPort writes, and fails only with its code (property)", () => {
    const host = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain());
    fc.assert(
      fc.property(host, fc.integer({ min: 1, max: 65535 }), (h, port) => {
        const text = formatHostPort({ host: h, port });
        expect(parseHostPort(text)).toEqual({ host: h, port });
      }),
      { numRuns: fuzzRuns(200) },
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        const code = errorCode(() => {
          const { port } = parseHostPort(text);
          if (port < 1 || port > 65535) throw new Error("port out of range");
        });
        expect([undefined, "PROXY_ADDRESS_INVALID"]).toContain(code);
      }),
      { numRuns: fuzzRuns(500) },
    );
  });
});
