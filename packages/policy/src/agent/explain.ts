import { fromBase64, fromUtf8, type JsonValue } from "@contrast/core";
import { explainGuestPull } from "./explain-guest-pull.js";

/**
 * Why a request was denied, in the user's words: which container, which field, what the policy
 * expected and what the request had. Found by comparing the request with the policy_data entry
 * that matches it best, the way the default rules compare them; it explains a denial and never
 * decides one (the agent protocol does).
 */
export interface DenialReason {
  /** The container's name from the policy (pod spec), "pause" for the sandbox container. */
  readonly container?: string;
  /** What differs, e.g. "env", "args", "capabilities.Bounding", "mounts", "root.readonly". */
  readonly field: string;
  readonly expected?: JsonValue;
  readonly actual?: JsonValue;
  /** One line, e.g. `container "server": env LD_PRELOAD=/usr/lib/evil.so is not allowed`. */
  readonly message: string;
}

type Rec = Record<string, unknown>;

const S_NAME = "io.kubernetes.cri.sandbox-name";
const S_NAMESPACE = "io.kubernetes.cri.sandbox-namespace";
const C_NAME = "io.kubernetes.cri.container-name";
const C_TYPE = "io.kubernetes.cri.container-type";
const LOG_DIR = "io.kubernetes.cri.sandbox-log-directory";
const NET_NS = "nerdctl/network-namespace";
const CAP_SETS = ["Ambient", "Bounding", "Effective", "Inheritable", "Permitted"] as const;

function rec(v: unknown): Rec {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Rec) : {};
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function strs(v: unknown): string[] {
  return arr(v).map((x) => String(x));
}
function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}
function q(v: unknown): string {
  return JSON.stringify(v);
}
/** JSON text with object keys sorted, so that equal documents compare equal. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Rec;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}
function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** Go RE2 patterns of the policy as JS regexes; an unparsable one matches nothing. */
function matches(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return false;
  }
}

/** A declared exec command: an argv (our policies) or one space-joined string (Kata's older ones). */
function commandMatches(declared: unknown, args: readonly string[]): boolean {
  return typeof declared === "string" ? declared === args.join(" ") : same(strs(declared), args);
}
function commandText(declared: unknown): string {
  return q(typeof declared === "string" ? declared : strs(declared).join(" "));
}

class Collector {
  readonly reasons: DenialReason[] = [];
  constructor(readonly container: string | undefined) {}
  add(field: string, message: string, expected?: unknown, actual?: unknown): void {
    const prefix =
      this.container === undefined
        ? ""
        : this.container === "pause"
          ? "pause container: "
          : `container ${q(this.container)}: `;
    this.reasons.push({
      ...(this.container === undefined ? {} : { container: this.container }),
      field,
      ...(expected === undefined ? {} : { expected: expected as JsonValue }),
      ...(actual === undefined ? {} : { actual: actual as JsonValue }),
      message: `${prefix}${message}`,
    });
  }
}

/** The name the user gave a policy container: its container name, or "pause". */
function containerLabel(p: Rec): string {
  const a = rec(rec(p.OCI).Annotations);
  return a[C_TYPE] === "sandbox" ? "pause" : str(a[C_NAME]);
}

/**
 * Explains a denied request against the policy's data (`data.agent_policy.policy_data`) and the
 * agent's state before the request. Returns at least one reason.
 */
export function explainDenial(
  policyData: unknown,
  request: string,
  input: unknown,
  state: unknown = {},
): DenialReason[] {
  const data = rec(policyData);
  const pstate = rec(rec(state).pstate);
  let reasons: DenialReason[];
  switch (request) {
    case "CreateContainerRequest":
      reasons = explainCreate(data, rec(input), pstate);
      break;
    case "ExecProcessRequest":
      reasons = explainExec(data, rec(input), pstate);
      break;
    case "CreateSandboxRequest":
      reasons = explainSandbox(data, rec(input));
      break;
    default:
      reasons = explainByDefaults(data, request);
  }
  if (reasons.length === 0) {
    reasons = [
      {
        field: "request",
        message: `${request} is denied by the policy; no single field explains it (see the policy trace with --log-level debug)`,
      },
    ];
  }
  return reasons;
}

/**
 * Requests the settings switch on or off as a whole (`request_defaults.<Request>`): a platform
 * whose settings leave one out, or set it false, denies every such request.
 */
