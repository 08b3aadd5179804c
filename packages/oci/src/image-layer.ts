import { createHash } from "node:crypto";
import { ImageError } from "./errors.js";
import { gzipDeterministic } from "./gzip.js";

/** One filesystem entry of a layer to build. Paths are absolute in-image paths ("/usr/local/bin/node"). */
export type LayerEntry =
  | { readonly type: "file"; readonly path: string; readonly content: Uint8Array; readonly mode?: number }
  | { readonly type: "directory"; readonly path: string; readonly mode?: number }
  | { readonly type: "symlink"; readonly path: string; readonly target: string };

export interface BuildLayerOptions {
  /**
   * Modification time of every entry in seconds since the epoch (SOURCE_DATE_EPOCH); 0 when
   * absent. Never the clock: the same inputs must give the same bytes on every machine and day.
   */
  readonly mtime?: number;
}

/** A built layer: the tar, its gzip blob and the two hashes an image needs. */
export interface BuiltLayer {
  readonly mediaType: "application/vnd.oci.image.layer.v1.tar+gzip";
  /** The uncompressed tar. */
  readonly tar: Uint8Array;
  /** The blob as stored and pushed. */
  readonly gz: Uint8Array;
  /** sha256 of the tar (the config's rootfs.diff_ids entry). */
  readonly diffId: string;
  /** sha256 of the blob. */
  readonly digest: string;
  /** Size of the blob in bytes. */
  readonly size: number;
}

export const sha256Digest = (bytes: Uint8Array): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

function layerInvalid(message: string, path: string): ImageError {
  return new ImageError("IMAGE_LAYER_INVALID", message, {
    kind: "input",
    hint: "Layer paths must be absolute, normalised (no '.', '..' or '//') and listed once each.",
    details: { path },
  });
}

/** "/usr/lib/x" → "usr/lib/x", refusing anything a tar reader could resolve elsewhere. */
function relativePath(path: string): string {
  if (!path.startsWith("/") || path === "/")
    throw layerInvalid(`layer path ${JSON.stringify(path)} is not absolute`, path);
  const rel = path.slice(1).replace(/\/$/, "");
  for (const part of rel.split("/")) {
    if (part === "" || part === "." || part === "..") {
      throw layerInvalid(`layer path ${JSON.stringify(path)} is not normalised`, path);
    }
  }
  if (rel.includes("\0")) throw layerInvalid("layer path contains a NUL byte", path);
  return rel;
}

const BLOCK = 512;
const encoder = new TextEncoder();

function writeString(block: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  block.set(bytes.subarray(0, length), offset);
}

/** An octal field, NUL-terminated, zero-padded to its width (as GNU tar and Go write them). */
function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length - 1, value.toString(8).padStart(length - 1, "0"));
}

/** A PAX record "<len> <key>=<value>\n", where len counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = encoder.encode(body).length;
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length = String(length).length + bodyLength;
  return `${length}${body}`;
}

interface Header {
  readonly name: string;
  readonly mode: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: string;
  readonly linkname: string;
}

/** A ustar header; a name or link beyond 100 bytes is cut here, its PAX record says the rest. */
function headerBlock(h: Header): Uint8Array {
  const block = new Uint8Array(BLOCK);
  writeString(block, 0, 100, h.name);
  writeOctal(block, 100, 8, h.mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, h.size);
  writeOctal(block, 136, 12, h.mtime);
  block.fill(0x20, 148, 156);
  writeString(block, 156, 1, h.typeflag);
  writeString(block, 157, 100, h.linkname);
  writeString(block, 257, 6, "ustar");
  writeString(block, 263, 2, "00");
  writeString(block, 265, 32, "root");
  writeString(block, 297, 32, "root");
  let sum = 0;
  for (const b of block) sum += b;
  writeString(block, 148, 7, `${sum.toString(8).padStart(6, "0")}\0`);
  return block;
}

const fits = (s: string): boolean => encoder.encode(s).length <= 100;

