/**
 * The tampers of issue 11, applied to the last application container of an honest request
 * stream, each with the reason `policy check` must give for denying it. Shared by the CLI's
 * end-to-end tests of the conformance pods and of the real-world corpus.
 */
// biome-ignore lint/suspicious/noExplicitAny: requests are tampered with field by field
export type Req = Record<string, any>;
export interface Tamper {
  readonly what: string;
  readonly request: { name: string; input: Req };
  readonly reason: string;
}

export function tampers(
  stream: { name: string; input: Req }[],
  options: { readonly guestPullRequired?: boolean } = {},
): Tamper[] {
  const creates = stream.filter(
    (r) =>
      r.name === "CreateContainerRequest" &&
      r.input.OCI.Annotations["io.kubernetes.cri.container-type"] === "container",
  );
  const honest = creates[creates.length - 1] as { name: string; input: Req };
  const copy = (): Req => structuredClone(honest.input);
  const out: Tamper[] = [];
  const add = (what: string, reason: string, change: (r: Req) => void) => {
    const input = copy();
    change(input);
    out.push({ what, request: { name: "CreateContainerRequest", input }, reason });
  };
  const p = honest.input.OCI.Process;
  add("an extra env var", "env LD_PRELOAD=/usr/lib/evil.so is not allowed", (r) =>
    r.OCI.Process.Env.push("LD_PRELOAD=/usr/lib/evil.so"),
  );
  if (p.Args.length > 0) {
    const i = p.Args.length - 1;
    // The corpus's synthetic images all run "/bin/sh": replacing that with itself changes nothing.
    const evil = p.Args[i] === "/bin/sh" ? "/bin/bash" : "/bin/sh";
    add("a changed arg", `args differ at index ${i}: policy ${JSON.stringify(p.Args[i])}, request "${evil}"`, (r) => {
      r.OCI.Process.Args[i] = evil;
    });
  }
  add("an extra arg", `extra arg at index ${p.Args.length}: "--debug"`, (r) => r.OCI.Process.Args.push("--debug"));
  const cap = ["CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_BPF"].find((c) => !p.Capabilities.Bounding.includes(c));
  // A privileged container already holds every capability: there is nothing to add.
  if (cap !== undefined) {
    add("privileged capabilities", `capabilities (Bounding): ${cap} not allowed`, (r) => {
      for (const set of ["Bounding", "Effective", "Permitted"]) r.OCI.Process.Capabilities[set].push(cap);
    });
  }
  const sys = (honest.input.OCI.Mounts as Req[]).find((m) => m.destination === "/sys");
  if (sys?.options.includes("ro")) {
    add("/sys writable", "mount /sys is writable", (r) => {
      const m = r.OCI.Mounts.find((x: Req) => x.destination === "/sys");
      m.options = m.options.map((o: string) => (o === "ro" ? "rw" : o));
    });
  }
  add("the read-only root flipped", "root filesystem is", (r) => {
    r.OCI.Root.Readonly = !r.OCI.Root.Readonly;
  });
  add("the UID changed", `UID ${p.User.UID + 4242}, policy ${p.User.UID}`, (r) => {
    r.OCI.Process.User.UID += 4242;
  });
  const pull = (honest.input.storages as Req[]).find((s) => s.driver === "image_guest_pull");
  if (pull !== undefined) {
    const guestPull = (r: Req): Req => r.storages.find((x: Req) => x.driver === "image_guest_pull");
    const setMetadata = (r: Req, change: (m: Record<string, string>) => void) => {
      const s = guestPull(r);
      const { metadata } = JSON.parse(s.driver_options[0].slice("image_guest_pull=".length));
      change(metadata);
      s.driver_options[0] = `image_guest_pull=${JSON.stringify({ metadata })}`;
    };
    add("the image digest changed", "image digest differs", (r) => {
      const s = guestPull(r);
      s.source = `${s.source.split("@")[0]}@sha256:${"0".repeat(64)}`;
    });
    add("the guest-pull mount point moved", "image_guest_pull storage: mount point", (r) => {
      guestPull(r).mount_point = "/run/kata-containers/shared/containers/evil/rootfs";
    });
    add("a second guest-pull driver option", "expected exactly one", (r) => {
      guestPull(r).driver_options.push('image_guest_pull={"metadata":{}}');
    });
    // The agent unpacks its built-in pause image for a "sandbox" and ignores the source.
    add("the guest-pull metadata say sandbox", 'image_guest_pull metadata: container type "sandbox"', (r) =>
      setMetadata(r, (m) => {
        m["io.kubernetes.cri.container-type"] = "sandbox";
      }),
    );
    add("another image in the guest-pull metadata", "image_guest_pull metadata: image", (r) =>
      setMetadata(r, (m) => {
        m["io.kubernetes.cri.image-name"] = `evil.example/image@sha256:${"0".repeat(64)}`;
      }),
    );
  } else {
    add("a layer's root hash changed", "image layers differ", (r) => {
      const s = r.storages.find((x: Req) => x.fstype === "tar");
      s.options = s.options.map((o: string) => o.replace(/root-hash=[0-9a-f]+/, `root-hash=${"0".repeat(64)}`));
    });
  }
  const sandbox = stream.find(
    (r) =>
      r.name === "CreateContainerRequest" && r.input.OCI.Annotations["io.kubernetes.cri.container-type"] === "sandbox",
  );
  const sandboxPull = (sandbox?.input.storages as Req[] | undefined)?.find((s) => s.driver === "image_guest_pull");
  if (sandbox !== undefined && sandboxPull !== undefined) {
    // The agent pulls the source when the metadata do not say "sandbox"; the rules want "pause".
    const input = structuredClone(sandbox.input);
    input.storages.find((s: Req) => s.driver === "image_guest_pull").source = "evil.example/pause:latest";
    out.push({
      what: "the sandbox pulls an image",
      request: { name: "CreateContainerRequest", input },
      reason: `the sandbox's source is "evil.example/pause:latest", expected "pause"`,
    });
  }
  if (options.guestPullRequired === true && pull !== undefined) {
    add("no guest-pull storage", "no image_guest_pull storage", (r) => {
      r.storages = r.storages.filter((x: Req) => x.driver !== "image_guest_pull");
    });
  }
  // A workload that already mounts the host's root at /host (custom-node-debugger) gets the extra
  // mount elsewhere: a second /host would be denied as a duplicate, not as an extra mount.
  const hostDest = (honest.input.OCI.Mounts as Req[]).some((m) => m.destination === "/host") ? "/host-root" : "/host";
  add("an extra host mount", `extra mount ${hostDest} (bind from "/") is not allowed`, (r) =>
    r.OCI.Mounts.push({ destination: hostDest, source: "/", type_: "bind", options: ["rbind", "rw"] }),
  );
  add("a renamed container", 'container "evil" is not in the policy', (r) => {
    r.OCI.Annotations["io.kubernetes.cri.container-name"] = "evil";
  });
  add("a renamed sandbox", 'sandbox name "evil-sandbox"', (r) => {
    r.OCI.Annotations["io.kubernetes.cri.sandbox-name"] = "evil-sandbox";
  });
  out.push({
    what: "an exec of /bin/sh",
    request: {
      name: "ExecProcessRequest",
      input: {
        container_id: honest.input.container_id,
        exec_id: "f".repeat(32),
        string_user: null,
        process: { ...structuredClone(p), Args: ["/bin/sh"], Capabilities: null, Terminal: false },
      },
    },
    reason: 'exec of "/bin/sh" is not allowed',
  });
  return out;
}

export interface Checked {
  ok: boolean;
  allowed: number;
  denied: number;
  decisions: { kind: string; allowed: boolean; reasons?: { message: string; field: string; container?: string }[] }[];
}