function explainByDefaults(data: Rec, request: string): DenialReason[] {
  const defaults = rec(data.request_defaults);
  if (!SWITCHED_REQUESTS.has(request)) return [];
  const value = defaults[request];
  // Absent counts only where the rules need the entry to allow anything (the ARP rule reads its
  // limits from it); Kata's older policies leave the boolean ones out and allow them by default.
  if (value === undefined ? request !== "AddARPNeighborsRequest" : value !== false) return [];
  return [
    {
      field: `request_defaults.${request}`,
      message: `${request} is not allowed: the policy's settings ${value === false ? `set request_defaults.${request} to false` : `have no request_defaults.${request}`}`,
      expected: true,
      actual: value === undefined ? null : (value as JsonValue),
    },
  ];
}

const SWITCHED_REQUESTS = new Set([
  "AddARPNeighborsRequest",
  "CloseStdinRequest",
  "GetDiagnosticDataRequest",
  "ReadStreamRequest",
  "UpdateEphemeralMountsRequest",
  "WriteStreamRequest",
]);

function explainSandbox(data: Rec, input: Rec): DenialReason[] {
  const c = new Collector("pause");
  const hooks = strs(rec(data.sandbox).allowed_guest_hooks);
  if (str(input.guest_hook_path) !== "" && !hooks.includes(str(input.guest_hook_path)))
    c.add("guest_hook_path", `guest hook path ${q(input.guest_hook_path)} is not allowed`, "", input.guest_hook_path);
  if (arr(input.kernel_modules).length > 0)
    c.add("kernel_modules", `kernel modules ${q(input.kernel_modules)} are not allowed`, [], input.kernel_modules);
  if (input.sandbox_pidns === true)
    c.add("sandbox_pidns", "a shared sandbox PID namespace is not allowed", false, true);
  const listed = rec(data.sandbox).storages;
  const allowed = arr(listed).map(rec);
  // Older policies (before Kata listed sandbox storages) do not check them.
  for (const s of listed === undefined ? [] : arr(input.storages).map(rec)) {
    const ok = allowed.some((p) =>
      ["driver", "source", "fstype", "mount_point", "options"].every((k) => same(p[k], s[k])),
    );
    if (!ok)
      c.add(
        "storages",
        `sandbox storage ${q(s.mount_point)} (${str(s.driver)} from ${q(s.source)}) is not allowed`,
        allowed as JsonValue,
        s,
      );
  }
  return c.reasons;
}

function explainExec(data: Rec, input: Rec, pstate: Rec): DenialReason[] {
  const id = str(input.container_id);
  const index = pstate[id];
  const containers = arr(data.containers).map(rec);
  const p = typeof index === "number" ? containers[index] : undefined;
  if (p === undefined && Object.keys(pstate).length === 0) {
    // Rules that keep no state (Kata's older ones) match exec commands against every container.
    const c = new Collector(undefined);
    const args = strs(rec(input.process).Args);
    const declared = containers.flatMap((x) => arr(x.exec_commands));
    const defaults = rec(rec(data.request_defaults).ExecProcessRequest);
    const ok =
      declared.some((d) => commandMatches(d, args)) ||
      arr(defaults.allowed_commands).some((d) => commandMatches(d, args)) ||
      strs(defaults.commands).includes(args.join(" ")) ||
      strs(defaults.regex).some((r) => matches(r, args.join(" ")));
    if (!ok) {
      const list = declared.length === 0 ? "none" : declared.map(commandText).join(", ");
      c.add(
        "exec",
        `exec of ${q(args.join(" "))} is not allowed (declared commands: ${list})`,
        declared as JsonValue,
        args,
      );
    }
    return c.reasons;
  }
  if (p === undefined) {
    const c = new Collector(undefined);
    c.add(
      "container_id",
      `exec into container ${id.slice(0, 12)}… which this sandbox did not create (or has removed)`,
      undefined,
      id,
    );
    return c.reasons;
  }
  const c = new Collector(containerLabel(p));
  const process = rec(input.process);
  const args = strs(process.Args);
  const declared = arr(p.exec_commands);
  const defaults = rec(rec(data.request_defaults).ExecProcessRequest);
  const allowedCommands = arr(defaults.allowed_commands).map(strs);
  const regexes = strs(defaults.regex);
  const commandOk =
    declared.some((d) => commandMatches(d, args)) ||
    allowedCommands.some((d) => commandMatches(d, args)) ||
    regexes.some((r) => matches(r, args.join(" ")));
  if (!commandOk) {
    const list = declared.length === 0 ? "none" : declared.map(commandText).join(", ");
    c.add(
      "exec",
      `exec of ${q(args.join(" "))} is not allowed (declared commands: ${list})`,
      declared as JsonValue,
      args,
    );
  }
  if (input.string_user !== null && input.string_user !== undefined)
    c.add("string_user", "a string user is not allowed", null, input.string_user);
  if (process.Capabilities !== null && process.Capabilities !== undefined) {
    c.add("capabilities", "an exec'd process may not ask for capabilities", null, process.Capabilities);
  }
  const pp = rec(rec(p.OCI).Process);
  if (declared.some((d) => commandMatches(d, args)) && pp.Terminal !== process.Terminal) {
    c.add(
      "terminal",
      `terminal: policy ${q(pp.Terminal)}, request ${q(process.Terminal)}`,
      pp.Terminal,
      process.Terminal,
    );
  }
  processCommon(c, data, pp, process, str(pstate.sandbox_name), str(pstate.namespace));
  return c.reasons;
}

