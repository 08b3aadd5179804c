import { main } from "./program.js";

main(process.argv.slice(2), process.env).then(
  (status) => {
    if (status !== undefined) process.exitCode = status;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 70;
  },
);
