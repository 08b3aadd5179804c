# Default agent policy rules of contrast-ts (@contrast/policy).
#
# The Kata agent asks this policy about every request it receives from the host: the request's
# name is a rule of package agent_policy, the request itself is `input`, and the generated
# `policy_data` (appended to this text) describes what the pod may do. `data.pstate` is the
# agent's per-sandbox state; a rule that returns {"ops": [...], "allowed": true} asks the agent
# to apply those JSON-Patch operations to it.
#
# Written for contrast-ts; the rule-by-rule documentation is docs/policy-rules.md. The
# policy_data schema is Kata genpolicy's, so Kata's own rules.rego works with the same data.
package agent_policy

import future.keywords.every
import future.keywords.if
import future.keywords.in

# Requests without a rule below are denied.
default AddARPNeighborsRequest := false
default AddSwapRequest := false
default CloseStdinRequest := false
default CopyFileRequest := false
default CreateContainerRequest := false
default CreateSandboxRequest := false
default ExecProcessRequest := false
default GetDiagnosticDataRequest := false
default ListInterfacesRequest := false
default ListRoutesRequest := false
default MemHotplugByProbeRequest := false
default PauseContainerRequest := false
default ReadStreamRequest := false
default RemoveContainerRequest := false
default ReseedRandomDevRequest := false
default ResumeContainerRequest := false
default SetGuestDateTimeRequest := false
default SetPolicyRequest := false
default StartTracingRequest := false
default StopTracingRequest := false
default UpdateContainerRequest := false
default UpdateEphemeralMountsRequest := false
default UpdateInterfaceRequest := false
default UpdateRoutesRequest := false
default WriteStreamRequest := false

# Requests that carry nothing the host could abuse: the host controls the VM's life anyway.
default DestroySandboxRequest := true
default GetOOMEventRequest := true
default GuestDetailsRequest := true
default OnlineCPUMemRequest := true
default RemoveStaleVirtiofsShareMountsRequest := true
default SignalProcessRequest := true
default StartContainerRequest := true
default StatsContainerRequest := true
default TtyWinResizeRequest := true
default WaitProcessRequest := true

# Never allow requests that fail the policy (the agent's debug switch).
default AllowRequestsFailingPolicy := false

S_NAME := "io.kubernetes.cri.sandbox-name"
S_NAMESPACE := "io.kubernetes.cri.sandbox-namespace"
C_NAME := "io.kubernetes.cri.container-name"
C_TYPE := "io.kubernetes.cri.container-type"
K_TYPE := "io.katacontainers.pkg.oci.container_type"
NET_NS := "nerdctl/network-namespace"
LOG_DIR := "io.kubernetes.cri.sandbox-log-directory"
IMAGE := "io.kubernetes.cri.image-name"
CRIO_TYPE := "io.kubernetes.cri-o.ContainerType"

######################################################################
# State kept by the agent between requests (data.pstate).

default pstate := {}

pstate := data.pstate

# Records key := value on first use; later requests must agree with the recorded value.
state_op(key, value) := {"op": "add", "path": concat("/", ["/pstate", key]), "value": value} if {
	not has_key(pstate, key)
}

state_op(key, value) := null if {
	has_key(pstate, key)
	pstate[key] == value
}

has_key(obj, key) if {
	object.get(obj, key, "\u0000missing") != "\u0000missing"
}

non_null(ops) := [op | some op in ops; op != null]

######################################################################
# CreateContainerRequest: the request must be allowed by one of the policy's containers.

CreateContainerRequest := {"ops": ops, "allowed": true} if {
	create_input_ok
	i_oci := input.OCI
	s_name := i_oci.Annotations[S_NAME]
	matches := {idx | some idx, p_container in policy_data.containers; container_allows(p_container, i_oci, s_name)}
	idx := min(matches)
	p_oci := policy_data.containers[idx].OCI
	ops := non_null([
		state_op("sandbox_name", s_name),
		namespace_op(p_oci.Annotations[S_NAMESPACE], i_oci.Annotations[S_NAMESPACE]),
		state_op("network_namespace", network_namespace_path(i_oci)),
		state_op(input.container_id, idx),
	])
}

