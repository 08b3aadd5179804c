import { gunzipSingleMember, type LayoutFileSystem, readLayoutBlob, readOciLayoutImages } from "@contrast/oci";
import { LocalrunError } from "./errors.js";
import { type Host, nodeHost } from "./host.js";

export interface UnpackImageOptions {
  readonly host?: Host;
}

/** Larger layers are refused: the demo's images carry one app bundle each. */
const MAX_LAYER_BYTES = 1 << 30;
/** Written last into an unpacked root: the image digest it holds, so a later call can reuse it. */
const DONE_MARKER = ".localrun-image";

/**
 * Unpacks an image of an OCI layout into `dir` (layers in order, OCI whiteouts applied) and
 * returns `dir`. `reference` is matched by its digest when pinned (`...@sha256:<hex>`), else by the
 * layout's ref name. A `dir` that already holds the same image is reused; anything else there is
 * replaced. The unpacked tree is the read-only lower layer of every container of that image.
 */
export function unpackImage(
  layoutDir: string,
  reference: string,
  dir: string,
  options: UnpackImageOptions = {},
): Promise<string> {
  // Two pods starting from one image at once share one unpacking of it.
  const key = `${dir}\0${layoutDir}\0${reference}`;
  let running = inFlight.get(key);
  if (running === undefined) {
    running = unpack(layoutDir, reference, dir, options).finally(() => inFlight.delete(key));
    inFlight.set(key, running);
  }
  return running;
}

const inFlight = new Map<string, Promise<string>>();

async function unpack(layoutDir: string, reference: string, dir: string, options: UnpackImageOptions): Promise<string> {
  const host = options.host ?? nodeHost;
  const layoutFs: LayoutFileSystem = {
    mkdir: (path) => host.fs.mkdir(path),
    writeFile: (path, data) => host.fs.writeFile(path, data),
    readFile: (path) => host.fs.readFile(path),
  };
  const images = await readOciLayoutImages(layoutFs, layoutDir);
  const at = reference.lastIndexOf("@");
  const digest = at >= 0 ? reference.slice(at + 1) : undefined;
  const image =
    images.find((i) => (digest === undefined ? i.name === reference : i.digest === digest)) ??
    (digest === undefined ? undefined : images.find((i) => i.name === reference.slice(0, at)));
  if (image === undefined) {
    throw new LocalrunError("LOCALRUN_IMAGE_NOT_FOUND", `image ${reference} is not in the OCI layout ${layoutDir}`, {
      hint: `The layout holds: ${images.map((i) => `${i.name}@${i.digest}`).join(", ") || "no named images"}. Build the demo images again.`,
      details: { reference, layoutDir },
    });
  }
  const marker = await host.fs.readFile(`${dir}/${DONE_MARKER}`);
  if (marker !== undefined && Buffer.from(marker).toString("utf8").trim() === image.digest) return dir;

  const staging = `${dir}.unpacking`;
  await host.fs.rm(staging);
  await host.fs.mkdir(staging, 0o755);
  const tree = new RootTree(host, staging, reference);
  for (const layer of image.blobs.slice(1)) {
    const blob = await readLayoutBlob(layoutFs, layoutDir, layer.digest, layer.size);
    let tar: Uint8Array;
    if (layer.mediaType.endsWith("+gzip") || layer.mediaType.endsWith(".gzip")) {
      tar = gunzipSingleMember(blob, MAX_LAYER_BYTES);
    } else if (layer.mediaType.endsWith(".tar") || layer.mediaType.endsWith("layer.v1.tar")) {
      tar = blob;
    } else {
      throw layerInvalid(
        reference,
        `layer ${layer.digest} has media type ${layer.mediaType}; only tar and tar+gzip are unpacked`,
      );
    }
    await tree.apply(readTar(tar, reference));
  }
  await host.fs.writeFile(`${staging}/${DONE_MARKER}`, `${image.digest}\n`);
  await host.fs.rm(dir);
  await host.fs.rename(staging, dir);
  return dir;
}

function layerInvalid(reference: string, message: string): LocalrunError {
  return new LocalrunError("LOCALRUN_IMAGE_LAYER_INVALID", `image ${reference}: ${message}`, {
    hint: "Rebuild the image; layers must be tar or gzip-compressed tar with clean relative paths.",
    details: { reference },
  });
}

interface TarEntry {
  readonly path: string;
  readonly type: "file" | "directory" | "symlink" | "hardlink" | "other";
  readonly mode: number;
  readonly linkName: string;
  readonly data: Uint8Array;
}

const decoder = new TextDecoder();

function field(block: Uint8Array, offset: number, length: number): string {
  const bytes = block.subarray(offset, offset + length);
  const nul = bytes.indexOf(0);
  return decoder.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
}

function octal(block: Uint8Array, offset: number, length: number, reference: string): number {
  const first = block[offset] ?? 0;
  if ((first & 0x80) !== 0) {
    // GNU base-256 for sizes beyond 8 GiB; the demo never has those.
    throw layerInvalid(reference, "a tar header uses base-256 numbers, which are not supported");
  }
  const text = field(block, offset, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text))
    throw layerInvalid(reference, `a tar header has a malformed number ${JSON.stringify(text)}`);
  return Number.parseInt(text, 8);
}

function paxRecords(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const text = decoder.decode(data);
  let pos = 0;
  while (pos < text.length) {
    const space = text.indexOf(" ", pos);
    if (space < 0) break;
    const length = Number(text.slice(pos, space));
    if (!Number.isSafeInteger(length) || length <= 0) break;
    // Lengths count bytes; PAX paths in our images are ASCII, where bytes and characters agree.
    const record = text.slice(space + 1, pos + length - 1);
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += length;
  }
  return out;
}

