import { type Logger, noopLogger } from "@contrast/core";
import { ImageError } from "./errors.js";
import { bodyChunks, discardBody, type Fetcher, type HttpResponse, readBody } from "./http.js";
import { computeDigest, MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from "./manifest.js";
import { type ImageReference, isLoopbackRegistry, registryApiHost } from "./reference.js";
import {
  backoffDelay,
  DEFAULT_RETRY,
  defaultSleep,
  parseRetryAfter,
  type Random,
  type RetryPolicy,
  type Sleep,
} from "./retry.js";

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/** Credentials for a registry host, looked up when a registry asks (a credential helper may be slow). */
export type CredentialLookup = (
  registry: string,
) => RegistryCredentials | undefined | Promise<RegistryCredentials | undefined>;

export interface RegistryClientOptions {
  readonly fetch: Fetcher;
  /** Registries (`host[:port]`) that may be reached over plain HTTP. */
  readonly insecureRegistries?: readonly string[];
  /** Basic credentials per registry, used for Basic challenges and for token requests. */
  readonly credentials?: CredentialLookup;
  readonly retry?: Partial<RetryPolicy>;
  readonly sleep?: Sleep;
  readonly random?: Random;
  /** Only for Retry-After given as an HTTP date. */
  readonly now?: () => Date;
  readonly logger?: Logger;
}

/** A fetched manifest: its bytes, its verified digest and the media type the registry named. */
export interface FetchedManifest {
  readonly bytes: Uint8Array;
  readonly digest: string;
  readonly contentType: string | null;
}

interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses `WWW-Authenticate: Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (m === null) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = m[2] ?? "";
  re.lastIndex = 0;
  let p: RegExpExecArray | null = re.exec(rest);
  while (p !== null && p[0] !== "") {
    params[(p[1] ?? "").toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
    p = re.exec(rest);
  }
  return { scheme: (m[1] ?? "").toLowerCase(), params };
}

const basic = (c: RegistryCredentials): string =>
  `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;

/**
 * A client for the OCI distribution API (pull side): manifests and blobs, anonymous, Bearer-token
 * and Basic auth, retries with backoff for 429/5xx/connection failures, HTTPS unless a registry is
 * listed as insecure or is on a loopback address. It verifies nothing by itself beyond the
 * manifest digest the registry claims; callers verify what they asked for.
 */
export class RegistryClient {
  private readonly fetcher: Fetcher;
  private readonly insecure: ReadonlySet<string>;
  private readonly retry: RetryPolicy;
  private readonly sleep: Sleep;
  private readonly random: Random;
  private readonly logger: Logger;
  /** Authorization header per registry and repository. */
  private readonly auth = new Map<string, string>();
  /** Scheme chosen for registries that may use plain HTTP. */
  private readonly schemes = new Map<string, Promise<"https" | "http">>();

  constructor(private readonly options: RegistryClientOptions) {
    this.fetcher = options.fetch;
    this.insecure = new Set(options.insecureRegistries ?? []);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? noopLogger;
  }

  private mayUseHttp(registry: string): boolean {
    return this.insecure.has(registry) || isLoopbackRegistry(registry);
  }

  /**
   * HTTPS first; a registry allowed plain HTTP that does not answer HTTPS is used over HTTP from
   * then on (Docker's rule for insecure registries).
   */
  private scheme(registry: string): Promise<"https" | "http"> {
    if (!this.mayUseHttp(registry)) return Promise.resolve("https");
    let s = this.schemes.get(registry);
    if (s === undefined) {
      s = this.fetcher(`https://${registryApiHost(registry)}/v2/`, { method: "GET", headers: {} }).then(
        async (res) => {
          await discardBody(res);
          return "https" as const;
        },
        () => "http" as const,
      );
      this.schemes.set(registry, s);
    }
    return s;
  }

  private async url(ref: ImageReference, path: string): Promise<string> {
    return `${await this.scheme(ref.registry)}://${registryApiHost(ref.registry)}/v2/${ref.repository}/${path}`;
  }

  /** Fetches a manifest by tag or digest; the digest is verified against the bytes. */
  async getManifest(ref: ImageReference, tagOrDigest: string): Promise<FetchedManifest> {
    const what = `manifest ${ref.registry}/${ref.repository}@${tagOrDigest}`;
    const res = await this.request(
      ref,
      await this.url(ref, `manifests/${tagOrDigest}`),
      { Accept: MANIFEST_ACCEPT },
      what,
    );
    const bytes = await readBody(res, MAX_MANIFEST_BYTES);
    if (bytes === undefined) {
      throw new ImageError("REGISTRY_BAD_RESPONSE", `${what} is larger than ${MAX_MANIFEST_BYTES} bytes`, {
        hint: "The registry returned something that is not a manifest.",
      });
    }
    const pinned = tagOrDigest.includes(":");
    const expected = pinned ? tagOrDigest : (res.headers.get("docker-content-digest") ?? undefined);
    const algorithm = expected?.startsWith("sha512:") ? "sha512" : "sha256";
    const actual = computeDigest(bytes, algorithm);
    if (expected?.startsWith(`${algorithm}:`) && actual !== expected) {
      throw new ImageError("DIGEST_MISMATCH", `${what} has digest ${actual}, expected ${expected}`, {
        kind: "crypto",
        hint: "The registry (or a proxy) served a manifest that does not match its digest.",
        details: { expected, actual },
      });
    }
    return {
      bytes,
      digest: pinned ? tagOrDigest : computeDigest(bytes, "sha256"),
      contentType: res.headers.get("content-type"),
    };
  }

  /** Opens a blob for streaming. The caller verifies the digest while consuming it. */
  async openBlob(
    ref: ImageReference,
    digest: string,
  ): Promise<{ size: number | undefined; chunks: AsyncIterable<Uint8Array> }> {
    const what = `blob ${digest} of ${ref.registry}/${ref.repository}`;
    const res = await this.request(ref, await this.url(ref, `blobs/${digest}`), {}, what);
    const length = res.headers.get("content-length");
    const chunks = async function* (): AsyncGenerator<Uint8Array> {
      try {
        yield* bodyChunks(res.body);
      } catch (cause) {
        // A connection that breaks mid-body is as retryable as one that never opened.
        throw new ImageError("REGISTRY_UNAVAILABLE", `download of ${what} broke off`, {
          kind: "io",
          cause,
          hint: "The connection to the registry failed; check the network and run the command again.",
        });
      }
    };
    return { size: length === null ? undefined : Number(length), chunks: chunks() };
  }

  /** A blob read completely (configs); `limit` bounds memory. */
  async getBlob(ref: ImageReference, digest: string, limit: number): Promise<Uint8Array> {
    const what = `blob ${digest} of ${ref.registry}/${ref.repository}`;
    const res = await this.request(ref, await this.url(ref, `blobs/${digest}`), {}, what);
    const bytes = await readBody(res, limit);
    if (bytes === undefined) {
      throw new ImageError("REGISTRY_BAD_RESPONSE", `${what} is larger than ${limit} bytes`, {
        hint: "The image config is implausibly large; check the image.",
      });
    }
    return bytes;
  }

  /**
   * One request with authentication and retries. Returns a 2xx response with its body unread;
   * every other outcome becomes a typed error.
   */
  private async request(
    ref: ImageReference,
    url: string,
    headers: Record<string, string>,
    what: string,
  ): Promise<HttpResponse> {
    const authKey = `${ref.registry}/${ref.repository}`;
    let authAttempted = false;
    for (let attempt = 0; ; attempt++) {
      const h: Record<string, string> = { ...headers };
      const authorization = this.auth.get(authKey);
      if (authorization !== undefined) h.Authorization = authorization;
      let res: HttpResponse;
      try {
        res = await this.fetcher(url, { method: "GET", headers: h, redirect: "follow" });
      } catch (cause) {
        if (attempt + 1 < this.retry.attempts) {
          const delay = backoffDelay(this.retry, attempt, this.random);
          this.logger.warn("registry request failed, retrying", { url, attempt: attempt + 1, delayMs: delay });
          await this.sleep(delay);
          continue;
        }
        throw new ImageError("REGISTRY_UNAVAILABLE", `cannot reach ${ref.registry} for ${what}`, {
          kind: "io",
          cause,
          hint: "Check the registry address, the network and proxies; for a registry without TLS add it to the insecure registries.",
          details: { registry: ref.registry, attempts: attempt + 1 },
        });
      }
      if (res.status >= 200 && res.status < 300) return res;
      if (res.status === 401 && !authAttempted) {
        const challenge = parseChallenge(res.headers.get("www-authenticate") ?? "");
        await discardBody(res);
        authAttempted = true;
        const header = await this.authenticate(ref, challenge, what);
        if (header !== undefined) {
          this.auth.set(authKey, header);
          attempt--;
          continue;
        }
        throw await this.unauthorized(ref, what, res.status);
      }
      if (res.status === 401 || res.status === 403) {
        await discardBody(res);
        throw await this.unauthorized(ref, what, res.status);
      }
      if (res.status === 404) {
        await discardBody(res);
        throw new ImageError("REGISTRY_NOT_FOUND", `${what} not found`, {
          hint: "Check the image name, tag or digest; private images also answer 404 to clients without access.",
          details: { registry: ref.registry, repository: ref.repository, status: 404 },
        });
      }
      if (res.status === 429 || res.status >= 500) {
        const retryAfter = parseRetryAfter(res.headers.get("retry-after"), this.options.now);
        await discardBody(res);
        const honourable = retryAfter === undefined || retryAfter <= this.retry.maxRetryAfterMs;
        if (attempt + 1 < this.retry.attempts && honourable) {
          const delay = retryAfter ?? backoffDelay(this.retry, attempt, this.random);
          this.logger.warn("registry busy, retrying", {
            url,
            status: res.status,
            attempt: attempt + 1,
            delayMs: delay,
          });
          await this.sleep(delay);
          continue;
        }
        if (res.status === 429) {
          throw new ImageError("REGISTRY_RATE_LIMITED", `${ref.registry} rate-limits requests (${what})`, {
            kind: "io",
            hint: "Wait and run the command again, authenticate to get a higher limit, or use the layer cache or an offline image-metadata file.",
            details: { registry: ref.registry, status: 429, attempts: attempt + 1, retryAfterMs: retryAfter },
          });
        }
        throw new ImageError("REGISTRY_UNAVAILABLE", `${ref.registry} answered ${res.status} for ${what}`, {
          kind: "io",
          hint: "The registry has trouble; run the command again later.",
          details: { registry: ref.registry, status: res.status, attempts: attempt + 1 },
        });
      }
      await discardBody(res);
      throw new ImageError("REGISTRY_BAD_RESPONSE", `${ref.registry} answered ${res.status} for ${what}`, {
        hint: "The registry rejected the request; check the image reference.",
        details: { registry: ref.registry, status: res.status },
      });
    }
  }

  private async unauthorized(ref: ImageReference, what: string, status: number): Promise<ImageError> {
    const hasCredentials = (await this.options.credentials?.(ref.registry)) !== undefined;
    return new ImageError("REGISTRY_UNAUTHORIZED", `${ref.registry} refused access to ${what} (HTTP ${status})`, {
      hint: hasCredentials
        ? "The registry rejected the credentials; check user name, password or token and their pull permission."
        : "The image needs credentials; log in to the registry (docker login) or pass credentials.",
      details: { registry: ref.registry, repository: ref.repository, status },
    });
  }

  /** Answers a challenge: a Bearer token from the realm, or Basic credentials. */
  private async authenticate(
    ref: ImageReference,
    challenge: Challenge | undefined,
    what: string,
  ): Promise<string | undefined> {
    const credentials = await this.options.credentials?.(ref.registry);
    if (challenge?.scheme === "basic") return credentials === undefined ? undefined : basic(credentials);
    if (challenge?.scheme !== "bearer") return undefined;
    const realm = challenge.params.realm;
    if (realm === undefined) return undefined;
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      return undefined;
    }
    if (realmUrl.protocol === "http:" && credentials !== undefined && !this.mayUseHttp(realmUrl.host)) {
      throw new ImageError(
        "REGISTRY_INSECURE_REFUSED",
        `${ref.registry} asks for credentials over plain HTTP (${realm})`,
        {
          hint: "Refusing to send a password unencrypted; list the token server as an insecure registry if this is intended.",
        },
      );
    }
    if (challenge.params.service !== undefined) realmUrl.searchParams.set("service", challenge.params.service);
    realmUrl.searchParams.set("scope", challenge.params.scope ?? `repository:${ref.repository}:pull`);
    const headers: Record<string, string> = {};
    if (credentials !== undefined) headers.Authorization = basic(credentials);
    let res: HttpResponse | undefined;
    for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
      try {
        res = await this.fetcher(realmUrl.toString(), { method: "GET", headers, redirect: "follow" });
      } catch {
        res = undefined;
      }
      if (res !== undefined && res.status !== 429 && res.status < 500) break;
      if (res !== undefined) await discardBody(res);
      if (attempt + 1 < this.retry.attempts) await this.sleep(backoffDelay(this.retry, attempt, this.random));
    }
    if (res === undefined || res.status === 429 || res.status >= 500) {
      throw new ImageError("REGISTRY_UNAVAILABLE", `the token server of ${ref.registry} is unavailable (${what})`, {
        kind: "io",
        hint: "Run the command again later.",
        details: { realm, status: res?.status },
      });
    }
    if (res.status === 401 || res.status === 403) {
      await discardBody(res);
      throw await this.unauthorized(ref, what, res.status);
    }
    const token = await bearerToken(res, ref.registry, { realm, status: res.status });
    return `Bearer ${token}`;
  }
}

/**
 * The token of a token server's answer (`token`, or OAuth's `access_token`), for push and pull
 * alike; anything else is REGISTRY_BAD_RESPONSE.
 */
export async function bearerToken(
  res: HttpResponse,
  registry: string,
  details: Record<string, unknown>,
): Promise<string> {
  const body = await readBody(res, 1 << 20);
  let token: unknown;
  try {
    const doc = JSON.parse(Buffer.from(body ?? new Uint8Array()).toString("utf8")) as Record<string, unknown>;
    token = doc.token ?? doc.access_token;
  } catch {
    token = undefined;
  }
  if (res.status !== 200 || typeof token !== "string" || token === "") {
    throw new ImageError(
      "REGISTRY_BAD_RESPONSE",
      `the token server of ${registry} gave no token (HTTP ${res.status})`,
      {
        hint: "The registry's token service misbehaves; check the registry.",
        details,
      },
    );
  }
  return token;
}
