import { ContrastError, isHex } from "@contrast/core";

/**
 * What a release build of the CLI knows about its release (docs/release.md): `pnpm release:render`
 * writes release.json and bundles the CLI with it as the `__CONTRAST_RELEASE__` define. A
 * development build has none; the CLI then behaves as before (upstream's source defaults).
 */
export interface Release {
  readonly schema: typeof RELEASE_SCHEMA;
  readonly version: string;
  /** Image name (coordinator, initializer, service-mesh, node-installer) → pinned reference. */
  readonly images: Readonly<Record<string, string>>;
  /** Platform id → what the release's runtime and Coordinator are on that platform. */
  readonly platforms: Readonly<Record<string, ReleasePlatform>>;
}

export interface ReleasePlatform {
  /** The RuntimeClass name = containerd runtime handler of runtime-<platform>.yml. */
  readonly runtimeHandler: string;
  /** SHA-256 (hex) of the policy annotation of coordinator-<platform>.yml. */
  readonly coordinatorPolicyHash: string;
  /** The manifest's ReferenceValues for this platform, when the release was given them. */
  readonly referenceValues?: Readonly<Record<string, unknown>>;
}

export const RELEASE_SCHEMA = "contrast-release/v1";

declare const __CONTRAST_RELEASE__: unknown;

/** Checks a release document (release.json, or the one embedded at build time). */
export function parseRelease(value: unknown, source: string): Release {
  const fail = (why: string): never => {
    throw new ContrastError("CLI_RELEASE_INVALID", `${source}: ${why}`, {
      kind: "internal",
      hint: "Render the release again with `pnpm release:render`; it writes and embeds a valid release.json.",
    });
  };
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(value)) return fail("not a JSON object");
  if (value.schema !== RELEASE_SCHEMA) fail(`schema is not ${RELEASE_SCHEMA}`);
  if (typeof value.version !== "string" || value.version === "") fail("version is not a string");
  const images = value.images;
  if (!isObject(images)) return fail("images is not an object");
  for (const [name, ref] of Object.entries(images)) {
    // Pinned: a release never names an image by a tag alone.
    if (typeof ref !== "string" || !/^[^\s@]+@sha256:[0-9a-f]{64}$/.test(ref))
      fail(`images.${name} is not a reference pinned by sha256 digest`);
  }
  const platforms = value.platforms;
  if (!isObject(platforms)) return fail("platforms is not an object");
  for (const [id, p] of Object.entries(platforms)) {
    if (!isObject(p)) return fail(`platforms.${id} is not an object`);
    if (typeof p.runtimeHandler !== "string" || !/^contrast-cc-[a-z0-9-]+-[0-9a-f]{8}$/.test(p.runtimeHandler))
      fail(`platforms.${id}.runtimeHandler is not a contrast-cc-<platform>-<hash> name`);
    const hash = p.coordinatorPolicyHash;
    if (typeof hash !== "string" || hash.length !== 64 || !isHex(hash) || hash !== hash.toLowerCase())
      fail(`platforms.${id}.coordinatorPolicyHash is not 32 bytes of lower-case hex`);
    if (p.referenceValues !== undefined && !isObject(p.referenceValues))
      fail(`platforms.${id}.referenceValues is not an object`);
  }
  return value as unknown as Release;
}

/** The release embedded in this build, or undefined in a development build. */
export const EMBEDDED_RELEASE: Release | undefined =
  typeof __CONTRAST_RELEASE__ === "undefined" ? undefined : parseRelease(__CONTRAST_RELEASE__, "embedded release");

/** The embedded release's entry for a platform, if this build has one. */
export function releasePlatform(id: string, release = EMBEDDED_RELEASE): ReleasePlatform | undefined {
  return release === undefined ? undefined : Object.hasOwn(release.platforms, id) ? release.platforms[id] : undefined;
}

/** The embedded release's reference for an image (by its name in images.json), if any. */
export function releaseImage(name: string, release = EMBEDDED_RELEASE): string | undefined {
  return release === undefined ? undefined : Object.hasOwn(release.images, name) ? release.images[name] : undefined;
}
