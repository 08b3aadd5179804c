// The application of a test "pod": plain TCP servers on the ports given as arguments, run inside
// a network namespace by the netns tests. Each accepted connection is announced on stdout as a
// JSON line (so a test can tell whether anything reached the app at all, and from where); each
// chunk received is answered with `<port>|<chunk>`; the app ends its side when the client does.
import net from "node:net";

const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const ports = process.argv.slice(2).map(Number);
let listening = 0;
for (const port of ports) {
  // No host: Node listens on `::` with IPv4 mapped in, so IPv4 and IPv6 both reach the app.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    emit({
      event: "accept",
      port,
      remoteAddress: socket.remoteAddress?.replace(/^::ffff:/, ""),
      localAddress: socket.localAddress?.replace(/^::ffff:/, ""),
    });
    socket.on("data", (chunk) => socket.write(`${port}|${chunk.toString("utf8")}`));
    socket.on("end", () => socket.end());
    socket.on("error", () => socket.destroy());
  });
  server.listen(port, () => {
    listening += 1;
    if (listening === ports.length) emit({ event: "listening", ports });
  });
}
process.on("SIGTERM", () => process.exit(0));