# Request fields the generated policy never uses must be empty.
create_input_ok if {
	count(input.shared_mounts) == 0
	is_null(input.string_user)
	i_oci := input.OCI
	is_null(i_oci.Hooks)
	is_null(i_oci.Solaris)
	is_null(i_oci.Windows)
	i_linux := i_oci.Linux
	count(i_linux.GIDMappings) == 0
	count(i_linux.UIDMappings) == 0
	i_linux.MountLabel == ""
	rootfs_propagation_ok(i_linux.RootfsPropagation)
	is_null(i_linux.IntelRdt)
	is_null(i_linux.Seccomp)
	resources_ok(i_linux.Resources)
	i_oci.Process.SelinuxLabel == ""
	i_oci.Process.User.Username == ""
}

resources_ok(r) if is_null(r)

resources_ok(r) if {
	count(object.get(r, "Devices", [])) == 0
	is_null(object.get(r, "BlockIO", null))
	is_null(object.get(r, "Network", null))
	is_null(object.get(r, "Pids", null))
}

container_allows(p_container, i_oci, s_name) if {
	p_container.sandbox_pidns == input.sandbox_pidns
	p_oci := p_container.OCI
	oci_version_ok(p_oci.Version, i_oci.Version)
	p_oci.Root.Readonly == i_oci.Root.Readonly
	ns_op := namespace_op(p_oci.Annotations[S_NAMESPACE], i_oci.Annotations[S_NAMESPACE])
	ns_op == ns_op
	annotations_ok(p_container, i_oci)
	sandbox_name_ok(p_oci, s_name)
	container_type_ok(p_oci, i_oci, s_name)
	ids := bundle_and_sandbox_id(p_oci, i_oci)
	mounts_ok(p_oci, i_oci, input.storages, ids)
	storages_ok(p_container.storages, input.storages, ids)
	image_ok(p_oci, object.get(input, "storages", []), ids)
	process_ok(p_oci.Process, i_oci.Process, s_name, i_oci.Annotations[S_NAMESPACE])
	devices_ok(p_container.devices, input.devices, i_oci)
	linux_ok(p_oci.Linux, i_oci.Linux)
}

# Platform switches (policy_data.cluster_config, from the settings): a platform whose upstream
# rules skip a check turns it off; absent, the check applies (stock Kata).
oci_version_ok(p_version, i_version) if p_version == i_version

oci_version_ok(_, _) if policy_data.cluster_config.check_oci_version == false

rootfs_propagation_ok(p) if p == ""

rootfs_propagation_ok(_) if policy_data.cluster_config.check_rootfs_propagation == false

# An empty policy namespace accepts any namespace; either way the first one is recorded.
namespace_op(p_ns, i_ns) := state_op("namespace", i_ns) if p_ns == i_ns

namespace_op(p_ns, i_ns) := state_op("namespace", i_ns) if {
	p_ns == ""
	p_ns != i_ns
}

# Every annotation must be known: the runtime's io.kubernetes.cri.* ones, the policy's own,
# or one that matches a runtime annotation pattern (CDI device annotations).
annotations_ok(p_container, i_oci) if {
	every key, value in object.get(i_oci, "Annotations", {}) {
		annotation_ok(p_container, key, value)
	}
}

annotation_ok(_, key, _) if startswith(key, "io.kubernetes.cri.")

annotation_ok(p_container, key, _) if has_key(p_container.OCI.Annotations, key)

annotation_ok(p_container, key, value) if {
	some key_regex, value_regex in object.get(p_container, "runtime_anno_patterns", {})
	regex.match(key_regex, key)
	regex.match(value_regex, value)
}

# The policy's sandbox name is a regex; workloads whose pod names are generated have none.
sandbox_name_ok(p_oci, _) if not has_key(p_oci.Annotations, S_NAME)

sandbox_name_ok(p_oci, s_name) if regex.match(p_oci.Annotations[S_NAME], s_name)

container_type_ok(p_oci, i_oci, s_name) if {
	p_oci.Annotations[C_TYPE] == "sandbox"
	i_oci.Annotations[C_TYPE] == "sandbox"
	i_oci.Annotations[K_TYPE] == "pod_sandbox"
	not has_key(p_oci.Annotations, C_NAME)
	not has_key(i_oci.Annotations, C_NAME)
	sandbox_net_namespace_ok(p_oci, i_oci)
	log_dir := replace(replace(p_oci.Annotations[LOG_DIR], "$(sandbox-name)", s_name), "$(sandbox-namespace)", i_oci.Annotations[S_NAMESPACE])
	regex.match(log_dir, i_oci.Annotations[LOG_DIR])
}