function explainCreate(data: Rec, input: Rec, pstate: Rec): DenialReason[] {
  const oci = rec(input.OCI);
  const ann = rec(oci.Annotations);
  const containers = arr(data.containers).map(rec);
  const isSandbox = ann[C_TYPE] === "sandbox";
  const name = str(ann[C_NAME]);
  let candidates = containers.filter((p) => (containerLabel(p) === "pause") === isSandbox);
  const pre: DenialReason[] = [];
  if (!isSandbox) {
    const named = candidates.filter((p) => containerLabel(p) === name);
    if (named.length === 0) {
      const known = candidates.map((p) => q(containerLabel(p))).join(", ") || "none";
      pre.push({
        container: name,
        field: "container-name",
        expected: candidates.map(containerLabel),
        actual: name,
        message: `container ${q(name)} is not in the policy (its containers: ${known})`,
      });
    } else candidates = named;
  }
  if (candidates.length === 0) return pre;
  let best: DenialReason[] | undefined;
  for (const p of candidates) {
    const c = new Collector(pre.length > 0 ? name : containerLabel(p));
    diffContainer(c, data, p, containers.indexOf(p), input, pstate);
    if (best === undefined || c.reasons.length < best.length) best = c.reasons;
  }
  return [...pre, ...(pre.length > 0 ? [] : (best ?? []))];
}

function expandCaps(data: Rec, caps: string[]): string[] {
  const common = rec(data.common);
  if (caps.length === 1 && caps[0] === "$(default_caps)") return strs(common.default_caps);
  if (caps.length === 1 && caps[0] === "$(privileged_caps)") return strs(common.privileged_caps);
  return caps;
}

function expandCommon(data: Rec, s: string): string {
  const common = rec(data.common);
  return s
    .replaceAll("$(sfprefix)", str(common.sfprefix))
    .replaceAll("$(cpath)", str(common.cpath))
    .replaceAll("$(spath)", str(common.spath))
    .replaceAll("$(root_path)", str(common.root_path))
    .replaceAll("$(bundle-id)", "[a-zA-Z0-9][a-zA-Z0-9_.-]*")
    .replaceAll("$(sandbox-id)", "[a-z0-9]{64}")
    .replaceAll("$(b64_device_id)", "[A-Za-z0-9_=-]+");
}

