import { main } from "./program.js";

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (e: unknown) => {
    // main() reports every failure itself; reaching this is a bug worth a stack trace.
    console.error(e);
    process.exitCode = 70;
  },
);