container_type_ok(p_oci, i_oci, _) if {
	p_oci.Annotations[C_TYPE] == "container"
	i_oci.Annotations[C_TYPE] == "container"
	i_oci.Annotations[K_TYPE] == "pod_container"
	p_oci.Annotations[C_NAME] == i_oci.Annotations[C_NAME]
	not has_key(i_oci.Annotations, NET_NS)
	not has_key(i_oci.Annotations, LOG_DIR)
}

sandbox_net_namespace_ok(p_oci, i_oci) if regex.match(p_oci.Annotations[NET_NS], i_oci.Annotations[NET_NS])

sandbox_net_namespace_ok(_, i_oci) if not has_key(i_oci.Annotations, NET_NS)

# The bundle ID comes from the root path; the bundle path annotation must agree with it.
bundle_and_sandbox_id(p_oci, i_oci) := {"bundle": bundle_id, "sandbox": sandbox_id} if {
	sandbox_id := i_oci.Annotations["io.kubernetes.cri.sandbox-id"]
	regex.match(p_oci.Annotations["io.kubernetes.cri.sandbox-id"], sandbox_id)
	root := replace(p_oci.Root.Path, "$(root_path)", policy_data.common.root_path)
	root_regex := concat("", ["^", replace(root, "$(bundle-id)", "([a-zA-Z0-9][a-zA-Z0-9_.-]*)"), "$"])
	bundle_id := regex.find_all_string_submatch_n(root_regex, i_oci.Root.Path, 1)[0][1]
	bundle_path := replace(p_oci.Annotations["io.katacontainers.pkg.oci.bundle_path"], "$(bundle-id)", bundle_id)
	bundle_path == i_oci.Annotations["io.katacontainers.pkg.oci.bundle_path"]
}

######################################################################
# Mounts: each input mount must match a policy mount, at most one input mount per destination.

mounts_ok(p_oci, i_oci, i_storages, ids) if {
	i_mounts := object.get(i_oci, "Mounts", [])
	count({m.destination | some m in i_mounts}) == count(i_mounts)
	every i_mount in i_mounts {
		some p_mount in p_oci.Mounts
		mount_ok(p_mount, i_mount, i_storages, ids)
	}
}

mount_ok(p_mount, i_mount, i_storages, ids) if {
	p_mount.destination == i_mount.destination
	p_mount.type_ == i_mount.type_
	mount_options_ok(p_mount, i_mount)
	mount_source_ok(p_mount.source, i_mount.source, i_storages, ids)
}

mount_options_ok(p_mount, i_mount) if p_mount.options == i_mount.options

# Newer kernels add flags to the unified cgroup mount; only the listed extras are accepted.
mount_options_ok(p_mount, i_mount) if {
	p_mount.type_ == "cgroup"
	p_opts := {o | some o in p_mount.options}
	i_opts := {o | some o in i_mount.options}
	count(p_opts - i_opts) == 0
	allowed := {o | some o in object.get(policy_data.cluster_config, "cgroup_mount_extras_allowed", [])}
	count((i_opts - p_opts) - allowed) == 0
}

# Where the platform's containerd may mount /sys read-only or read-write, a /sys the policy
# expects read-write may come read-only; nothing else may differ.
mount_options_ok(p_mount, i_mount) if {
	p_mount.type_ == "sysfs"
	policy_data.cluster_config.privileged_sysfs_ro_or_rw == true
	count(p_mount.options) == count(i_mount.options)
	every n, o in i_mount.options {
		sysfs_option_ok(p_mount.options[n], o)
	}
}

sysfs_option_ok(p, i) if p == i

sysfs_option_ok(p, i) if {
	p == "rw"
	i == "ro"
}

mount_source_ok(p_source, i_source, _, _) if p_source == i_source

# Regex sources name shared files: $(sfprefix) and friends are expanded first.
mount_source_ok(p_source, i_source, _, ids) if {
	regex_source(p_source)
	regex.match(expand_path(p_source, ids), i_source)
}

# Block devices (emptyDir): the source is the mount point of one of the request's storages.
mount_source_ok(p_source, i_source, i_storages, _) if {
	contains(p_source, "$(b64_device_id)")
	some i_storage in i_storages
	i_storage.mount_point == i_source
}

regex_source(s) if startswith(s, "^")

regex_source(s) if startswith(s, "$(sfprefix)")

regex_source(s) if startswith(s, "$(cpath)")

expand_path(p, ids) := replace(replace(replace(replace(p, "$(sfprefix)", policy_data.common.sfprefix), "$(cpath)", policy_data.common.cpath), "$(bundle-id)", ids.bundle), "$(sandbox-id)", ids.sandbox)