function diffContainer(c: Collector, data: Rec, p: Rec, index: number, input: Rec, pstate: Rec): void {
  const oci = rec(input.OCI);
  const ann = rec(oci.Annotations);
  const pOci = rec(p.OCI);
  const pAnn = rec(pOci.Annotations);
  const sName = str(ann[S_NAME]);
  const ns = str(ann[S_NAMESPACE]);

  // Sandbox identity: the policy's name regex and namespace, and what the sandbox recorded.
  const pName = pAnn[S_NAME];
  if (typeof pName === "string" && !matches(pName, sName)) {
    c.add("sandbox-name", `sandbox name ${q(sName)} does not match the policy's ${q(pName)}`, pName, sName);
  }
  if (typeof pstate.sandbox_name === "string" && pstate.sandbox_name !== sName) {
    c.add(
      "sandbox-name",
      `sandbox name ${q(sName)} differs from ${q(pstate.sandbox_name)}, the sandbox's name`,
      pstate.sandbox_name,
      sName,
    );
  }
  const pNs = str(pAnn[S_NAMESPACE]);
  if (pNs !== "" && pNs !== ns) c.add("namespace", `namespace ${q(ns)} differs from the policy's ${q(pNs)}`, pNs, ns);
  if (typeof pstate.namespace === "string" && pstate.namespace !== ns) {
    c.add(
      "namespace",
      `namespace ${q(ns)} differs from ${q(pstate.namespace)}, the sandbox's namespace`,
      pstate.namespace,
      ns,
    );
  }
  const netns = arr(rec(oci.Linux).Namespaces)
    .map(rec)
    .filter((x) => x.Type === "network")
    .map((x) => str(x.Path));
  const netnsPath = netns.length === 1 ? (netns[0] as string) : "";
  if (typeof pstate.network_namespace === "string" && pstate.network_namespace !== netnsPath) {
    c.add(
      "network-namespace",
      `network namespace ${q(netnsPath)} differs from ${q(pstate.network_namespace)}, the sandbox's`,
      pstate.network_namespace,
      netnsPath,
    );
  }
  if (ann[C_TYPE] === "sandbox") {
    // The pause container's log directory embeds the sandbox's name and namespace: the rules put
    // them into the policy's pattern, so a name the pattern cannot hold fails here.
    const pLog = pAnn[LOG_DIR];
    const iLog = str(ann[LOG_DIR]);
    if (typeof pLog === "string") {
      const want = pLog.replaceAll("$(sandbox-name)", sName).replaceAll("$(sandbox-namespace)", ns);
      if (!matches(want, iLog)) {
        c.add(
          "sandbox-log-directory",
          `log directory ${q(iLog)} does not match the policy's ${q(pLog)} for sandbox ${q(sName)} in ${q(ns)}`,
          pLog,
          iLog,
        );
      }
    }
    const pNet = pAnn[NET_NS];
    const iNet = ann[NET_NS];
    if (typeof iNet === "string" && !(typeof pNet === "string" && matches(pNet, iNet))) {
      c.add("network-namespace", `network namespace annotation ${q(iNet)} is not allowed`, pNet, iNet);
    }
  }
  const recorded = pstate[str(input.container_id)];
  if (typeof recorded === "number" && recorded !== index) {
    c.add(
      "container_id",
      `container ID ${str(input.container_id).slice(0, 12)}… is already used by another container`,
      undefined,
      input.container_id,
    );
  }

  // Fields the default rules require to be empty.
  const linux = rec(oci.Linux);
  const empties: [string, unknown][] = [
    ["shared_mounts", arr(input.shared_mounts).length === 0 ? null : input.shared_mounts],
    ["string_user", input.string_user],
    ["OCI.Hooks", oci.Hooks],
    ["OCI.Linux.Seccomp", linux.Seccomp],
    ["OCI.Linux.IntelRdt", linux.IntelRdt],
    ["OCI.Linux.UIDMappings", arr(linux.UIDMappings).length === 0 ? null : linux.UIDMappings],
    ["OCI.Linux.GIDMappings", arr(linux.GIDMappings).length === 0 ? null : linux.GIDMappings],
  ];
  for (const [field, v] of empties)
    if (v !== null && v !== undefined) c.add(field, `${field} must be empty, the request sets ${q(v)}`, null, v);
  if (str(linux.MountLabel) !== "")
    c.add("OCI.Linux.MountLabel", `mount label ${q(linux.MountLabel)} is not allowed`, "", linux.MountLabel);
  if (str(linux.RootfsPropagation) !== "" && rec(data.cluster_config).check_rootfs_propagation !== false)
    c.add(
      "OCI.Linux.RootfsPropagation",
      `rootfs propagation ${q(linux.RootfsPropagation)} is not allowed`,
      "",
      linux.RootfsPropagation,
    );

  if (p.sandbox_pidns !== input.sandbox_pidns) {
    c.add(
      "sandbox_pidns",
      `shared PID namespace: policy ${q(p.sandbox_pidns)}, request ${q(input.sandbox_pidns)}`,
      p.sandbox_pidns,
      input.sandbox_pidns,
    );
  }
  if (pOci.Version !== oci.Version && rec(data.cluster_config).check_oci_version !== false)
    c.add("version", `OCI version: policy ${q(pOci.Version)}, request ${q(oci.Version)}`, pOci.Version, oci.Version);
  const pRoot = rec(pOci.Root);
  const iRoot = rec(oci.Root);
  if (pRoot.Readonly !== iRoot.Readonly) {
    const word = (b: unknown) => (b === true ? "read-only" : "writable");
    c.add(
      "root.readonly",
      `root filesystem is ${word(iRoot.Readonly)}, the policy has it ${word(pRoot.Readonly)}`,
      pRoot.Readonly,
      iRoot.Readonly,
    );
  }

  // The root: where this platform's runtime puts it (the settings' root_path).
  const rootTemplate = str(pRoot.Path).replaceAll("$(root_path)", str(rec(data.common).root_path));
  // Only templates our rules expand ($(root_path), $(bundle-id)); Kata's own policies write $(cpath).
  const literal = rootTemplate.replaceAll("$(bundle-id)", "").includes("$(") === false;
  if (rootTemplate !== "" && literal && typeof iRoot.Path === "string") {
    const [before = "", after = ""] = rootTemplate.split("$(bundle-id)");
    const path = iRoot.Path;
    const fits = path.startsWith(before) && path.endsWith(after) && path.length > before.length + after.length;
    if (!fits) c.add("root.path", `root path ${q(path)} is not the policy's ${q(rootTemplate)}`, rootTemplate, path);
  }

  // Annotations the runtime may not add.
  const patterns = Object.entries(rec(p.runtime_anno_patterns));
  for (const [k, v] of Object.entries(ann)) {
    if (k.startsWith("io.kubernetes.cri.") || Object.hasOwn(pAnn, k)) continue;
    if (patterns.some(([kr, vr]) => matches(kr, k) && matches(String(vr), String(v)))) continue;
    c.add("annotations", `annotation ${k}=${q(v)} is not allowed`, undefined, { [k]: v } as JsonValue);
  }

  // The process.
  const pp = rec(pOci.Process);
  const ip = rec(oci.Process);
  if (pp.Terminal !== ip.Terminal)
    c.add("terminal", `terminal: policy ${q(pp.Terminal)}, request ${q(ip.Terminal)}`, pp.Terminal, ip.Terminal);
  const pArgs = strs(pp.Args).map((a) => a.replaceAll("$$", "$").replaceAll("$(sandbox-name)", sName));
  const iArgs = strs(ip.Args);
  const n = Math.min(pArgs.length, iArgs.length);
  let argDiff = false;
  for (let i = 0; i < n; i++) {
    if (pArgs[i] !== iArgs[i]) {
      c.add("args", `args differ at index ${i}: policy ${q(pArgs[i])}, request ${q(iArgs[i])}`, pArgs, iArgs);
      argDiff = true;
      break;
    }
  }
  if (!argDiff && iArgs.length > pArgs.length) {
    c.add(
      "args",
      `extra arg at index ${pArgs.length}: ${q(iArgs[pArgs.length])} (the policy has ${pArgs.length} args)`,
      pArgs,
      iArgs,
    );
  } else if (!argDiff && iArgs.length < pArgs.length) {
    c.add("args", `missing arg at index ${iArgs.length}: policy ${q(pArgs[iArgs.length])}`, pArgs, iArgs);
  }
  processCommon(c, data, pp, ip, sName, ns);
  const pCaps = rec(pp.Capabilities);
  const iCaps = ip.Capabilities;
  if (iCaps === null || iCaps === undefined) c.add("capabilities", "the request has no capabilities", pCaps, null);
  else {
    for (const set of CAP_SETS) {
      const want = new Set(expandCaps(data, strs(pCaps[set])));
      const literal = new Set(strs(pCaps[set]));
      const have = new Set(strs(rec(iCaps)[set]));
      const eq = (a: Set<string>) => a.size === have.size && [...a].every((x) => have.has(x));
      if (eq(want) || eq(literal)) continue;
      const extra = [...have].filter((x) => !want.has(x));
      const missing = [...want].filter((x) => !have.has(x));
      const parts = [
        ...(extra.length > 0 ? [`${extra.join(", ")} not allowed`] : []),
        ...(missing.length > 0 ? [`${missing.join(", ")} missing`] : []),
      ];
      c.add(`capabilities.${set}`, `capabilities (${set}): ${parts.join("; ")}`, [...want], [...have]);
    }
  }

  // Mounts.
  const pMounts = arr(pOci.Mounts).map(rec);
  const iMounts = arr(oci.Mounts).map(rec);
  const seen = new Set<string>();
  for (const m of iMounts) {
    const dest = str(m.destination);
    if (seen.has(dest)) c.add("mounts", `mount ${dest} appears twice`, undefined, m);
    seen.add(dest);
    const candidates = pMounts.filter((x) => x.destination === dest);
    if (candidates.length === 0) {
      c.add("mounts", `extra mount ${dest} (${str(m.type_)} from ${q(m.source)}) is not allowed`, undefined, m);
      continue;
    }
    const pm = candidates[0] as Rec;
    if (pm.type_ !== m.type_) c.add("mounts", `mount ${dest}: type ${q(m.type_)}, policy ${q(pm.type_)}`, pm, m);
    const po = strs(pm.options);
    const io = strs(m.options);
    // The cgroup mount may carry the extras the settings list (cluster_config.cgroup_mount_extras_allowed).
    const extras = strs(rec(data.cluster_config).cgroup_mount_extras_allowed);
    const cgroupOk =
      pm.type_ === "cgroup" && po.every((o) => io.includes(o)) && io.every((o) => po.includes(o) || extras.includes(o));
    const sysfsRo =
      pm.type_ === "sysfs" &&
      rec(data.cluster_config).privileged_sysfs_ro_or_rw === true &&
      po.length === io.length &&
      io.every((o, n) => o === po[n] || (o === "ro" && po[n] === "rw"));
    if (!same(po, io) && !sysfsRo && !cgroupOk) {
      if (io.includes("rw") && po.includes("ro"))
        c.add("mounts", `mount ${dest} is writable ("rw"), the policy has it read-only`, po, io);
      else c.add("mounts", `mount ${dest}: options ${q(io.join(","))}, policy ${q(po.join(","))}`, po, io);
    }
    const ps = str(pm.source);
    const is = str(m.source);
    const regex = ps.startsWith("^") || ps.startsWith("$(");
    if (!(ps === is || (regex && matches(expandCommon(data, ps), is)) || ps.includes("$(b64_device_id)"))) {
      c.add("mounts", `mount ${dest}: source ${q(is)}, policy ${q(ps)}`, ps, is);
    }
  }

  // Storages: the image and its layers.
  const storages = arr(input.storages).map(rec);
  const pStorages = arr(p.storages).map(rec);
  explainGuestPull((...a) => c.add(...a), data, p, input);
  const layers = (list: Rec[]) =>
    list.filter((s) => s.fstype === "tar").map((s) => strs(s.options).find((o) => o.includes("root-hash=")) ?? "");
  const pLayers = layers(pStorages);
  const iLayers = layers(storages);
  if (!same(pLayers, iLayers)) {
    const missing = pLayers.filter((h) => !iLayers.includes(h)).map((h) => h.replace(/.*root-hash=/, ""));
    const extra = iLayers.filter((h) => !pLayers.includes(h)).map((h) => h.replace(/.*root-hash=/, ""));
    c.add(
      "image",
      `image layers differ: ${extra.length} layer root hash(es) not in the policy${extra.length > 0 ? ` (${extra[0]}…)` : ""}, ${missing.length} missing`,
      pLayers,
      iLayers,
    );
  }
  explainOverlay(c, data, pStorages, storages);
  const image = (s: Rec) => s.fstype === "tar" || s.driver === "overlayfs";
  const nonImage = storages.filter((s) => s.driver !== "image_guest_pull" && !image(s));
  const pNonImage = pStorages.filter((s) => !image(s));
  if (nonImage.length !== pNonImage.length) {
    c.add(
      "storages",
      `volume storages: policy ${pNonImage.length}, request ${nonImage.length}`,
      pNonImage as JsonValue,
      nonImage as JsonValue,
    );
  }

  // Linux: namespaces, masked and read-only paths, sysctls, devices.
  const pLinux = rec(pOci.Linux);
  const iNs = arr(linux.Namespaces)
    .map(rec)
    .filter((x) => x.Type !== "network");
  if (!same(pLinux.Namespaces, iNs))
    c.add(
      "namespaces",
      `Linux namespaces differ: policy ${q(pLinux.Namespaces)}, request ${q(iNs)}`,
      pLinux.Namespaces,
      iNs,
    );
  const masked = strs(linux.MaskedPaths);
  const readonly = strs(linux.ReadonlyPaths);
  for (const path of strs(pLinux.MaskedPaths))
    if (!masked.includes(path)) c.add("masked_paths", `${path} is not masked`, path, masked);
  for (const path of strs(pLinux.ReadonlyPaths)) {
    if (!readonly.includes(path) && !masked.includes(path))
      c.add("readonly_paths", `${path} is not read-only`, path, readonly);
  }
  const pSysctl = rec(pLinux.Sysctl);
  for (const [k, v] of Object.entries(rec(linux.Sysctl))) {
    if (pSysctl[k] !== v)
      c.add(
        "sysctl",
        `sysctl ${k}=${String(v)} is not allowed${k in pSysctl ? ` (policy: ${String(pSysctl[k])})` : ""}`,
        pSysctl[k] ?? null,
        v,
      );
  }
  const pDevices = arr(p.devices).map(rec);
  const vfioPath = str(rec(rec(data.devices).vfio).device_path);
  if (vfioPath !== "") {
    const gpus = pDevices.filter((d) => d.container_path === vfioPath).length;
    const cdi = Object.keys(ann).filter((k) => k.startsWith("cdi.k8s.io/vfio")).length;
    if (gpus !== cdi) c.add("devices", `GPUs: the policy has ${gpus}, the request ${cdi} CDI annotation(s)`, gpus, cdi);
  }
  for (const d of arr(input.devices).map(rec)) {
    if (vfioPath !== "" && str(d.container_path).startsWith(vfioPath)) continue; // GPUs: counted above
    if (!pDevices.some((x) => x.container_path === d.container_path))
      c.add("devices", `device ${str(d.container_path)} is not allowed`, undefined, d);
  }
}

