// Builds every app's image (runtime layer + app layer) into one OCI image layout and writes
// images.json next to it. Reproducible: no clock, host name, user, temp path or directory order
// goes into an output; file modes are normalised, mtimes fixed (0 or SOURCE_DATE_EPOCH).
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, posix, relative } from "node:path";
import {
  buildImage,
  buildLayer,
  ImageError,
  nodeLayoutFileSystem,
  parseImageSpec,
  writeOciLayout,
} from "@contrast/oci";
import { copyHostPath, debianPackages, lddPaths, runtimeEntries } from "./runtime.mjs";

export const IMAGES_SCHEMA = "contrast-images/v1";
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * @typedef {{ dir: string, rel: string, version: string, spec: import("@contrast/oci").ImageSpec }} AppImage
 * @typedef {{ readFile?: (path: string) => Uint8Array }} Reader
 */

/**
 * The apps under `<root>/apps` whose package.json has an "image" section, sorted by directory.
 * @param {string} root
 * @returns {AppImage[]}
 */
export function findAppImages(root) {
  const apps = join(root, "apps");
  /** @type {AppImage[]} */
  const out = [];
  for (const name of readdirSync(apps).sort()) {
    const pkgPath = join(apps, name, "package.json");
    if (!existsSync(pkgPath)) continue;
    const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
    if (pkg.image === undefined) continue;
    const rel = `apps/${name}/package.json`;
    out.push({ dir: join(apps, name), rel, version: String(pkg.version), spec: parseImageSpec(pkg.image, rel) });
  }
  return out;
}

/**
 * Files under `dir`, relative, sorted bytewise, recursing into directories.
 * @param {string} dir
 * @returns {string[]}
 */
function listFiles(dir) {
  /** @type {string[]} */
  const out = [];
  const walk = (/** @type {string} */ d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(dir, p).split("\\").join("/"));
    }
  };
  walk(dir);
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * A glob segment pattern ("*" any run without "/", "**" any run) as a RegExp.
 * @param {string} glob
 */
