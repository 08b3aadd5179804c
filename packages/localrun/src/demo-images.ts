// The demo's images: each app's layer alone, without the Node runtime layer of the release images
// (the local runtime binds the host's Node at /usr/local/bin/node, where the runtime layer puts
// it), written to an OCI layout that the runtime unpacks and the policy generator reads.
import { readdir, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import { parseJson } from "@contrast/core";
import {
  type BuiltOciImage,
  buildImage,
  buildLayer,
  createOciLayoutSource,
  exportImageMetadata,
  type ImageFileSystem,
  type ImageSpec,
  type LayerEntry,
  type LayoutFileSystem,
  nodeFileSystem,
  nodeLayoutFileSystem,
  parseImageSpec,
  writeOciLayout,
} from "@contrast/oci";
import { AdmissionError } from "./admission-error-codes.js";

/** One app to build: its package directory (with a package.json that has an "image" section). */
export interface DemoApp {
  /** The image name; must equal the package.json `"image".name`. */
  readonly name: string;
  readonly packageDir: string;
}

/** What the build reads (the apps' files) and writes (the layout, the metadata file). */
export interface DemoImagesFileSystem extends LayoutFileSystem, ImageFileSystem {
  readFile(path: string): Promise<Uint8Array | undefined>;
  /** The entries of a directory, or undefined when it is not one. */
  list(dir: string): Promise<readonly { readonly name: string; readonly directory: boolean }[] | undefined>;
  /** True when any execute bit is set (the layer's mode is 0755 then, else 0644). */
  executable(path: string): Promise<boolean>;
}

export const nodeDemoImagesFileSystem: DemoImagesFileSystem = {
  ...nodeFileSystem,
  mkdir: nodeLayoutFileSystem.mkdir,
  writeFile: nodeLayoutFileSystem.writeFile,
  readFile: nodeFileSystem.readFile,
  async list(dir) {
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      return entries
        .filter((e) => e.isFile() || e.isDirectory())
        .map((e) => ({ name: e.name, directory: e.isDirectory() }));
    } catch {
      return undefined;
    }
  },
  async executable(path) {
    return ((await stat(path)).mode & 0o111) !== 0;
  },
};

export interface BuildDemoImagesOptions {
  readonly apps: readonly DemoApp[];
  /** The OCI layout directory to write (created; blobs already there are kept). */
  readonly layoutDir: string;
  /** The tag of every image, e.g. the CLI's version. */
  readonly version: string;
  /** Where the image-metadata file goes; default `<layoutDir>/image-metadata.json`. */
  readonly metadataFile?: string;
  readonly fs?: DemoImagesFileSystem;
}

export interface DemoImage {
  readonly name: string;
  /** `localhost/contrast-demo/<name>:<version>@sha256:<digest>`. */
  readonly reference: string;
  /** The manifest digest, "sha256:<hex>". */
  readonly digest: string;
}

export interface DemoImages {
  readonly images: readonly DemoImage[];
  /** The `--image-metadata` file (exportImageMetadata) describing every image. */
  readonly metadataFile: string;
}