function envAllowed(data: Rec, pEnv: string[], v: string, sName: string, ns: string): boolean {
  if (pEnv.includes(v)) return true;
  const substituted = (p: string) => p.replaceAll("$(sandbox-name)", sName).replaceAll("$(sandbox-namespace)", ns);
  if (pEnv.some((p) => p.includes("$(sandbox-") && substituted(p) === v)) return true;
  const at = v.indexOf("=");
  const name = at > 0 ? v.slice(0, at) : v;
  const value = at > 0 ? v.slice(at + 1) : "";
  const common = rec(data.common);
  const ipv4 = `^${str(common.ipv4_a)}$`;
  for (const p of pEnv) {
    const pa = p.indexOf("=");
    if (pa <= 0 || p.slice(0, pa) !== name) continue;
    const pv = p.slice(pa + 1);
    if (pv === "$(sandbox-name)" && value === sName) return true;
    if (pv === "$(sandbox-namespace)" && value === ns) return true;
    if ((pv === "$(pod-ip)" || pv === "$(host-ip)") && matches(ipv4, value)) return true;
    if (["$(host-name)", "$(node-name)", "$(pod-uid)", "$(resource-field)", "$(todo-annotation)"].includes(pv))
      return true;
  }
  const regexes = strs(rec(rec(data.request_defaults).CreateContainerRequest).allow_env_regex);
  return regexes.some((r) =>
    matches(
      r
        .replaceAll("$(ipv4_a)", str(common.ipv4_a))
        .replaceAll("$(ip_p)", str(common.ip_p))
        .replaceAll("$(svc_name_downward_env)", str(common.svc_name_downward_env))
        .replaceAll("$(svc_name)", str(common.svc_name))
        .replaceAll("$(dns_label)", str(common.dns_label)),
      v,
    ),
  );
}

