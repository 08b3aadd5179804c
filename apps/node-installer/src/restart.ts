import { execFile } from "node:child_process";

/** What upstream runs: systemctl in the host's mount namespace (the pod has hostPID). */
export const DEFAULT_RESTART_COMMAND = ["nsenter", "--target", "1", "--mount", "--", "systemctl", "restart"];

/** The restart command's argv; the unit name is appended when it runs. Split on white space. */
export function restartCommand(text: string | undefined): readonly string[] {
  if (text === undefined || text.trim() === "") return DEFAULT_RESTART_COMMAND;
  return text.trim().split(/\s+/);
}

/** Runs the command with `<service>.service` appended; rejects with its stderr on failure. */
export function runRestart(command: readonly string[], service: string): Promise<void> {
  const [file, ...args] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    execFile(file, [...args, `${service}.service`], { timeout: 120_000 }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`${command.join(" ")} ${service}.service: ${stderr.trim() || error.message}`));
    });
  });
}