######################################################################
# Storages: as many as the policy lists (guest-pulled images aside), each matching one.

storages_ok(p_storages, i_storages, ids) if {
	i_list := object.get(input, "storages", [])
	count(p_storages) == count([s | some s in i_list; s.driver != "image_guest_pull"])
	every i_storage in i_list {
		storage_ok(p_storages, i_storage, ids)
	}
}

# Guest-pull storages are checked by image_ok, against the container they pull for.
storage_ok(_, i_storage, _) if i_storage.driver == "image_guest_pull"

# A block device the runtime attached (emptyDir): its mount point is derived from its address.
storage_ok(p_storages, i_storage, _) if {
	block_device(i_storage)
	some p_storage in p_storages
	contains(p_storage.mount_point, "$(b64_device_id)")
	mount_point := replace(replace(p_storage.mount_point, "$(spath)", policy_data.common.spath), "$(b64_device_id)", b64url_encode(i_storage.source))
	mount_point == i_storage.mount_point
	storage_fields_ok(p_storage, i_storage)
}

storage_ok(p_storages, i_storage, ids) if {
	not block_device(i_storage)
	some p_storage in p_storages
	p_storage.driver == i_storage.driver
	storage_source_ok(p_storage.source, i_storage.source, ids)
	storage_mount_point_ok(p_storage.mount_point, i_storage.mount_point, ids)
	storage_fields_ok(p_storage, i_storage)
}

block_device(s) if {
	s.driver == "blk"
	regex.match("^[0-9]+/[0-9]+$", s.source)
}

block_device(s) if {
	s.driver == "scsi"
	regex.match("^[0-9]+:[0-9]+$", s.source)
}

storage_fields_ok(p_storage, i_storage) if {
	p_storage.driver_options == i_storage.driver_options
	p_storage.fstype == i_storage.fstype
	storage_options_ok(p_storage.options, i_storage.options)
	object.get(p_storage, "shared", false) == object.get(i_storage, "shared", false)
	fs_group_ok(p_storage.fs_group, i_storage.fs_group)
}

storage_options_ok(p, i) if p == i

# A host-pulled image's overlay names the snapshotter's layer directory first. Where each runtime
# version runs its own snapshotter (Contrast on AKS), the policy holds a placeholder and the
# settings (common.tardev.layer_src_prefix) a regex of the directories it accepts.
storage_options_ok(p, i) if {
	count(p) == count(i)
	p[0] == concat("", [LAYER_SRC_PREFIX, "$(layer_src_prefix)"])
	startswith(i[0], LAYER_SRC_PREFIX)
	regex.match(policy_data.common.tardev.layer_src_prefix, trim_prefix(i[0], LAYER_SRC_PREFIX))
	array.slice(p, 1, count(p)) == array.slice(i, 1, count(i))
}

LAYER_SRC_PREFIX := "io.katacontainers.fs-opt.layer-src-prefix="

fs_group_ok(p, i) if {
	is_null(p)
	is_null(i)
}

fs_group_ok(p, i) if {
	not is_null(p)
	not is_null(i)
	p.group_id == i.group_id
}

storage_source_ok(p, i, _) if p == i

# Layer devices: their content is pinned by the dm-verity root hash in the options.
storage_source_ok(p, _, _) if p == ""

storage_source_ok(p, i, ids) if {
	regex_source(p)
	regex.match(expand_path(p, ids), i)
}

storage_mount_point_ok(p, i, ids) if replace(replace(p, "$(root_path)", policy_data.common.root_path), "$(bundle-id)", ids.bundle) == i

storage_mount_point_ok(p, i, ids) if {
	regex_source(p)
	regex.match(expand_path(p, ids), i)
}

######################################################################
# Image: with guest pull the agent pulls the container's image itself, from one storage the
# runtime builds (docs/platform-profiles.md, "Guest-pull storages"). The agent reads the image
# reference from the storage's source and decides "this is the pause image, unpack the built-in
# one" from the container type in the storage's metadata, so both are pinned to the policy's
# container here; the mount point must be the container's root.

image_ok(_, i_storages, _) if {
	not guest_pull_on
	count([s | some s in i_storages; s.driver == "image_guest_pull"]) == 0
}