function processCommon(c: Collector, data: Rec, pp: Rec, ip: Rec, sName: string, ns: string): void {
  if (pp.Cwd !== ip.Cwd) c.add("cwd", `working directory ${q(ip.Cwd)}, policy ${q(pp.Cwd)}`, pp.Cwd, ip.Cwd);
  if (pp.NoNewPrivileges !== ip.NoNewPrivileges) {
    c.add(
      "no_new_privileges",
      `NoNewPrivileges: policy ${q(pp.NoNewPrivileges)}, request ${q(ip.NoNewPrivileges)}`,
      pp.NoNewPrivileges,
      ip.NoNewPrivileges,
    );
  }
  const pu = rec(pp.User);
  const iu = rec(ip.User);
  if (pu.UID !== iu.UID) c.add("user.uid", `UID ${q(iu.UID)}, policy ${q(pu.UID)}`, pu.UID, iu.UID);
  if (pu.GID !== iu.GID) c.add("user.gid", `GID ${q(iu.GID)}, policy ${q(pu.GID)}`, pu.GID, iu.GID);
  const pg = new Set(arr(pu.AdditionalGids));
  const ig = new Set(arr(iu.AdditionalGids));
  if (pu.AdditionalGids !== undefined && (pg.size !== ig.size || [...pg].some((g) => !ig.has(g)))) {
    c.add(
      "user.additional_gids",
      `additional GIDs ${q([...ig])}, policy ${q([...pg])}`,
      [...pg] as JsonValue,
      [...ig] as JsonValue,
    );
  }
  if (str(iu.Username) !== "") c.add("user.username", `user name ${q(iu.Username)} is not allowed`, "", iu.Username);
  const pEnv = strs(pp.Env);
  for (const v of strs(ip.Env)) {
    if (envAllowed(data, pEnv, v, sName, ns)) continue;
    const name = v.slice(0, Math.max(0, v.indexOf("=")));
    const policyValue = pEnv.find((p) => p.startsWith(`${name}=`));
    c.add(
      "env",
      policyValue === undefined
        ? `env ${v} is not allowed`
        : `env ${name}: policy ${q(policyValue.slice(name.length + 1))}, request ${q(v.slice(name.length + 1))}`,
      policyValue ?? null,
      v,
    );
  }
}

