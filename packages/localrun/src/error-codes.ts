import type { ErrorCodeInfo } from "@contrast/core";

/**
 * Every code the local runtime reports, with what it means, its kind and the usual hint. Programs
 * branch on the code, never on the message; docs/errors.md is generated from this list.
 */
export const LOCALRUN_ERROR_CODES = [
  {
    code: "LOCALRUN_NOT_ROOT",
    kind: "input",
    meaning: "The local runtime needs root, or root in a user namespace, to create namespaces and mounts.",
    hint: "Run as root, or let `contrast demo` re-execute itself in a user namespace (the default without root).",
  },
  {
    code: "LOCALRUN_USERNS_UNAVAILABLE",
    kind: "io",
    meaning: "Unprivileged user namespaces cannot be created on this machine, so the runtime cannot run without root.",
    hint: "Run as root, or enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or user.max_user_namespaces > 0; on Ubuntu also kernel.apparmor_restrict_unprivileged_userns=0).",
  },
  {
    code: "LOCALRUN_TOOL_MISSING",
    kind: "io",
    meaning:
      "A host program the runtime drives (ip, unshare, nsenter, chroot, setpriv, hostname, sleep, sh) is missing.",
    hint: "Install iproute2, util-linux and coreutils.",
  },
  {
    code: "LOCALRUN_COMMAND_FAILED",
    kind: "io",
    meaning: "A host command that sets up namespaces, links or addresses failed.",
    hint: "Read the command's output in the message; run with --log-level debug for every command.",
  },
  {
    code: "LOCALRUN_SUBNET_UNAVAILABLE",
    kind: "io",
    meaning: "No free /24 for the pod network was found, or the requested one collides with a route of the host.",
    hint: "Pass a /24 that no route of this machine covers.",
  },
  {
    code: "LOCALRUN_SANDBOX_FAILED",
    kind: "io",
    meaning: "A pod sandbox (the process holding the pod's network namespace) did not start.",
    hint: "Check that namespaces can be created here (unshare --net true) and read the message.",
  },
  {
    code: "LOCALRUN_POD_EXISTS",
    kind: "input",
    meaning: "A pod with this namespace and name is already running in the local cluster.",
    hint: "Stop the running pod first, or choose another name.",
  },
  {
    code: "LOCALRUN_POD_BLOCKED",
    kind: "policy",
    meaning: "The pod's agent policy denied one of its requests, so the pod cannot reach the awaited condition.",
    hint: "Run `contrast policy check` on the deployed YAML to see why, then regenerate the policy or restore the YAML.",
  },
  {
    code: "LOCALRUN_POD_FAILED",
    kind: "io",
    meaning:
      "A container of the pod terminated for good (restart policy Never or OnFailure after success), so the awaited condition cannot hold.",
    hint: "Read the container's log file under <dir>/pods/<namespace>_<pod>/.",
  },
  {
    code: "LOCALRUN_POD_STOPPED",
    kind: "input",
    meaning: "The pod was stopped (or the cluster closed) while something still waited for it or acted on it.",
    hint: "Start the pod again.",
  },
  {
    code: "LOCALRUN_POD_TIMEOUT",
    kind: "io",
    meaning: "A pod did not reach a condition within the time allowed.",
    hint: "Read the container logs under <dir>/pods/<namespace>_<pod>/; the details list each container's state.",
  },
  {
    code: "LOCALRUN_CONTAINER_UNKNOWN",
    kind: "input",
    meaning: "A container name does not belong to the pod.",
    hint: "Use one of the pod's container names (the message lists them).",
  },
  {
    code: "LOCALRUN_POD_SPEC_INVALID",
    kind: "input",
    meaning:
      "A pod cannot be run as admitted: a volume mount names no volume, a path is not absolute, or a container has no command.",
    hint: "Fix the workload's YAML; every volumeMount needs a volume of the same name and absolute paths.",
  },
  {
    code: "LOCALRUN_CLUSTER_CLOSED",
    kind: "input",
    meaning: "The local cluster was closed; it starts no more pods.",
    hint: "Start a new local cluster.",
  },
  {
    code: "LOCALRUN_IMAGE_NOT_FOUND",
    kind: "input",
    meaning: "An image reference is not in the OCI layout the runtime unpacks images from.",
    hint: "Build the demo images again; the message lists the layout's images.",
  },
  {
    code: "LOCALRUN_IMAGE_LAYER_INVALID",
    kind: "input",
    meaning:
      "An image layer cannot be unpacked: an unsupported media type, a malformed tar, or a path that leaves the root file system.",
    hint: "Rebuild the image; layers must be tar or gzip-compressed tar with clean relative paths.",
  },
] as const satisfies readonly ErrorCodeInfo[];

export type LocalrunErrorCode = (typeof LOCALRUN_ERROR_CODES)[number]["code"];