image_ok(p_oci, i_storages, ids) if {
	guest_pull_on
	pulls := [s | some s in i_storages; s.driver == "image_guest_pull"]
	count(pulls) <= 1
	guest_pull_present_ok(count(pulls))
	every s in pulls {
		guest_pull_storage_ok(p_oci, s, ids)
	}
}

guest_pull_on if policy_data.cluster_config.guest_pull == true

# A platform switch (Contrast): every container's root must come from a guest pull, never from a
# directory the host shares. Kata leaves it to the runtime, so it is off unless the policy says so.
guest_pull_required if object.get(policy_data.cluster_config, "guest_pull_required", false) == true

guest_pull_present_ok(n) if n == 1

guest_pull_present_ok(n) if {
	n == 0
	not guest_pull_required
}

guest_pull_storage_ok(p_oci, s, ids) if {
	s.fstype == "overlay"
	is_null(object.get(s, "fs_group", null))
	count(object.get(s, "options", [])) == 0
	object.get(s, "shared", false) == false
	s.mount_point == replace(policy_data.common.root_path, "$(bundle-id)", ids.bundle)
	count(s.driver_options) == 1
	startswith(s.driver_options[0], "image_guest_pull=")
	pull := json.unmarshal(trim_prefix(s.driver_options[0], "image_guest_pull="))
	metadata := pull.metadata
	is_object(metadata)
	p_type := p_oci.Annotations[C_TYPE]
	metadata[C_TYPE] == p_type

	# The agent takes either CRI's or CRI-O's key for the container type; containerd sets CRI's.
	object.get(metadata, CRIO_TYPE, p_type) == p_type
	guest_pull_image_ok(p_type, p_oci, s.source, metadata)
}

# The sandbox runs the pause image built into the guest: the runtime names it "pause".
guest_pull_image_ok(p_type, _, source, metadata) if {
	p_type == "sandbox"
	source == "pause"
	not has_key(metadata, IMAGE)
}

guest_pull_image_ok(p_type, p_oci, source, metadata) if {
	p_type == "container"
	image_reference_ok(p_oci, source)
	image_reference_ok(p_oci, metadata[IMAGE])
}

# A reference with a digest must name the policy's digest.
image_reference_ok(p_oci, ref) if {
	parts := split(ref, "@")
	count(parts) == 2
	parts[1] == split(p_oci.Annotations[IMAGE], "@")[1]
}

# A reference by tag, only for an image the pod did not pin (the policy's name keeps its tag then),
# must be the policy's name.
image_reference_ok(p_oci, ref) if {
	not contains(ref, "@")
	p_name := split(p_oci.Annotations[IMAGE], "@")[0]
	regex.match(":[^/]+$", p_name)
	ref == p_name
}

######################################################################
# Process: command line, environment, user, capabilities.

process_ok(p, i, s_name, s_namespace) if {
	p.Terminal == i.Terminal
	args_ok(p.Args, i.Args, s_name)
	process_common_ok(p, i, s_name, s_namespace)
	caps_ok(p.Capabilities, i.Capabilities)
}

process_common_ok(p, i, s_name, s_namespace) if {
	p.Cwd == i.Cwd
	p.NoNewPrivileges == i.NoNewPrivileges
	user_ok(p.User, i.User)
	every i_var in object.get(i, "Env", []) {
		env_ok(p.Env, i_var, s_name, s_namespace)
	}
}

user_ok(p, i) if {
	p.UID == i.UID
	p.GID == i.GID
	{g | some g in p.AdditionalGids} == {g | some g in i.AdditionalGids}
}

args_ok(p_args, i_args, s_name) if {
	count(p_args) == count(i_args)
	every n, i_arg in i_args {
		arg_ok(p_args[n], i_arg, s_name)
	}
}

# Kubernetes turns "$$" into "$" in command lines; the policy keeps the escaped form.
arg_ok(p_arg, i_arg, s_name) if replace(replace(p_arg, "$$", "$"), "$(sandbox-name)", s_name) == i_arg

env_ok(p_env, i_var, _, _) if i_var in p_env

env_ok(p_env, i_var, s_name, s_namespace) if {
	i_pair := split_var(i_var)
	some p_var in p_env
	p_pair := split_var(p_var)
	p_pair[0] == i_pair[0]
	placeholder_ok(p_pair[1], i_pair[1], s_name, s_namespace)
}

# A value that embeds the pod's name or namespace ("http://$(POD_NAME).svc"): the kubelet
# substitutes it where the policy keeps the placeholder.
env_ok(p_env, i_var, s_name, s_namespace) if {
	some p_var in p_env
	contains(p_var, "$(sandbox-")
	replace(replace(p_var, "$(sandbox-name)", s_name), "$(sandbox-namespace)", s_namespace) == i_var
}

