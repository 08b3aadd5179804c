import type { CommandSpec } from "../command-spec.js";

export const DEMO: CommandSpec = {
  path: ["demo"],
  summary:
    "run a whole confidential deployment on this machine on the simulated TEE (INSECURE): generate, set, verify, tamper, recover",
  args: [],
  flags: [
    {
      flags: "--dir <dir>",
      description: "the demo's working directory; everything it writes stays there",
      doc: "the demo's working directory (created; a directory of an earlier demo run is emptied first, any other non-empty directory is refused): images, resources, keys, `manifest.json`, `verify/`, the simulated TEE, the pods' files and logs. Nothing outside it is written, apart from the namespaces and links the demo creates and removes",
      default: "contrast-demo",
    },
    {
      flags: "--keep",
      description: "leave the deployment running after the last step, until Ctrl-C",
      doc: "leave the deployment running after the last step and print how to talk to it (the Coordinator's address, a request through the mesh); Ctrl-C (or SIGTERM) then cleans up",
    },
    {
      flags: "--non-interactive",
      description: "never read the terminal (no spinners); for scripts and CI",
      doc: "never read the terminal and print no spinners: for scripts and CI (with `--keep` it still waits for a signal)",
    },
    {
      flags: "--source-dir <dir>",
      description: "the contrast checkout whose built apps the demo runs (default: the one this CLI was built in)",
      doc: "the contrast source checkout (the directory with `pnpm-workspace.yaml`) whose built apps (`pnpm build`) become the demo's images; default: found from this CLI's own location",
    },
    {
      flags: "--user-namespace",
      description: "run in a user namespace even as root (what the demo does by itself without root)",
      doc: "run inside an unprivileged user namespace (`unshare --user --map-root-user --net --mount`) even as root; without root the demo always does, and stops with `CLI_DEMO_USERNS_UNAVAILABLE` when the kernel does not allow it",
    },
    {
      flags: "--step-timeout <seconds>",
      description: "how long one step may wait for pods, the Coordinator or the mesh",
      default: "120",
    },
  ],
};
