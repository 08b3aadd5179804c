/**
 * Why a guest-pull storage was denied: the same checks as the default rules' `image_ok`
 * (docs/policy-rules.md), phrased for the user. Only explains; the rules decide.
 */

type Rec = Record<string, unknown>;
export type AddReason = (field: string, message: string, expected?: unknown, actual?: unknown) => void;

const DRIVER = "image_guest_pull";
const PREFIX = `${DRIVER}=`;
const C_TYPE = "io.kubernetes.cri.container-type";
const CRIO_TYPE = "io.kubernetes.cri-o.ContainerType";
const IMAGE = "io.kubernetes.cri.image-name";

function rec(v: unknown): Rec {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Rec) : {};
}
function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}
function q(v: unknown): string {
  return JSON.stringify(v);
}

/** What is wrong with an image reference against the policy's (pinned) reference, if anything. */
function referenceProblem(policyImage: string, ref: string): string | undefined {
  const [pName, pDigest] = policyImage.split("@");
  const parts = ref.split("@");
  if (parts.length === 2) {
    return parts[1] === pDigest
      ? undefined
      : `image digest differs: policy ${pDigest ?? "(none)"}, request ${parts[1]}`;
  }
  if (parts.length > 2) return `image reference ${q(ref)} is malformed`;
  // The policy's name keeps a tag only for an image the pod did not pin.
  if (!/:[^/]+$/.test(pName ?? "")) return `image ${q(ref)} is not pinned; the policy pins ${pDigest ?? "(none)"}`;
  return ref === pName ? undefined : `image ${q(ref)} differs from the policy's ${q(pName)}`;
}

/** The bundle ID as the rules take it: from the request's root path, by the policy's pattern. */
function bundleId(data: Rec, pOci: Rec, iOci: Rec): string | undefined {
  const rootPath = str(rec(data.common).root_path);
  const pattern = str(rec(pOci.Root).Path).replaceAll("$(root_path)", rootPath);
  const [before, after] = pattern.split("$(bundle-id)");
  if (before === undefined || after === undefined) return undefined;
  const path = str(rec(iOci.Root).Path);
  if (!path.startsWith(before) || !path.endsWith(after)) return undefined;
  const id = path.slice(before.length, path.length - after.length);
  return /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(id) ? id : undefined;
}

/** Explains the guest-pull storages of a CreateContainerRequest against policy container `p`. */
export function explainGuestPull(add: AddReason, data: Rec, p: Rec, input: Rec): void {
  const storages = (Array.isArray(input.storages) ? input.storages : []).map(rec);
  const pulls = storages.filter((s) => s.driver === DRIVER);
  const cluster = rec(data.cluster_config);
  if (cluster.guest_pull !== true) {
    for (const s of pulls) add("image", "the policy does not allow pulling images in the guest", undefined, s);
    return;
  }
  if (pulls.length > 1) {
    add(
      "image",
      `${pulls.length} ${DRIVER} storages; the runtime sends one, for the container's root`,
      1,
      pulls.length,
    );
  }
  if (pulls.length === 0 && cluster.guest_pull_required === true) {
    add(
      "image",
      `no ${DRIVER} storage: the policy requires the guest to pull every container's image (cluster_config.guest_pull_required)`,
      DRIVER,
      null,
    );
  }
  const pOci = rec(p.OCI);
  const pAnn = rec(pOci.Annotations);
  const pType = str(pAnn[C_TYPE]);
  const id = bundleId(data, pOci, rec(input.OCI));
  const mountPoint = id === undefined ? undefined : str(rec(data.common).root_path).replaceAll("$(bundle-id)", id);
  for (const s of pulls) {
    if (s.fstype !== "overlay")
      add("image", `${DRIVER} storage: fstype ${q(s.fstype)}, expected "overlay"`, "overlay", s.fstype);
    const options = Array.isArray(s.options) ? s.options : [];
    if (options.length > 0) add("image", `${DRIVER} storage: options ${q(options)} are not allowed`, [], options);
    if (s.fs_group !== null && s.fs_group !== undefined)
      add("image", `${DRIVER} storage: fs_group ${q(s.fs_group)} is not allowed`, null, s.fs_group);
    if (s.shared !== undefined && s.shared !== false)
      add("image", `${DRIVER} storage: shared ${q(s.shared)} is not allowed`, false, s.shared);
    if (mountPoint !== undefined && s.mount_point !== mountPoint) {
      add(
        "image",
        `${DRIVER} storage: mount point ${q(s.mount_point)}, expected the container's root ${q(mountPoint)}`,
        mountPoint,
        s.mount_point,
      );
    }
    const driverOptions = Array.isArray(s.driver_options) ? s.driver_options : [];
    const option = driverOptions[0];
    if (driverOptions.length !== 1 || typeof option !== "string" || !option.startsWith(PREFIX)) {
      add(
        "image",
        `${DRIVER} storage: driver options ${q(driverOptions)}, expected exactly one "${PREFIX}<JSON>"`,
        undefined,
        driverOptions,
      );
      continue;
    }
    let metadata: Rec | undefined;
    try {
      const m = rec(JSON.parse(option.slice(PREFIX.length))).metadata;
      if (m !== null && typeof m === "object" && !Array.isArray(m)) metadata = m as Rec;
    } catch {
      // Reported below.
    }
    if (metadata === undefined) {
      add("image", `${DRIVER} storage: the driver option holds no JSON object with "metadata"`, undefined, option);
      continue;
    }
    const mType = metadata[C_TYPE];
    if (mType !== pType) {
      add(
        "image",
        `${DRIVER} metadata: container type ${q(mType ?? null)}, the policy's is ${q(pType)}`,
        pType,
        mType ?? null,
      );
    }
    const crio = metadata[CRIO_TYPE];
    if (crio !== undefined && crio !== pType) {
      add(
        "image",
        `${DRIVER} metadata: ${CRIO_TYPE} ${q(crio)}, the policy's container type is ${q(pType)}`,
        pType,
        crio,
      );
    }
    if (pType === "sandbox") {
      if (s.source !== "pause") {
        add("image", `${DRIVER} storage: the sandbox's source is ${q(s.source)}, expected "pause"`, "pause", s.source);
      }
      if (Object.hasOwn(metadata, IMAGE)) {
        add("image", `${DRIVER} metadata: the sandbox has an image name ${q(metadata[IMAGE])}`, null, metadata[IMAGE]);
      }
      continue;
    }
    const pImage = str(pAnn[IMAGE]);
    const sourceProblem = referenceProblem(pImage, str(s.source));
    if (sourceProblem !== undefined) add("image", sourceProblem, pImage, s.source);
    const mImage = metadata[IMAGE];
    const metadataProblem =
      typeof mImage === "string" ? referenceProblem(pImage, mImage) : "no image name (io.kubernetes.cri.image-name)";
    if (metadataProblem !== undefined) add("image", `${DRIVER} metadata: ${metadataProblem}`, pImage, mImage ?? null);
  }
}
