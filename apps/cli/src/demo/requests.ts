import { request as httpRequest } from "node:http";
import { type PeerCertificate, connect as tlsConnect } from "node:tls";

/** What an HTTPS request through the mesh got back, and who answered it. */
export interface MeshResponse {
  readonly status: number;
  readonly body: string;
  /** The server's leaf certificate: subject CN, SANs, issuer CN, SHA-256 fingerprint. */
  readonly server: {
    readonly subject: string;
    readonly subjectAltName: string;
    readonly issuer: string;
    readonly fingerprint256: string;
  };
}

export interface TlsTarget {
  readonly host: string;
  readonly port: number;
  /** The CA (PEM) the server's chain must verify against: `verify/mesh-ca.pem`. */
  readonly ca: string;
  readonly timeoutMs: number;
}

/**
 * `curl --cacert mesh-ca.pem https://host:port/path`: an HTTP/1.1 GET over TLS whose server chain
 * must verify against `ca` (and nothing else: no system roots). Like the mesh's own peers, it
 * matches no host name: mesh certificates carry the workload's names, which are not the IP
 * dialled here (docs/service-mesh.md, "TLS").
 */
export function meshGet(target: TlsTarget, path = "/"): Promise<MeshResponse> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: target.host,
      port: target.port,
      ca: target.ca,
      rejectUnauthorized: true,
      checkServerIdentity: () => undefined,
    });
    const timer = setTimeout(
      () => socket.destroy(new Error(`no answer from ${target.host}:${target.port} in ${target.timeoutMs} ms`)),
      target.timeoutMs,
    );
    const chunks: Buffer[] = [];
    let server: MeshResponse["server"] | undefined;
    socket.on("secureConnect", () => {
      const cert: PeerCertificate = socket.getPeerCertificate();
      server = {
        subject: String(cert.subject?.CN ?? ""),
        subjectAltName: cert.subjectaltname ?? "",
        issuer: String(cert.issuer?.CN ?? ""),
        fingerprint256: cert.fingerprint256,
      };
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`);
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      if (server === undefined) return; // the error handler has rejected
      const parsed = parseHttpResponse(Buffer.concat(chunks));
      if (parsed === undefined) {
        reject(new Error(`the connection to ${target.host}:${target.port} closed without an HTTP response`));
        return;
      }
      resolve({ ...parsed, server });
    });
  });
}

/** How a server refused a client: the TLS error, or a close without any response. */
export interface Refusal {
  readonly refused: boolean;
  /** One line: what the client saw. */
  readonly how: string;
}

/**
 * Sends a request over TLS without a client certificate (the server's chain is not checked: this
 * is anyone on the network) and tells whether the server refused it: a TLS alert, a reset, or a
 * close before any byte of a response. Node's mesh ingress checks the client's chain after the
 * handshake and closes (docs/service-mesh.md), so a refusal may come after `secureConnect`.
 */
export function requestWithoutClientCertificate(target: Omit<TlsTarget, "ca">): Promise<Refusal> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: target.host, port: target.port, rejectUnauthorized: false });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (r: Refusal) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish({ refused: false, how: `neither an answer nor a refusal in ${target.timeoutMs} ms` }),
      target.timeoutMs,
    );
    socket.on("secureConnect", () => {
      socket.write(`GET / HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`);
    });
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
    });
    socket.on("error", (e: NodeJS.ErrnoException) =>
      finish({ refused: chunks.length === 0, how: `TLS ${e.code ?? "error"}: ${e.message}` }),
    );
    socket.on("close", () => {
      const parsed = parseHttpResponse(Buffer.concat(chunks));
      finish(
        parsed === undefined
          ? { refused: true, how: "the server closed the connection without a response" }
          : { refused: false, how: `the server answered ${parsed.status}` },
      );
    });
  });
}

/** GET http://host:port/path; the status and body, or the error's message. */
export function plainGet(
  host: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<{ readonly status: number; readonly body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path, method: "GET", agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${host}:${port} in ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** Status and body of an HTTP/1.1 response (Content-Length, chunked, or until close). */
export function parseHttpResponse(raw: Buffer): { readonly status: number; readonly body: string } | undefined {
  const head = raw.indexOf("\r\n\r\n");
  if (head < 0) return undefined;
  const headers = raw.subarray(0, head).toString("latin1");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(headers);
  if (m === null) return undefined;
  let body = raw.subarray(head + 4);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(headers)) {
    const parts: Buffer[] = [];
    let rest = body;
    for (;;) {
      const eol = rest.indexOf("\r\n");
      if (eol < 0) break;
      const size = Number.parseInt(rest.subarray(0, eol).toString("latin1"), 16);
      if (!Number.isFinite(size) || size <= 0) break;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      rest = rest.subarray(eol + 2 + size + 2);
    }
    body = Buffer.concat(parts);
  }
  return { status: Number(m[1]), body: body.toString("utf8") };
}
