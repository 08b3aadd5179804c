import { errorCode, expectCode, fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadMeshCredentials } from "../src/index.js";
import { TestMeshCa } from "./mesh-ca.js";

const ca = new TestMeshCa();

describe("loadMeshCredentials", () => {
  it("accepts the initializer's files: chain leaf ‖ intermediate, PKCS#8 key, mesh CA", () => {
    const files = ca.issue({ commonName: "web" });
    const creds = loadMeshCredentials({
      certChain: new TextEncoder().encode(String(files.certChain)),
      key: String(files.key),
      meshCa: String(files.meshCa),
    });
    expect(creds.leaf.subject).toBe("CN=web");
    expect(creds.meshCa.ca).toBe(true);
  });

  it("refuses a key that is not the leaf's", () => {
    const a = ca.issue();
    const b = ca.issue();
    expectCode(() => loadMeshCredentials({ ...a, key: b.key }), "PROXY_CREDENTIALS_INVALID");
  });

  it("refuses a leaf as the mesh CA, garbage, and empty files", () => {
    const a = ca.issue();
    const leafOnly = `${String(a.certChain).split("-----END CERTIFICATE-----")[0]}-----END CERTIFICATE-----\n`;
    expectCode(() => loadMeshCredentials({ ...a, meshCa: leafOnly }), "PROXY_CREDENTIALS_INVALID");
    expectCode(() => loadMeshCredentials({ ...a, certChain: "" }), "PROXY_CREDENTIALS_INVALID");
    expectCode(
      () => loadMeshCredentials({ ...a, key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }),
      "PROXY_CREDENTIALS_INVALID",
    );
    const truncated = `${String(a.certChain).slice(0, 200)}\n-----END CERTIFICATE-----\n`;
    expectCode(() => loadMeshCredentials({ ...a, certChain: truncated }), "PROXY_CREDENTIALS_INVALID");
  });
});

describe("loadMeshCredentials on arbitrary bytes", () => {
  const good = ca.issue();
  const pem = (body: Uint8Array) =>
    `-----BEGIN CERTIFICATE-----\n${Buffer.from(body).toString("base64")}\n-----END CERTIFICATE-----\n`;

  it("fails only with PROXY_CREDENTIALS_INVALID, whichever file is garbage (fuzz)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("certChain", "key", "meshCa"),
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }).map(pem),
          fc.uint8Array({ maxLength: 512 }),
          fc.string(),
          // A real file with one byte flipped somewhere.
          fc
            .tuple(
              fc.constantFrom(String(good.certChain), String(good.key), String(good.meshCa)),
              fc.nat(),
              fc.integer({ min: 1, max: 255 }),
            )
            .map(([text, at, flip]) => {
              const bytes = Buffer.from(text);
              const i = at % bytes.length;
              bytes[i] = (bytes[i] as number) ^ flip;
              return new Uint8Array(bytes);
            }),
        ),
        (which, value) => {
          const code = errorCode(() => loadMeshCredentials({ ...good, [which]: value }));
          expect([undefined, "PROXY_CREDENTIALS_INVALID"]).toContain(code);
        },
      ),
      { numRuns: fuzzRuns(200) },
    );
  });
});