const PREFIX_OPTION = "io.katacontainers.fs-opt.layer-src-prefix=";

/**
 * The overlay of host-pulled layers: its fstype, the snapshotter directory it names first (a
 * literal, or a regex of the settings where each runtime version has its own directory), and
 * the layer options that follow.
 */
function explainOverlay(c: Collector, data: Rec, pStorages: readonly Rec[], storages: readonly Rec[]): void {
  const p = pStorages.find((s) => s.driver === "overlayfs");
  const i = storages.find((s) => s.driver === "overlayfs");
  if (p === undefined || i === undefined) return;
  const pOpts = strs(p.options);
  const iOpts = strs(i.options);
  const pFirst = pOpts[0] ?? "";
  const iFirst = iOpts[0] ?? "";
  // Kata's and Microsoft's own policies keep "<layer ids>", "<root hashes>" here instead, and
  // their rules do not compare the fstype.
  if (!pFirst.startsWith(PREFIX_OPTION)) return;
  if (p.fstype !== i.fstype)
    c.add("image", `layer overlay: fstype ${q(i.fstype)}, policy ${q(p.fstype)}`, p.fstype ?? null, i.fstype ?? null);
  if (pFirst.endsWith("$(layer_src_prefix)")) {
    const regex = str(rec(rec(data.common).tardev).layer_src_prefix);
    const dir = iFirst.startsWith(PREFIX_OPTION) ? iFirst.slice(PREFIX_OPTION.length) : undefined;
    if (dir === undefined || !matches(regex, dir)) {
      c.add(
        "image",
        `layer overlay: snapshotter directory ${q(dir ?? iFirst)} does not match the policy's ${q(regex)}`,
        regex,
        iFirst,
      );
    }
  } else if (pFirst !== iFirst) {
    c.add("image", `layer overlay: ${q(iFirst)}, policy ${q(pFirst)}`, pFirst, iFirst);
  }
  const rest = (o: readonly string[]) => o.slice(1);
  if (!same(rest(pOpts), rest(iOpts))) {
    const at = rest(iOpts).findIndex((o, n) => o !== rest(pOpts)[n]);
    const where = at < 0 ? rest(pOpts).length : at;
    c.add(
      "image",
      `layer overlay: option ${where + 1} ${q(layerText(iOpts[where + 1]))} differs from the policy's ${q(layerText(pOpts[where + 1]))}`,
      pOpts,
      iOpts,
    );
  }
}

/** A layer option as the user can read it: base64-encoded layer descriptions are decoded. */
function layerText(option: string | undefined): string {
  if (option === undefined) return "(none)";
  const key = "io.katacontainers.fs-opt.layer=";
  if (!option.startsWith(key)) return option;
  const value = option.slice(key.length);
  if (!/^[A-Za-z0-9+/]+=*$/.test(value) || value.length % 4 !== 0) return option;
  let decoded: string;
  try {
    decoded = fromUtf8(fromBase64(value));
  } catch {
    // Not text: the request's bytes are shown as they came.
    return option;
  }
  return /^[\x20-\x7e]+$/.test(decoded) ? `${key}base64(${decoded})` : option;
}
