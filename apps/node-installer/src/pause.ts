/**
 * Idles until SIGTERM or SIGINT: the DaemonSet's long-running container after the installer
 * ran as its init container, so the release needs no separate pause image.
 */
export function pause(): Promise<number> {
  return new Promise((resolve) => {
    const timer = setInterval(() => undefined, 1 << 30);
    const stop = () => {
      clearInterval(timer);
      resolve(0);
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    process.stderr.write(`${JSON.stringify({ level: "INFO", msg: "installed; pausing until SIGTERM" })}\n`);
  });
}