env_ok(_, i_var, _, _) if {
	some r in policy_data.request_defaults.CreateContainerRequest.allow_env_regex
	regex.match(expand_env_regex(r), i_var)
}

split_var(v) := [substring(v, 0, n), substring(v, n + 1, -1)] if {
	n := indexof(v, "=")
	n > 0
}

placeholder_ok("$(sandbox-name)", value, s_name, _) if value == s_name

placeholder_ok("$(sandbox-namespace)", value, _, s_namespace) if value == s_namespace

placeholder_ok("$(pod-ip)", value, _, _) if regex.match(concat("", ["^", policy_data.common.ipv4_a, "$"]), value)

placeholder_ok("$(host-ip)", value, _, _) if regex.match(concat("", ["^", policy_data.common.ipv4_a, "$"]), value)

# Values only the node knows; any value is accepted for them.
placeholder_ok(p_value, _, _, _) if p_value in {"$(host-name)", "$(node-name)", "$(pod-uid)", "$(resource-field)", "$(todo-annotation)"}

expand_env_regex(r) := replace(replace(replace(replace(replace(r, "$(ipv4_a)", policy_data.common.ipv4_a), "$(ip_p)", policy_data.common.ip_p), "$(svc_name_downward_env)", policy_data.common.svc_name_downward_env), "$(svc_name)", object.get(policy_data.common, "svc_name", "$(svc_name)")), "$(dns_label)", policy_data.common.dns_label)

caps_ok(p, i) if {
	not is_null(i)
	every kind in ["Ambient", "Bounding", "Effective", "Inheritable", "Permitted"] {
		cap_set_ok(p[kind], {c | some c in object.get(i, kind, [])})
	}
}

cap_set_ok(p_caps, i_caps) if expand_caps(p_caps) == i_caps

# The same words as the policy (a runtime that passes the set's name through, as Kata's tests do).
cap_set_ok(p_caps, i_caps) if {
	{c | some c in p_caps} == i_caps
}

expand_caps(caps) := {c | some c in policy_data.common.default_caps} if caps == ["$(default_caps)"]

expand_caps(caps) := {c | some c in policy_data.common.privileged_caps} if caps == ["$(privileged_caps)"]

expand_caps(caps) := {c | some c in caps} if {
	caps != ["$(default_caps)"]
	caps != ["$(privileged_caps)"]
}

######################################################################
# Devices: volume devices by path; VFIO (GPU) devices by count and CDI annotations.

devices_ok(p_devices, i_devices, i_oci) if {
	vfio_path := object.get(object.get(object.get(policy_data, "devices", {}), "vfio", {}), "device_path", "\u0000none")
	every d in i_devices {
		device_ok(p_devices, d, vfio_path)
	}
	p_vfio := [d | some d in p_devices; d.container_path == vfio_path]
	i_vfio := [d | some d in i_devices; startswith(d.container_path, vfio_path)]
	cdi_ok(p_vfio, i_vfio, vfio_path, i_oci)
}

device_ok(p_devices, d, vfio_path) if {
	not startswith(d.container_path, vfio_path)
	some p in p_devices
	p.container_path == d.container_path
}

device_ok(p_devices, d, vfio_path) if {
	startswith(d.container_path, vfio_path)
	n := trim_prefix(d.container_path, vfio_path)
	regex.match("^[0-9]+$", n)
	d.id == concat("", ["vfio", n])
	some p in p_devices
	p.container_path == vfio_path
	p.type_ == d.type_
	p.vm_path == d.vm_path
	count(d.options) > 0
	every o in d.options {
		regex.match("^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[01][0-9a-fA-F]\\.[0-7]=[0-9a-fA-F]{2}/[0-9a-fA-F]{2}$", o)
	}
}

cdi_suffixes(i_oci) := [s |
	some key, _ in object.get(i_oci, "Annotations", {})
	startswith(key, "cdi.k8s.io/vfio")
	s := trim_prefix(key, "cdi.k8s.io/vfio")
]

cdi_ok(p_vfio, i_vfio, _, i_oci) if {
	count(p_vfio) == 0
	count(i_vfio) == 0
	count(cdi_suffixes(i_oci)) == 0
}

