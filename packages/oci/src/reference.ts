import { ImageError } from "./errors.js";

/**
 * A container image reference in its normalised form, as container tools resolve it:
 * `nginx` is `docker.io/library/nginx:latest`. `tag` is absent only when a digest pins the image
 * without one (`name@sha256:…`).
 */
export interface ImageReference {
  /** The registry as users write it (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  /** The repository path inside the registry (`library/nginx`). */
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<64 hex>` (or another registered algorithm) when the reference is pinned. */
  readonly digest?: string;
}

export const DOCKER_HUB = "docker.io";
/** Docker Hub's API lives on another host than its name. */
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";
const DEFAULT_TAG = "latest";

// The grammar of github.com/distribution/reference (reference.go), written out as regular
// expressions of our own.
const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const HOST = `(?:${DOMAIN_NAME}|${IPV6})`;
const DOMAIN = `${HOST}(?::[0-9]+)?`;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN}$`);
const MAX_NAME_LENGTH = 255;

function invalid(input: string, why: string): ImageError {
  return new ImageError("IMAGE_REFERENCE_INVALID", `invalid image reference ${JSON.stringify(input)}: ${why}`, {
    hint: "Write references as [registry/]repository[:tag][@sha256:<64 hex digits>], with a lowercase repository.",
    details: { reference: input },
  });
}

/** Checks a digest string; sha256 digests must be 64 lowercase hex digits. */
export function validateDigest(digest: string, input = digest): string {
  if (!DIGEST_RE.test(digest)) throw invalid(input, `malformed digest ${JSON.stringify(digest)}`);
  const [algorithm, hex] = digest.split(":") as [string, string];
  if (algorithm === "sha256" && !/^[0-9a-f]{64}$/.test(hex)) {
    throw invalid(input, "a sha256 digest has exactly 64 lowercase hex digits");
  }
  return digest;
}

/**
 * Parses and normalises a reference. A first path component counts as a registry when it holds
 * a `.` or a `:` or is `localhost` (or is written in upper case, which a repository cannot be),
 * exactly as Docker decides; otherwise the image lives on Docker Hub, where single-component
 * names belong to `library/`.
 */
export function parseImageReference(input: string): ImageReference {
  if (input.length === 0) throw invalid(input, "empty");
  if (input !== input.trim()) throw invalid(input, "leading or trailing white space");
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = validateDigest(rest.slice(at + 1), input);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  // A tag follows the last ':' after the last '/'; a ':' before that belongs to a port.
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.indexOf(":", lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(input, `malformed tag ${JSON.stringify(tag)}`);
  }
  if (rest.length === 0) throw invalid(input, "no repository name");
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase()) {
      registry = first;
      repository = rest.slice(slash + 1);
      if (!DOMAIN_RE.test(registry)) throw invalid(input, `malformed registry ${JSON.stringify(registry)}`);
    }
  }
  if (registry === "index.docker.io" || registry === DOCKER_HUB_API_HOST) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (!PATH_RE.test(repository)) {
    throw invalid(
      input,
      repository !== repository.toLowerCase()
        ? "repository names must be lowercase"
        : `malformed repository ${JSON.stringify(repository)}`,
    );
  }
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    throw invalid(input, `name longer than ${MAX_NAME_LENGTH} characters`);
  }
  if (tag === undefined && digest === undefined) tag = DEFAULT_TAG;
  return {
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** The fully qualified form: `docker.io/library/nginx:latest`, `ghcr.io/a/b:v1@sha256:…`. */
export function formatImageReference(ref: ImageReference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** Normalises a reference string: `nginx` → `docker.io/library/nginx:latest`. */
export function normalizeImageReference(input: string): string {
  return formatImageReference(parseImageReference(input));
}

/**
 * The name containerd gives a pulled image (Docker's normalised reference): fully qualified, and
 * without its tag when a digest pins it (`registry.k8s.io/pause:3.6@sha256:…` becomes
 * `registry.k8s.io/pause@sha256:…`). Its CRI plugin writes this into a container's
 * `io.kubernetes.cri.image-name` annotation, which is what Kata's runtime asks the guest to pull.
 */
export function containerdImageName(input: string): string {
  const ref = parseImageReference(input);
  return ref.digest !== undefined
    ? `${ref.registry}/${ref.repository}@${ref.digest}`
    : `${ref.registry}/${ref.repository}:${ref.tag ?? DEFAULT_TAG}`;
}

/** A reference is pinned when a digest names its content; a tag can move. */
export function isPinned(ref: ImageReference | string): boolean {
  return (typeof ref === "string" ? parseImageReference(ref) : ref).digest !== undefined;
}

export interface UnpinnedReference {
  readonly reference: string;
  readonly normalized: string;
  readonly message: string;
}

/**
 * The references of `inputs` that are not pinned to a digest, each with a warning line: a
 * policy generated for a tag breaks (or admits other code) when the tag moves.
 */
export function findUnpinnedReferences(inputs: Iterable<string>): UnpinnedReference[] {
  const out: UnpinnedReference[] = [];
  const seen = new Set<string>();
  for (const reference of inputs) {
    const parsed = parseImageReference(reference);
    const normalized = formatImageReference(parsed);
    if (parsed.digest !== undefined || seen.has(normalized)) continue;
    seen.add(normalized);
    out.push({
      reference,
      normalized,
      message: `image ${normalized} is not pinned to a digest; the policy breaks when the tag moves (pin it as ${normalized}@sha256:…)`,
    });
  }
  return out;
}

/** The reference with `digest` attached, keeping the tag for readers: `repo:tag@sha256:…`. */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  validateDigest(digest);
  return { ...ref, digest };
}

/** Host (without port) of a registry name, IPv6 brackets removed. */
export function registryHostname(registry: string): string {
  if (registry.startsWith("[")) {
    const end = registry.indexOf("]");
    return registry.slice(1, end);
  }
  const colon = registry.lastIndexOf(":");
  return colon >= 0 ? registry.slice(0, colon) : registry;
}

/**
 * Loopback registries may speak plain HTTP without being listed as insecure, as Docker and
 * containerd allow: 127.0.0.0/8, ::1 and localhost.
 */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registryHostname(registry).toLowerCase();
  if (host === "localhost" || host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m?.slice(1).every((x) => Number(x) <= 255) === true;
}

/** The host the distribution API is served from. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}
