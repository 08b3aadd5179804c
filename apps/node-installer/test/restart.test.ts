import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { scratchDir } from "@contrast/testkit";
import { describe, expect, it } from "vitest";
import { DEFAULT_RESTART_COMMAND, nodeProbe, restartCommand } from "../src/restart.js";

const noNsenter = { ...nodeProbe, onPath: () => false };

describe("the restart command", () => {
  it("is the given text split on white space, else upstream's nsenter command when the container has nsenter", () => {
    expect(restartCommand("  /bin/echo   restart ", "/host")).toEqual(["/bin/echo", "restart"]);
    expect(restartCommand(undefined, "/host", { ...nodeProbe, onPath: (c) => c === "nsenter" })).toEqual(
      DEFAULT_RESTART_COMMAND,
    );
  });

  it("without nsenter in the container: the host's nsenter through the host's loader, symlinks resolved below the mount", () => {
    const host = scratchDir("contrast-fake-host-");
    const put = (path: string) => {
      mkdirSync(dirname(join(host, path)), { recursive: true });
      writeFileSync(join(host, path), "");
    };
    put("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    put("/usr/bin/nsenter");
    mkdirSync(join(host, "lib64"));
    // Absolute, as distributions install it: it must resolve inside the host mount, not in the container.
    symlinkSync("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", join(host, "lib64/ld-linux-x86-64.so.2"));
    mkdirSync(join(host, "usr/lib/x86_64-linux-gnu"), { recursive: true });
    expect(restartCommand(undefined, host, noNsenter)).toEqual([
      join(host, "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
      "--library-path",
      [
        join(host, "lib/x86_64-linux-gnu"),
        join(host, "usr/lib/x86_64-linux-gnu"),
        join(host, "lib64"),
        join(host, "lib"),
        join(host, "usr/lib"),
      ].join(":"),
      join(host, "usr/bin/nsenter"),
      "--target",
      "1",
      "--mount",
      "--",
      "systemctl",
      "restart",
    ]);
    // A host without nsenter: upstream's command, whose failure names what is missing.
    expect(restartCommand(undefined, scratchDir(), noNsenter)).toEqual(DEFAULT_RESTART_COMMAND);
  });

  it("the loader form really runs this machine's nsenter with this machine as the host", () => {
    const command = restartCommand(undefined, "/", noNsenter);
    expect(command[1]).toBe("--library-path");
    // Everything up to nsenter, then --version instead of entering PID 1's namespace.
    const out = execFileSync(command[0] as string, [...command.slice(1, 4), "--version"], { encoding: "utf8" });
    expect(out).toMatch(/^nsenter from util-linux/);
  });
});
