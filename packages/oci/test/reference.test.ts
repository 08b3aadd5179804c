import { fuzzRuns } from "@contrast/testkit";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  findUnpinnedReferences,
  formatImageReference,
  isLoopbackRegistry,
  isPinned,
  normalizeImageReference,
  parseImageReference,
} from "../src/reference.js";

const FUZZ_RUNS = fuzzRuns(200);
const hex64 = "a".repeat(64);

describe("image references", () => {
  it.each([
    ["nginx", "docker.io/library/nginx:latest"],
    ["nginx:1.27", "docker.io/library/nginx:1.27"],
    ["library/nginx", "docker.io/library/nginx:latest"],
    ["docker.io/nginx", "docker.io/library/nginx:latest"],
    ["index.docker.io/bitnami/redis:7", "docker.io/bitnami/redis:7"],
    ["user/app", "docker.io/user/app:latest"],
    ["ghcr.io/edgelesssys/contrast/coordinator:v1.5.0", "ghcr.io/edgelesssys/contrast/coordinator:v1.5.0"],
    ["localhost/app", "localhost/app:latest"],
    ["localhost:5000/a/b:c", "localhost:5000/a/b:c"],
    [`127.0.0.1:5000/app@sha256:${hex64}`, `127.0.0.1:5000/app@sha256:${hex64}`],
    ["[::1]:5000/app:v1", "[::1]:5000/app:v1"],
    [`nginx:1.27@sha256:${hex64}`, `docker.io/library/nginx:1.27@sha256:${hex64}`],
    ["Registry.Example/app", "Registry.Example/app:latest"],
  ])("normalises %s", (input, expected) => {
    expect(normalizeImageReference(input)).toBe(expected);
  });

  it.each([
    "",
    "Nginx",
    "nginx:",
    ":tag",
    "nginx@sha256:abc",
    `nginx@sha256:${"A".repeat(64)}`,
    "a//b",
    "-a/b",
    `a/b:${"t".repeat(129)}`,
    " nginx",
    "nginx:tag with space",
    "a/b_/c",
  ])("rejects %j", (input) => {
    expect(() => parseImageReference(input)).toThrow(
      expect.objectContaining({ code: "IMAGE_REFERENCE_INVALID", hint: expect.any(String) }),
    );
  });

  it("reports unpinned references once each", () => {
    const warnings = findUnpinnedReferences([
      "nginx",
      "docker.io/library/nginx:latest",
      `app@sha256:${hex64}`,
      "ghcr.io/x/y:v1",
    ]);
    expect(warnings.map((w) => w.normalized)).toEqual(["docker.io/library/nginx:latest", "ghcr.io/x/y:v1"]);
    expect(warnings[0]?.message).toContain("not pinned");
    expect(isPinned(`app@sha256:${hex64}`)).toBe(true);
    expect(isPinned("app:v1")).toBe(false);
  });

  it("knows loopback registries", () => {
    expect(["localhost", "localhost:5000", "127.0.0.1:1", "127.255.0.9", "[::1]:5000"].every(isLoopbackRegistry)).toBe(
      true,
    );
    expect(
      ["127.0.0.256", "128.0.0.1", "localhost.example.com", "10.0.0.1:5000", "docker.io"].some(isLoopbackRegistry),
    ).toBe(false);
  });

  const component = fc.stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/).filter((s) => s.length <= 30);
  const domain = fc.oneof(
    fc.constant("docker.io"),
    fc.constant("localhost:5000"),
    fc.stringMatching(/^[a-z0-9]+(\.[a-z0-9]+)+(:[0-9]{1,5})?$/).filter((s) => s.length < 40),
  );
  const tag = fc.stringMatching(/^[\w][\w.-]{0,20}$/);
  const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);

  it("formats what it parses, and parsing the formatted form is the identity (property)", () => {
    fc.assert(
      fc.property(
        domain,
        fc.array(component, { minLength: 1, maxLength: 4 }),
        fc.option(tag),
        fc.option(digest),
        (d, path, t, dg) => {
          const text = `${d}/${path.join("/")}${t === null ? "" : `:${t}`}${dg === null ? "" : `@${dg}`}`;
          const parsed = parseImageReference(text);
          const formatted = formatImageReference(parsed);
          expect(parseImageReference(formatted)).toEqual(parsed);
          expect(normalizeImageReference(formatted)).toBe(formatted);
          expect(parsed.digest).toBe(dg ?? undefined);
          if (dg === null) expect(parsed.tag).toBe(t ?? "latest");
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it("either parses arbitrary strings or throws IMAGE_REFERENCE_INVALID, never anything else (fuzz)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        try {
          const r = parseImageReference(s);
          expect(r.repository.length).toBeGreaterThan(0);
          expect(normalizeImageReference(formatImageReference(r))).toBe(formatImageReference(r));
        } catch (err) {
          expect(err).toMatchObject({ code: "IMAGE_REFERENCE_INVALID" });
        }
      }),
      { numRuns: FUZZ_RUNS * 5 },
    );
  });
});
