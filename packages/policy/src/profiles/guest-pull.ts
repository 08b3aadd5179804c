import type { JsonPatchOperation } from "../settings/json-patch.js";
import type { ProfileFact } from "./types.js";

/**
 * Guest pull on Contrast's QEMU platforms (docs/platform-profiles.md, "Guest-pull storages"): the
 * node runs the nydus snapshotter in guest-pulling mode, so the guest pulls every image itself,
 * and Contrast's rules accept a container only with its guest-pull storage.
 */
export const GUEST_PULL_FACTS: readonly ProfileFact[] = [
  {
    id: "guest-pull-required",
    summary:
      "images are pulled in the guest (nydus snapshotter, guest pulling) and every container, the sandbox's too, must come with its image_guest_pull storage: Contrast's allow_storages has no other path for a policy without layer storages, where stock Kata lets a container without one through",
    source:
      "edgelesssys/contrast packages/by-name/kata/kata-runtime (Kata 3.13.0 patch set of Contrast v1.5)/0009-genpolicy-allow-image_guest_pull.patch (rules hunk as in 0008-… @ d33269bae3cbc3d0fae490c7627b848d973f0f6c); runtime-<platform>.yml: nydus-snapshotter --config=config-coco-guest-pulling.toml",
  },
];

export const GUEST_PULL_SETTINGS_PATCH: readonly JsonPatchOperation[] = [
  { op: "add", path: "/cluster_config/guest_pull", value: true },
  { op: "add", path: "/cluster_config/guest_pull_required", value: true },
];
