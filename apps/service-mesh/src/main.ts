import { main } from "./program.js";

main(process.argv.slice(2), { write: (line) => process.stderr.write(line), env: process.env }).then(
  (status) => {
    // A drained proxy exits with the status main returned; open handles must not keep it alive.
    process.exit(status);
  },
  (e: unknown) => {
    // main() reports every failure itself; reaching this is a bug worth a stack trace.
    console.error(e);
    process.exit(70);
  },
);
