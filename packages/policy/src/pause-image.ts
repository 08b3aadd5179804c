import { formatImageReference, type ImageMetadata, parseImageReference } from "@contrast/oci";

/** genpolicy's default `cluster_config.pause_container_image`, as our default settings name it. */
export const DEFAULT_PAUSE_IMAGE = "mcr.microsoft.com/oss/kubernetes/pause:3.6";

/** The digest of the image index (manifest list) that DEFAULT_PAUSE_IMAGE names. */
export const DEFAULT_PAUSE_INDEX_DIGEST = "sha256:b4b669f27933146227c9180398f99d8b3100637e4a0a1ccf804f8b12f4b9b8df";

/**
 * What policy generation needs of the default pause image, built in so that generating policies
 * needs no registry for it (air-gapped use). The values are facts about the published image
 * (linux/amd64), not computed here:
 * - the index digest, as registries report it for `pause:3.6` (also the digest upstream Contrast
 *   pins its mirror `ghcr.io/edgelesssys/kubernetes/pause` to);
 * - its single layer's diff ID and the dm-verity root hash genpolicy computes for it, from a
 *   genpolicy layers cache published with a walkthrough of the tardev snapshotter; the same root
 *   hash, and the layer name sha256("sha256:<diff ID>") = 5a5aad80…, appear in real genpolicy
 *   policies (microsoft/regorus tests/kata/data, testdata/rego/regorus-kata/*\/policy.rego);
 * - the config the agent sees: `/pause` as UID/GID 65535 with the default PATH in `/` (the
 *   pause container's process in those same policies). The image has no /etc/passwd.
 * The platform manifest digest was not available offline; `digest` repeats the index digest.
 * No policy contains the pause image's digest (only its config and layer), so this changes no
 * policy, but pinning the pause image by digest in the settings must use the index digest.
 */
export const BUILTIN_PAUSE_IMAGE: Omit<ImageMetadata, "reference"> = {
  digest: DEFAULT_PAUSE_INDEX_DIGEST,
  indexDigest: DEFAULT_PAUSE_INDEX_DIGEST,
  platform: { os: "linux", architecture: "amd64" },
  config: {
    User: "65535:65535",
    Entrypoint: ["/pause"],
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    WorkingDir: "/",
  },
  layers: [
    {
      diffId: "sha256:9760f55e20e3f4eb6b837e1b323b3c6f29b1ef4a4617fe98625ead879e91b1c1",
      verityHash: "817250f1a3e336da76f5bd3fa784e1b26d959b9c131876815ba2604048b70c18",
    },
  ],
};

/**
 * The built-in metadata when `reference` names the default pause image: its tag, the tag pinned
 * to the index digest, or the repository at that digest. Undefined for any other image, which is
 * then fetched like a workload image.
 */
export function builtinPauseImage(reference: string): ImageMetadata | undefined {
  let ref: ReturnType<typeof parseImageReference>;
  try {
    ref = parseImageReference(reference);
  } catch {
    return undefined;
  }
  const def = parseImageReference(DEFAULT_PAUSE_IMAGE);
  if (ref.registry !== def.registry || ref.repository !== def.repository) return undefined;
  const byTag = ref.digest === undefined && ref.tag === def.tag;
  const byDigest = ref.digest === DEFAULT_PAUSE_INDEX_DIGEST && (ref.tag === undefined || ref.tag === def.tag);
  if (!byTag && !byDigest) return undefined;
  return { reference: formatImageReference(ref), ...BUILTIN_PAUSE_IMAGE };
}