function globRegExp(glob) {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
      if (glob[i + 1] === "/") i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += /** @type {string} */ (c).replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/**
 * The file mode in the image: 0755 when the source has any execute bit, else 0644, so a
 * checkout's umask cannot change the layer.
 * @param {string} path
 */
const imageMode = (path) => (statSync(path).mode & 0o111 ? 0o755 : 0o644);

/**
 * The layer entries of an app's "files": plain files, directories copied with their contents,
 * and globs whose matches go under the target directory by their path below the glob's fixed part.
 * @param {AppImage} app
 * @param {Reader} [reader]
 * @returns {import("@contrast/oci").LayerEntry[]}
 */
export function appEntries(app, reader = {}) {
  const read = reader.readFile ?? ((p) => readFileSync(p));
  /** @type {import("@contrast/oci").LayerEntry[]} */
  const entries = [];
  const add = (/** @type {string} */ src, /** @type {string} */ dest) => {
    entries.push({ type: "file", path: dest, content: read(src), mode: imageMode(src) });
  };
  for (const [from, to] of Object.entries(app.spec.files)) {
    if (/[*?]/.test(from)) {
      const fixed = from.split("/").filter((_, i, parts) => !/[*?]/.test(parts.slice(0, i + 1).join("/")));
      const base = join(app.dir, ...fixed);
      const re = globRegExp(from);
      const matches = existsSync(base) ? listFiles(base).filter((f) => re.test([...fixed, f].join("/"))) : [];
      if (matches.length === 0) {
        throw new ImageError("IMAGE_BUILD_INPUT_MISSING", `${from} of ${app.rel} matches no file`, {
          hint: 'Build the apps first (pnpm build, or pnpm images, which builds them) and check the image\'s "files" section.',
          details: { path: join(app.dir, from) },
        });
      }
      for (const m of matches) add(join(base, m), posix.join(to, m));
      continue;
    }
    const src = join(app.dir, from);
    if (!existsSync(src)) {
      throw new ImageError("IMAGE_BUILD_INPUT_MISSING", `${from} of ${app.rel} does not exist`, {
        hint: 'Build the apps first (pnpm build, or pnpm images, which builds them) and check the image\'s "files" section.',
        details: { path: src },
      });
    }
    if (statSync(src).isDirectory()) for (const f of listFiles(src)) add(join(src, f), posix.join(to, f));
    else add(src, to);
  }
  return entries;
}

/**
 * Native addons (.node) the app carries must load with the runtime layer's libraries alone.
 * @param {AppImage} app
 * @param {ReadonlySet<string>} runtimePaths every path the runtime layer holds
 */
function checkAddons(app, runtimePaths) {
  for (const [from] of Object.entries(app.spec.files)) {
    if (!from.endsWith(".node")) continue;
    /** @type {Map<string, import("@contrast/oci").LayerEntry>} */
    const needed = new Map();
    for (const lib of lddPaths(join(app.dir, from))) copyHostPath(lib, needed);
    const lacking = [...needed.keys()].filter((p) => !runtimePaths.has(p));
    if (lacking.length > 0) {
      throw new ImageError(
        "IMAGE_BUILD_INPUT_MISSING",
        `${from} of ${app.rel} needs ${lacking.join(", ")}, which the runtime layer lacks`,
        {
          hint: "Link the addon only against libraries Node itself uses, or add them to the runtime layer.",
          details: { path: join(app.dir, from) },
        },
      );
    }
  }
}

/**
 * The app's `hostFiles`: each host program (or each file of a host directory) at its own path,
 * with the symlinks on the way and the libraries it needs that the runtime layer does not hold.
 * @param {AppImage} app
 * @param {ReadonlySet<string>} runtimePaths
 * @returns {{ entries: import("@contrast/oci").LayerEntry[], files: string[] }}
 */
function hostFileEntries(app, runtimePaths) {
  /** @type {Map<string, import("@contrast/oci").LayerEntry>} */
  const map = new Map();
  /** @type {string[]} */
  const files = [];
  for (const h of app.spec.hostFiles) {
    // A directory stands for the files directly in it: plugins a program loads at run time
    // (iptables' xtables extensions), which ldd cannot name.
    const paths = statSync(h, { throwIfNoEntry: false })?.isDirectory()
      ? readdirSync(h)
          .sort()
          .map((name) => posix.join(h, name))
          .filter((p) => !lstatSync(p).isDirectory())
      : [h];
    for (const path of paths) {
      files.push(copyHostPath(path, map));
      for (const lib of lddPaths(path)) files.push(copyHostPath(lib, map));
    }
  }
  return {
    entries: [...map.values()].filter((e) => !runtimePaths.has(e.path)),
    files: [...new Set(files)].filter((f) => !runtimePaths.has(f)).sort(),
  };
}

/**
 * @typedef {{
 *   root: string,
 *   out: string,
 *   version?: string,
 *   sourceDateEpoch?: number,
 *   only?: readonly string[],
 *   readFile?: (path: string) => Uint8Array,
 * }} BuildOptions
 */

/**
 * Builds the images and writes the layout and images.json to `out`, which must be absent,
 * empty, or an earlier layout (it is replaced).
 * @param {BuildOptions} options
 */
export async function buildImages(options) {
  const { root, out } = options;
  checkOut(out);
  const mtime = options.sourceDateEpoch ?? 0;
  const reader = options.readFile === undefined ? {} : { readFile: options.readFile };
  let apps = findAppImages(root);
  if (options.only !== undefined) {
    const unknown = options.only.filter((n) => !apps.some((a) => a.spec.name === n));
    if (unknown.length > 0) {
      throw new ImageError("IMAGE_SPEC_INVALID", `no app has an image named ${unknown.join(", ")}`, {
        hint: `Images: ${apps.map((a) => a.spec.name).join(", ")}.`,
      });
    }
    apps = apps.filter((a) => options.only?.includes(a.spec.name));
  }
  const version =
    options.version ?? JSON.parse(readFileSync(join(root, "apps", "cli", "package.json"), "utf8")).version;
  const runtime = runtimeEntries(reader);
  const runtimePaths = new Set(runtime.entries.map((e) => e.path));
  // Every input is read and checked before the slow part (compressing the runtime layer), so a
  // missing bundle fails in a second.
  const inputs = apps.map((app) => {
    checkAddons(app, runtimePaths);
    const host = hostFileEntries(app, runtimePaths);
    return { app, host, entries: [...appEntries(app, reader), ...host.entries] };
  });
  const runtimeLayer = buildLayer(runtime.entries, { mtime });
  const created =
    options.sourceDateEpoch === undefined ? undefined : new Date(mtime * 1000).toISOString().replace(/\.000Z$/, "Z");
  /** @type {{ name: string, image: import("@contrast/oci").BuiltOciImage }[]} */
  const images = [];
  for (const { app, host, entries } of inputs) {
    const appLayer = buildLayer(entries, { mtime });
    /** @type {Record<string, string>} */
    const labels = {
      "org.opencontainers.image.title": app.spec.name,
      "org.opencontainers.image.version": version,
      "org.opencontainers.image.licenses": "Apache-2.0",
      "org.contrast.runtime.node": runtime.nodeVersion,
      "org.contrast.runtime.debian-packages": runtime.debianPackages,
    };
    if (host.files.length > 0) labels["org.contrast.app.debian-packages"] = debianPackages(host.files);
    const image = buildImage({
      layers: [runtimeLayer, appLayer],
      config: {
        entrypoint: app.spec.entrypoint,
        cmd: app.spec.cmd,
        env: { PATH: DEFAULT_PATH, ...app.spec.env },
        ports: app.spec.ports,
        workdir: app.spec.workdir,
        ...(app.spec.user === undefined ? {} : { user: app.spec.user }),
        labels,
      },
      annotations: {
        "org.opencontainers.image.title": app.spec.name,
        "org.opencontainers.image.version": version,
      },
      history: [`contrast runtime: node ${runtime.nodeVersion} and host libraries`, `contrast app: ${app.spec.name}`],
      ...(created === undefined ? {} : { created }),
    });
    images.push({ name: app.spec.name, image });
  }
  prepareOut(out);
  await writeOciLayout(nodeLayoutFileSystem, out, images);
  const doc = imagesDocument(version, images, runtime, runtimeLayer.digest);
  writeFileSync(join(out, "images.json"), `${JSON.stringify(doc, null, 2)}\n`);
  return doc;
}

/**
 * Refuses a directory that is neither empty nor a layout: `--out .` must not wipe a checkout.
 * Checked before the (long) build and again before clearing.
 * @param {string} out
 */
function checkOut(out) {
  if (!existsSync(out)) return;
  const names = readdirSync(out);
  if (names.length > 0 && !names.includes("oci-layout")) {
    throw new ImageError("OCI_LAYOUT_INVALID", `${out} is neither empty nor an OCI image layout; not replacing it`, {
      hint: "Choose an empty or new output directory (default build/images).",
      details: { dir: out },
    });
  }
}

/** @param {string} out */
function prepareOut(out) {
  checkOut(out);
  rmSync(out, { recursive: true, force: true });
}

/**
 * @param {string} version
 * @param {{ name: string, image: import("@contrast/oci").BuiltOciImage }[]} images
 * @param {{ nodeVersion: string, debianPackages: string, libraries: string[] }} runtime
 * @param {string} runtimeDigest
 */
function imagesDocument(version, images, runtime, runtimeDigest) {
  const sorted = [...images].sort((a, b) => (a.name < b.name ? -1 : 1));
  return {
    schema: IMAGES_SCHEMA,
    version,
    images: Object.fromEntries(
      sorted.map(({ name, image }) => [
        name,
        {
          name,
          digest: image.digest,
          mediaType: image.manifest.mediaType,
          size: image.manifest.bytes.length,
          layers: image.layers.map((l) => ({ digest: l.digest, size: l.size, diffId: l.diffId })),
          config: image.config.digest,
        },
      ]),
    ),
    runtime: {
      node: runtime.nodeVersion,
      layer: runtimeDigest,
      libraries: runtime.libraries,
      debianPackages: runtime.debianPackages,
    },
  };
}