/** The entries of a tar (ustar, PAX and GNU long names), with normalised relative paths. */
export function readTar(tar: Uint8Array, reference: string): TarEntry[] {
  const entries: TarEntry[] = [];
  let pos = 0;
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  while (pos + 512 <= tar.length) {
    const header = tar.subarray(pos, pos + 512);
    if (header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12, reference);
    const typeflag = String.fromCharCode(header[156] ?? 0);
    const dataStart = pos + 512;
    if (dataStart + size > tar.length) throw layerInvalid(reference, "a tar member is cut off");
    const data = tar.subarray(dataStart, dataStart + size);
    pos = dataStart + Math.ceil(size / 512) * 512;
    if (typeflag === "x") {
      pax = paxRecords(data);
      continue;
    }
    if (typeflag === "g") continue;
    if (typeflag === "L") {
      longName = field(data, 0, data.length);
      continue;
    }
    if (typeflag === "K") {
      longLink = field(data, 0, data.length);
      continue;
    }
    const magic = field(header, 257, 6);
    const prefix = magic === "ustar" ? field(header, 345, 155) : "";
    const rawName =
      pax.get("path") ?? longName ?? (prefix === "" ? field(header, 0, 100) : `${prefix}/${field(header, 0, 100)}`);
    const linkName = pax.get("linkpath") ?? longLink ?? field(header, 157, 100);
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    const path = cleanPath(rawName, reference);
    if (path === "") continue; // the root itself ("./")
    const type =
      typeflag === "0" || typeflag === "\0" || typeflag === "7"
        ? "file"
        : typeflag === "5"
          ? "directory"
          : typeflag === "2"
            ? "symlink"
            : typeflag === "1"
              ? "hardlink"
              : "other";
    entries.push({ path, type, mode: octal(header, 100, 8, reference) & 0o7777, linkName, data });
  }
  return entries;
}

function cleanPath(raw: string, reference: string): string {
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) throw layerInvalid(reference, `tar path ${JSON.stringify(raw)} leaves the root`);
  return parts.join("/");
}

/**
 * The root being unpacked. Every write checks that no parent on the way is a symlink, so a layer
 * cannot make the (root-privileged) unpacker write outside the tree through a link it planted.
 */
class RootTree {
  private readonly knownDirs = new Set<string>([""]);

  constructor(
    private readonly host: Host,
    private readonly root: string,
    private readonly reference: string,
  ) {}

  async apply(entries: readonly TarEntry[]): Promise<void> {
    // Whiteouts of a layer apply to the layers below it, so they go first; an opaque marker
    // empties its directory of what lower layers put there.
    for (const e of entries) {
      const slash = e.path.lastIndexOf("/");
      const parent = slash < 0 ? "" : e.path.slice(0, slash);
      const base = e.path.slice(slash + 1);
      if (base === ".wh..wh..opq") {
        await this.ensureParents(`${e.path}`);
        const dir = this.abs(parent);
        for (const name of await this.host.fs.readdir(dir).catch(() => [] as string[])) {
          await this.host.fs.rm(`${dir}/${name}`);
        }
      } else if (base.startsWith(".wh.")) {
        await this.ensureParents(e.path);
        await this.host.fs.rm(this.abs(parent === "" ? base.slice(4) : `${parent}/${base.slice(4)}`));
        this.forget(parent === "" ? base.slice(4) : `${parent}/${base.slice(4)}`);
      }
    }
    for (const e of entries) {
      const base = e.path.slice(e.path.lastIndexOf("/") + 1);
      if (base.startsWith(".wh.")) continue;
      await this.ensureParents(e.path);
      const target = this.abs(e.path);
      const existing = await this.host.fs.lstat(target);
      if (e.type === "directory") {
        if (existing !== undefined && existing.type !== "directory") await this.host.fs.rm(target);
        await this.host.fs.mkdir(target, e.mode || 0o755);
        await this.host.fs.chmod(target, e.mode || 0o755);
        this.knownDirs.add(e.path);
        continue;
      }
      if (existing !== undefined) {
        await this.host.fs.rm(target);
        this.forget(e.path);
      }
      if (e.type === "file") {
        await this.host.fs.writeFile(target, e.data, e.mode || 0o644);
      } else if (e.type === "symlink") {
        await this.host.fs.symlink(e.linkName, target);
      } else if (e.type === "hardlink") {
        const source = cleanPath(e.linkName, this.reference);
        await this.ensureParents(source);
        await this.host.fs.link(this.abs(source), target);
      }
      // Devices and FIFOs are skipped: a container's /dev is the host's, bound in.
    }
  }

  private abs(path: string): string {
    return path === "" ? this.root : `${this.root}/${path}`;
  }

  private forget(path: string): void {
    for (const d of this.knownDirs) if (d === path || d.startsWith(`${path}/`)) this.knownDirs.delete(d);
  }

  /** Creates missing parents of `path` and refuses a parent that is a symlink or a file. */
  private async ensureParents(path: string): Promise<void> {
    const parts = path.split("/").slice(0, -1);
    let current = "";
    for (const part of parts) {
      current = current === "" ? part : `${current}/${part}`;
      if (this.knownDirs.has(current)) continue;
      const stat = await this.host.fs.lstat(this.abs(current));
      if (stat === undefined) {
        await this.host.fs.mkdir(this.abs(current), 0o755);
      } else if (stat.type !== "directory") {
        throw layerInvalid(
          this.reference,
          `tar path ${JSON.stringify(path)} goes through ${current}, which is not a directory`,
        );
      }
      this.knownDirs.add(current);
    }
  }
}