# Hot-plugged: one device per policy device, numbered like the CDI annotations.
cdi_ok(p_vfio, i_vfio, vfio_path, i_oci) if {
	count(i_vfio) > 0
	count(i_vfio) == count(p_vfio)
	numbers := {trim_prefix(d.container_path, vfio_path) | some d in i_vfio}
	count(numbers) == count(i_vfio)
	{s | some s in cdi_suffixes(i_oci)} == numbers
}

# Cold-plugged: no devices in the request, one CDI annotation per policy device.
cdi_ok(p_vfio, i_vfio, _, i_oci) if {
	count(i_vfio) == 0
	count(p_vfio) > 0
	count(cdi_suffixes(i_oci)) == count(p_vfio)
}

######################################################################
# Linux: namespaces, masked and read-only paths, sysctls, devices.

linux_ok(p, i) if {
	p.Namespaces == [ns | some ns in i.Namespaces; ns.Type != "network"]
	every path in p.MaskedPaths {
		path in i.MaskedPaths
	}
	every path in p.ReadonlyPaths {
		readonly_ok(path, i)
	}
	every name, value in object.get(i, "Sysctl", {}) {
		p.Sysctl[name] == value
	}
	every d in object.get(i, "Devices", []) {
		some pd in p.Devices
		pd.Path == d.Path
	}
}

readonly_ok(path, i) if path in i.ReadonlyPaths

readonly_ok(path, i) if path in i.MaskedPaths

network_namespace_path(i_oci) := "" if {
	count([ns | some ns in i_oci.Linux.Namespaces; ns.Type == "network"]) == 0
}

network_namespace_path(i_oci) := paths[0] if {
	paths := [ns.Path | some ns in i_oci.Linux.Namespaces; ns.Type == "network"]
	count(paths) == 1
}

######################################################################
# RemoveContainerRequest forgets the container; later requests for its ID are denied.

RemoveContainerRequest := {"ops": ops, "allowed": true} if {
	ops := [op | has_key(pstate, input.container_id); op := {"op": "remove", "path": concat("/", ["/pstate", input.container_id])}]
}

######################################################################
# ExecProcessRequest: only commands the pod declared (probes, hooks) or the settings allow.

ExecProcessRequest if {
	exec_input_ok
	p_container := state_container(input.container_id)
	some command in p_container.exec_commands
	command == input.process.Args
	p := p_container.OCI.Process
	p.Terminal == input.process.Terminal
	exec_process_ok(p, input.process)
}

ExecProcessRequest if {
	exec_input_ok
	p_container := state_container(input.container_id)
	some command in policy_data.request_defaults.ExecProcessRequest.allowed_commands
	command == input.process.Args
	exec_process_ok(p_container.OCI.Process, input.process)
}

ExecProcessRequest if {
	exec_input_ok
	p_container := state_container(input.container_id)
	some r in policy_data.request_defaults.ExecProcessRequest.regex
	regex.match(r, concat(" ", input.process.Args))
	exec_process_ok(p_container.OCI.Process, input.process)
}

exec_input_ok if {
	is_null(input.string_user)
	input.process.SelinuxLabel == ""
	input.process.ApparmorProfile == ""
}

# Exec'd processes get no capabilities beyond the container's and the container's identity.
exec_process_ok(p, i) if {
	is_null(i.Capabilities)
	process_common_ok(p, i, pstate.sandbox_name, pstate.namespace)
}

state_container(container_id) := policy_data.containers[pstate[container_id]]

######################################################################
# CreateSandboxRequest: no guest hooks, no kernel modules, no shared PID namespace, and only
# the sandbox storages of the settings.

CreateSandboxRequest if {
	guest_hook_ok(input.guest_hook_path)
	count(input.kernel_modules) == 0
	input.sandbox_pidns == false
	every s in input.storages {
		some p in policy_data.sandbox.storages
		s.driver == p.driver
		s.source == p.source
		s.fstype == p.fstype
		s.mount_point == p.mount_point
		s.options == p.options
	}
}

guest_hook_ok(path) if path == ""

# Guest hooks the settings allow (the GPU images' OCI hooks), by exact path.
guest_hook_ok(path) if path in object.get(policy_data.sandbox, "allowed_guest_hooks", [])

######################################################################
# CopyFileRequest: only into the shared directory of a container, without leaving it.

CopyFileRequest if {
	copy_file_type in {"Regular", "Directory"}
	copy_path_ok(input.path, "")
}