/**
 * A POSIX tar of the entries: sorted by path, every parent directory present (added with mode
 * 0755 when not listed), owner root:root (uid/gid 0), one fixed mtime, and PAX records only for
 * names longer than the ustar field. No host state enters it, so equal entries give equal bytes.
 */
export function buildTar(entries: readonly LayerEntry[], options: BuildLayerOptions = {}): Uint8Array {
  const mtime = options.mtime ?? 0;
  if (!Number.isSafeInteger(mtime) || mtime < 0) {
    throw layerInvalid(`layer mtime ${mtime} is not a non-negative whole number of seconds`, "");
  }
  const byPath = new Map<string, LayerEntry>();
  for (const e of entries) {
    const rel = relativePath(e.path);
    if (byPath.has(rel)) throw layerInvalid(`layer path ${e.path} is listed twice`, e.path);
    byPath.set(rel, e);
  }
  for (const rel of [...byPath.keys()]) {
    const parts = rel.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const existing = byPath.get(parent);
      if (existing === undefined) byPath.set(parent, { type: "directory", path: `/${parent}` });
      else if (existing.type !== "directory") {
        throw layerInvalid(`layer path ${existing.path} is a ${existing.type} but holds ${rel}`, existing.path);
      }
    }
  }
  // Byte order of the UTF-8 paths, not locale order: the same on every machine.
  const sorted = [...byPath.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const blocks: Uint8Array[] = [];
  let paxCount = 0;
  for (const [rel, e] of sorted) {
    const name = e.type === "directory" ? `${rel}/` : rel;
    const linkname = e.type === "symlink" ? e.target : "";
    if (e.type === "symlink" && (e.target === "" || e.target.includes("\0"))) {
      throw layerInvalid(`symlink ${e.path} has an empty or invalid target`, e.path);
    }
    const size = e.type === "file" ? e.content.length : 0;
    const mode = e.type === "symlink" ? 0o777 : (e.mode ?? (e.type === "directory" ? 0o755 : 0o644));
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
      throw layerInvalid(`layer entry ${e.path} has an invalid mode ${mode}`, e.path);
    }
    if (!fits(name) || !fits(linkname)) {
      let records = "";
      if (!fits(name)) records += paxRecord("path", name);
      if (!fits(linkname)) records += paxRecord("linkpath", linkname);
      const data = encoder.encode(records);
      paxCount++;
      blocks.push(
        headerBlock({
          name: `PaxHeaders.0/${paxCount}`,
          mode: 0o644,
          size: data.length,
          mtime,
          typeflag: "x",
          linkname: "",
        }),
      );
      blocks.push(padded(data));
    }
    blocks.push(
      headerBlock({
        name,
        mode,
        size,
        mtime,
        typeflag: e.type === "file" ? "0" : e.type === "directory" ? "5" : "2",
        linkname,
      }),
    );
    if (e.type === "file" && size > 0) blocks.push(padded(e.content));
  }
  blocks.push(new Uint8Array(2 * BLOCK));
  return Buffer.concat(blocks);
}

function padded(data: Uint8Array): Uint8Array {
  const rem = data.length % BLOCK;
  if (rem === 0) return data;
  const out = new Uint8Array(data.length + BLOCK - rem);
  out.set(data);
  return out;
}

/** Fixed, as everything else that shapes the blob: changing it changes every layer digest. */
export const LAYER_GZIP_LEVEL = 6;

/** A gzip-compressed layer of the entries (see `buildTar`), compressed with `gzipDeterministic`. */
export function buildLayer(entries: readonly LayerEntry[], options: BuildLayerOptions = {}): BuiltLayer {
  const tar = buildTar(entries, options);
  const gz = gzipDeterministic(tar, LAYER_GZIP_LEVEL);
  return {
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    tar,
    gz,
    diffId: sha256Digest(tar),
    digest: sha256Digest(gz),
    size: gz.length,
  };
}
