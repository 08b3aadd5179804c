// A client "pod"'s connections, run inside a network namespace by the netns tests: reads one JSON
// command a line on stdin, answers one JSON line on stdout per command. One long-lived process
// per namespace, so a test pays Node's start-up once, not per connection.
//
//   {id, op: "exchange", host, port, tls?: {ca?, cert?, key?}, send, timeoutMs}
//     connects (plain TCP, or TLS with the given PEM files), writes `send`, half-closes, and
//     collects what comes back until the peer closes: {id, connected, secure, authorized, data,
//     error, closed: "end" | "error" | "timeout"}.
//   {id, op: "open", ...same} writes `send`, waits for the first reply, keeps the socket:
//     {id, connected, data, error}.
//   {id, op: "finish", ref, send} on a socket kept by "open": writes, half-closes, collects as
//     "exchange" does.
import { readFileSync } from "node:fs";
import net from "node:net";
import readline from "node:readline";
import tls from "node:tls";

const reply = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const kept = new Map();

function connect(cmd) {
  if (cmd.tls === undefined)
    return { socket: net.connect({ host: cmd.host, port: cmd.port, allowHalfOpen: true }), event: "connect" };
  const t = cmd.tls;
  const socket = tls.connect({
    host: cmd.host,
    port: cmd.port,
    allowHalfOpen: true,
    ca: t.ca === undefined ? undefined : readFileSync(t.ca),
    cert: t.cert === undefined ? undefined : readFileSync(t.cert),
    key: t.key === undefined ? undefined : readFileSync(t.key),
    // Mesh certificates are checked against the mesh CA only; their SANs are not matched, as
    // upstream's Envoy does not match them either.
    checkServerIdentity: () => undefined,
    rejectUnauthorized: t.ca !== undefined,
  });
  return { socket, event: "secureConnect" };
}

/** Collects from `socket` until it closes; resolves the result fields. */
function collect(socket, state, timeoutMs) {
  return new Promise((resolve) => {
    let data = state.data ?? "";
    let error = state.error ?? null;
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    const finish = (closed) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, error, closed });
    };
    socket.on("data", (c) => {
      data += c.toString("utf8");
    });
    socket.on("error", (e) => {
      error ??= e.code ?? e.message;
    });
    socket.on("close", () => finish(error === null ? "end" : "error"));
  });
}

async function start(cmd) {
  const { socket, event } = connect(cmd);
  const state = { connected: false, secure: false, authorized: false, data: "", error: null };
  // Errors are recorded where they matter; an unhandled one must not end the agent.
  socket.on("error", () => {});
  await new Promise((resolve) => {
    // A dropped SYN (the default-deny rule) never answers: give up after the command's budget.
    const timer = setTimeout(() => {
      state.error = "TIMEOUT";
      socket.destroy();
      resolve();
    }, cmd.timeoutMs ?? 5000);
    socket.once("close", () => clearTimeout(timer));
    socket.once(event, () => {
      clearTimeout(timer);
      state.connected = true;
      state.secure = event === "secureConnect";
      state.authorized = socket.authorized === true;
      resolve();
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      state.error = e.code ?? e.message;
      resolve();
    });
    socket.once("close", resolve);
  });
  return { socket, state };
}

async function handle(cmd) {
  const timeoutMs = cmd.timeoutMs ?? 5000;
  if (cmd.op === "exchange") {
    const { socket, state } = await start(cmd);
    if (!state.connected || socket.destroyed) return { ...state, closed: "error" };
    socket.end(cmd.send ?? "");
    const got = await collect(socket, state, timeoutMs);
    return { ...state, ...got };
  }
  if (cmd.op === "open") {
    const { socket, state } = await start(cmd);
    if (!state.connected || socket.destroyed) return { ...state, closed: "error" };
    socket.write(cmd.send ?? "");
    const first = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(""), timeoutMs);
      socket.once("data", (c) => {
        clearTimeout(timer);
        resolve(c.toString("utf8"));
      });
      socket.once("close", () => resolve(""));
    });
    kept.set(cmd.id, socket);
    return { ...state, data: first };
  }
  if (cmd.op === "finish") {
    const socket = kept.get(cmd.ref);
    kept.delete(cmd.ref);
    if (socket === undefined || socket.destroyed) return { error: "NOT_OPEN", closed: "error", data: "" };
    const state = { data: "", error: null };
    socket.end(cmd.send ?? "");
    return collect(socket, state, timeoutMs);
  }
  return { error: `unknown op ${cmd.op}` };
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const cmd = JSON.parse(line);
  handle(cmd).then(
    (result) => reply({ id: cmd.id, ...result }),
    (e) => reply({ id: cmd.id, error: String(e) }),
  );
});
lines.on("close", () => process.exit(0));
reply({ event: "ready" });