export const DEMO_IMAGE_REPOSITORY = "localhost/contrast-demo";
/** PATH of the release images' config (tools/images): the demo images run the same programs. */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function appError(app: DemoApp, message: string, cause?: unknown): AdmissionError {
  return new AdmissionError("LOCALRUN_IMAGE_APP_INVALID", `${app.name} (${app.packageDir}): ${message}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { app: app.name, packageDir: app.packageDir },
  });
}

/** Files under `dir`, relative, sorted bytewise, recursing into directories. */
async function listFiles(fs: DemoImagesFileSystem, dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const e of (await fs.list(rel === "" ? dir : join(dir, rel))) ?? []) {
      const p = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.directory) await walk(p);
      else out.push(p);
    }
  };
  await walk("");
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** A glob ("*" within a segment, "**" across segments, "?" one character) as a RegExp. */
function globRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
      if (glob[i + 1] === "/") i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The app layer's entries from the spec's "files", as tools/images lays them out. */
async function appEntries(fs: DemoImagesFileSystem, app: DemoApp, spec: ImageSpec): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  const add = async (src: string, dest: string) => {
    const content = await fs.readFile(src);
    if (content === undefined) throw appError(app, `${src} does not exist; build the app first`);
    entries.push({ type: "file", path: dest, content, mode: (await fs.executable(src)) ? 0o755 : 0o644 });
  };
  for (const [from, to] of Object.entries(spec.files)) {
    if (/[*?]/.test(from)) {
      const parts = from.split("/");
      const fixed = parts.slice(
        0,
        parts.findIndex((p) => /[*?]/.test(p)),
      );
      const base = join(app.packageDir, ...fixed);
      const re = globRegExp(from);
      const matches = (await listFiles(fs, base)).filter((f) => re.test([...fixed, f].join("/")));
      if (matches.length === 0) throw appError(app, `${from} matches no file; build the app first`);
      for (const m of matches) await add(join(base, m), posix.join(to, m));
      continue;
    }
    const src = join(app.packageDir, from);
    const inside = await fs.list(src);
    if (inside !== undefined) {
      for (const f of await listFiles(fs, src)) await add(join(src, f), posix.join(to, f));
    } else await add(src, to);
  }
  return entries;
}

async function readSpec(fs: DemoImagesFileSystem, app: DemoApp): Promise<ImageSpec> {
  const where = join(app.packageDir, "package.json");
  const bytes = await fs.readFile(where);
  if (bytes === undefined) throw appError(app, "has no package.json");
  let pkg: unknown;
  try {
    pkg = parseJson(bytes, { source: where });
  } catch (e) {
    throw appError(app, "package.json is not JSON", e);
  }
  const image = pkg !== null && typeof pkg === "object" ? (pkg as { image?: unknown }).image : undefined;
  if (image === undefined) throw appError(app, 'package.json has no "image" section');
  const spec = parseImageSpec(image, where);
  if (spec.name !== app.name) throw appError(app, `package.json names its image ${spec.name}, not ${app.name}`);
  return spec;
}

/**
 * Builds one image per app from its package.json "image" section: a single app layer (the
 * section's files; `hostFiles` are left out, as the local runtime binds the host's /usr and /lib
 * into every container) and the section's entrypoint, cmd, env, ports, workdir and user. Writes
 * the layout and the image-metadata file of the pinned references. Equal inputs give equal
 * digests (fixed mtimes, no build date).
 */
export async function buildDemoImages(options: BuildDemoImagesOptions): Promise<DemoImages> {
  const fs = options.fs ?? nodeDemoImagesFileSystem;
  const built: { name: string; tagged: string; image: BuiltOciImage }[] = [];
  for (const app of options.apps) {
    const spec = await readSpec(fs, app);
    const layer = buildLayer(await appEntries(fs, app, spec));
    const image = buildImage({
      layers: [layer],
      config: {
        entrypoint: spec.entrypoint,
        cmd: spec.cmd,
        env: { PATH: DEFAULT_PATH, ...spec.env },
        ports: spec.ports,
        workdir: spec.workdir,
        ...(spec.user === undefined ? {} : { user: spec.user }),
        labels: {
          "org.opencontainers.image.title": spec.name,
          "org.opencontainers.image.version": options.version,
          "org.contrast.demo": "app layer only; the runtime provides node and the host's libraries",
        },
      },
      annotations: {
        "org.opencontainers.image.title": spec.name,
        "org.opencontainers.image.version": options.version,
      },
      history: [`contrast demo app: ${spec.name}`],
    });
    built.push({ name: spec.name, tagged: `${DEMO_IMAGE_REPOSITORY}/${spec.name}:${options.version}`, image });
  }
  await fs.mkdir(options.layoutDir);
  await writeOciLayout(
    fs,
    options.layoutDir,
    built.map((b) => ({ name: b.tagged, image: b.image })),
  );
  const images = built.map((b) => ({
    name: b.name,
    reference: `${b.tagged}@${b.image.digest}`,
    digest: b.image.digest,
  }));
  const metadataFile = options.metadataFile ?? join(options.layoutDir, "image-metadata.json");
  // The sim profile's tarfs flavour is kata's; hashing on this thread keeps the library free of
  // worker files a bundle would have to carry (the app layers are small).
  const source = createOciLayoutSource({ dir: options.layoutDir, fs, tarfs: "kata", hashThreads: 0 });
  try {
    await exportImageMetadata({ source, references: images.map((i) => i.reference), fs, path: metadataFile });
  } finally {
    await source.close();
  }
  return { images, metadataFile };
}