# A symlink must live below a container's top-level shared directory and point inside it.
CopyFileRequest if {
	copy_file_type == "Symlink"
	copy_path_ok(input.path, ".*/.+")
	no_traversal(copy_symlink_target)
	not startswith(copy_symlink_target, "/")
}

# Newer agents name the file's type and a symlink's target. Microsoft's fork (AKS) passes the
# file's mode instead (S_IFMT: 0o100000 regular, 0o040000 directory, 0o120000 symlink) and the
# target as symlink_src.
copy_file_type := input.file_type

copy_file_type := "Regular" if copy_mode_type(32768)

copy_file_type := "Directory" if copy_mode_type(16384)

copy_file_type := "Symlink" if copy_mode_type(40960)

copy_mode_type(t) if {
	not has_key(input, "file_type")
	bits.and(input.file_mode, 61440) == t
}

copy_symlink_target := input.symlink_src if not has_key(input, "file_type")

copy_symlink_target := input.symlink_target if has_key(input, "file_type")

copy_path_ok(path, suffix) if {
	no_traversal(path)
	some r in policy_data.request_defaults.CopyFileRequest
	expanded := replace(replace(replace(r, "$(sfprefix)", policy_data.common.sfprefix), "$(cpath)", policy_data.common.cpath), "$(bundle-id)", "[a-z0-9]{64}")
	regex.match(concat("", [expanded, suffix]), path)
}

no_traversal(path) if not regex.match("(^|/)\\.\\.($|/)", path)

######################################################################
# Network configuration from the host.

UpdateInterfaceRequest if {
	d := policy_data.request_defaults.UpdateInterfaceRequest
	i := input.interface
	bits.and(i.raw_flags, bits.negate(d.allow_raw_flags)) == 0
	not i.name in d.forbidden_names
	not i.hwAddr in d.forbidden_hw_addrs
}

UpdateRoutesRequest if {
	d := policy_data.request_defaults.UpdateRoutesRequest
	every route in input.routes.Routes {
		not route.device in d.forbidden_device_names
		every r in d.forbidden_source_regex {
			not regex.match(r, route.source)
		}
	}
}

AddARPNeighborsRequest if {
	d := policy_data.request_defaults.AddARPNeighborsRequest
	every n in input.neighbors.ARPNeighbors {
		not n.device in d.forbidden_device_names
		n.toIPAddress.mask == ""
		every r in d.forbidden_cidrs_regex {
			not regex.match(r, n.toIPAddress.address)
		}
		n.state in d.allowed_states
		bits.or(n.flags, 136) == 136
	}
}

######################################################################
# Streams and the rest: as the settings say.

CloseStdinRequest if policy_data.request_defaults.CloseStdinRequest == true

ReadStreamRequest if policy_data.request_defaults.ReadStreamRequest == true

WriteStreamRequest if policy_data.request_defaults.WriteStreamRequest == true

UpdateEphemeralMountsRequest if policy_data.request_defaults.UpdateEphemeralMountsRequest == true

GetDiagnosticDataRequest if policy_data.request_defaults.GetDiagnosticDataRequest == true

######################################################################
# base64url (with padding) of a printable ASCII string, as base64url.encode computes it. The
# regorus of the Kata 3.13/3.14 agents is built without the base64url built-ins, so the rules
# must not call them (docs/rego.md, "Dialects"). Other characters make the result undefined.

B64URL := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

ASCII_PRINTABLE := " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"

b64url_encode(s) := "" if s == ""

b64url_encode(s) := concat("", [b64url_group(codes, 3 * i) | some i in numbers.range(0, floor((count(codes) - 1) / 3))]) if {
	s != ""
	codes := [ascii_code(substring(s, k, 1)) | some k in numbers.range(0, count(s) - 1)]
	count(codes) == count(s)
}

ascii_code(c) := n + 32 if {
	n := indexof(ASCII_PRINTABLE, c)
	n >= 0
}

# Three bytes from position k (zeros past the end) make four characters; a short group ends in "=".
b64url_group(codes, k) := concat("", [b64url_sextet(triple, j, used) | some j in numbers.range(0, 3)]) if {
	padded := array.concat(codes, [0, 0])
	triple := ((padded[k] * 256) + padded[k + 1]) * 256 + padded[k + 2]
	used := min([count(codes) - k, 3]) + 1
}

b64url_sextet(triple, j, used) := substring(B64URL, bits.and(bits.rsh(triple, 18 - (6 * j)), 63), 1) if j < used

b64url_sextet(_, j, used) := "=" if j >= used
