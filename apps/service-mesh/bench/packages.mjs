// The anchors are Debian packages; the bench installs them when they are missing, as CI's image
// may not have them.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const NEEDED = [
  { bin: "haproxy", pkg: "haproxy" },
  { bin: "nginx", pkg: "nginx" },
  { file: "/usr/lib/nginx/modules/ngx_stream_module.so", pkg: "libnginx-mod-stream" },
  { bin: "wrk", pkg: "wrk" },
];

function onPath(bin) {
  try {
    execFileSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function ensurePackages() {
  const missing = NEEDED.filter((n) =>
    n.bin ? !onPath(n.bin) && !existsSync(`/usr/sbin/${n.bin}`) : !existsSync(n.file),
  );
  if (missing.length === 0) return;
  const pkgs = missing.map((m) => m.pkg);
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${pkgs.join(", ")}: run \`sudo apt-get install -y ${pkgs.join(" ")}\``);
  }
  console.log(`installing ${pkgs.join(" ")} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...pkgs], { stdio: "inherit", env });
}
