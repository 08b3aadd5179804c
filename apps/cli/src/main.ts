import { run } from "./cli.js";

// `contrast ... | head` closes the pipe early; that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  env: process.env,
}).then(
  (status) => {
    process.exitCode = status;
  },
  (e: unknown) => {
    // run() renders every error itself; reaching this is a bug worth a stack trace.
    console.error(e);
    process.exitCode = 70;
  },
);
