import { createHash, hash as oneShotHash } from "node:crypto";
import { ImageError } from "./errors.js";

/**
 * dm-verity as genpolicy computes it for the tardev snapshotter (genpolicy `verity.rs`, called
 * from `registry.rs`): format version 1 (the salt is hashed *before* each block), SHA-256,
 * 4096-byte data and hash blocks, a salt of 32 zero bytes, no superblock. The root hash is what
 * `veritysetup format --no-superblock --salt=<64 zeros>` prints for the same bytes.
 */
export const VERITY_BLOCK_SIZE = 4096;
export const VERITY_DIGEST_SIZE = 32;
export const VERITY_SALT: Uint8Array = new Uint8Array(VERITY_DIGEST_SIZE);
const HASHES_PER_BLOCK = VERITY_BLOCK_SIZE / VERITY_DIGEST_SIZE; // 128

/**
 * Number of hash levels genpolicy builds for `dataSize` bytes: it grows the covered size from one
 * block by 128× per level until it reaches the *byte* size. For sizes that are multiples of 4096
 * this equals cryptsetup's count; for other sizes genpolicy can build one level more (the
 * trailing partial block itself is never hashed, by either tool).
 */
export function verityLevelCount(dataSize: number): number {
  let covered = VERITY_BLOCK_SIZE;
  let levels = 0;
  while (covered < dataSize) {
    levels++;
    covered *= HASHES_PER_BLOCK;
  }
  return levels;
}

function saltedDigest(scratch: Buffer, block: Uint8Array, out: Uint8Array, outOffset: number): void {
  // The salt is a prefix: copying the block behind it lets one native call hash both, which is
  // markedly faster than an incremental hash object per block.
  scratch.set(block, VERITY_DIGEST_SIZE);
  out.set(oneShotHash("sha256", scratch, "buffer"), outOffset);
}

/** Hashes whole data blocks: `data.length` must be a multiple of 4096. Returns 32 bytes each. */
export function hashDataBlocks(data: Uint8Array, salt: Uint8Array = VERITY_SALT): Uint8Array {
  const count = Math.floor(data.length / VERITY_BLOCK_SIZE);
  const out = new Uint8Array(count * VERITY_DIGEST_SIZE);
  const scratch = Buffer.alloc(salt.length + VERITY_BLOCK_SIZE);
  scratch.set(salt, 0);
  if (salt.length !== VERITY_DIGEST_SIZE) {
    // Only genpolicy's salt length is on the fast path; others take the general one.
    for (let i = 0; i < count; i++) {
      const h = createHash("sha256").update(salt);
      h.update(data.subarray(i * VERITY_BLOCK_SIZE, (i + 1) * VERITY_BLOCK_SIZE));
      out.set(h.digest(), i * VERITY_DIGEST_SIZE);
    }
    return out;
  }
  for (let i = 0; i < count; i++) {
    saltedDigest(
      scratch,
      data.subarray(i * VERITY_BLOCK_SIZE, (i + 1) * VERITY_BLOCK_SIZE),
      out,
      i * VERITY_DIGEST_SIZE,
    );
  }
  return out;
}

/**
 * The hash tree above the data blocks, built as leaf hashes arrive. It keeps one partially
 * filled hash block per level, so memory is O(levels) whatever the data size; the number of
 * levels is fixed only at the end, when the size is known.
 */
export class VerityTree {
  private readonly levels: { block: Uint8Array; count: number }[] = [];
  private readonly scratch: Buffer;
  private leafCount = 0;

  constructor(private readonly salt: Uint8Array = VERITY_SALT) {
    this.scratch = Buffer.alloc(salt.length + VERITY_BLOCK_SIZE);
    this.scratch.set(salt, 0);
  }

  /** Number of data-block hashes added so far. */
  get blocks(): number {
    return this.leafCount;
  }

  /** Adds consecutive data-block hashes (a multiple of 32 bytes). */
  addLeafHashes(hashes: Uint8Array): void {
    for (let off = 0; off < hashes.length; off += VERITY_DIGEST_SIZE) {
      this.push(0, hashes.subarray(off, off + VERITY_DIGEST_SIZE));
      this.leafCount++;
    }
  }

  private level(i: number): { block: Uint8Array; count: number } {
    let l = this.levels[i];
    if (l === undefined) {
      l = { block: new Uint8Array(VERITY_BLOCK_SIZE), count: 0 };
      this.levels[i] = l;
    }
    return l;
  }

  private push(i: number, digest: Uint8Array): void {
    const l = this.level(i);
    l.block.set(digest, l.count * VERITY_DIGEST_SIZE);
    l.count++;
    if (l.count === HASHES_PER_BLOCK) {
      const up = this.digestBlock(l.block);
      l.count = 0;
      this.push(i + 1, up);
    }
  }

  private digestBlock(block: Uint8Array): Uint8Array {
    if (this.salt.length === VERITY_DIGEST_SIZE) {
      this.scratch.set(block, VERITY_DIGEST_SIZE);
      return oneShotHash("sha256", this.scratch, "buffer");
    }
    return createHash("sha256").update(this.salt).update(block).digest();
  }

  /**
   * The root hash for `dataSize` bytes of data (the bytes whose whole blocks were added).
   * With zero hash levels (a single block) the root is that block's own hash, as cryptsetup
   * computes it; genpolicy cannot handle that size at all.
   */
  root(dataSize: number, firstBlockHash?: Uint8Array): Uint8Array {
    const levelCount = verityLevelCount(dataSize);
    if (levelCount === 0) {
      if (firstBlockHash === undefined) throw new Error("a single-block tree needs the block's hash");
      return firstBlockHash;
    }
    // Flush partial blocks upwards (zero-padded) below the top level.
    for (let i = 0; i < levelCount - 1; i++) {
      const l = this.level(i);
      if (l.count > 0) {
        l.block.fill(0, l.count * VERITY_DIGEST_SIZE);
        const up = this.digestBlock(l.block);
        l.count = 0;
        this.push(i + 1, up);
      }
    }
    const top = this.level(levelCount - 1);
    if (top.count > 0) {
      top.block.fill(0, top.count * VERITY_DIGEST_SIZE);
      return this.digestBlock(top.block);
    }
    // The top block filled exactly and was already hashed into the level above.
    const above = this.levels[levelCount];
    if (above === undefined || above.count !== 1) throw new Error("verity tree invariant violated");
    return above.block.slice(0, VERITY_DIGEST_SIZE);
  }
}

/** Something that hashes whole data blocks, possibly off the main thread. */
export interface BlockHasher {
  /** Resolves to the concatenated block hashes of `data` (a multiple of 4096 bytes). */
  hashBlocks(data: Uint8Array): Promise<Uint8Array>;
}

/** Hashes on the calling thread. */
export const inlineBlockHasher: BlockHasher = {
  hashBlocks: (data) => Promise.resolve(hashDataBlocks(data)),
};

const BATCH_BYTES = 1 << 20;

/**
 * Streaming dm-verity root hash: `update` with any chunk sizes, then `digest`. Memory stays
 * bounded: at most `maxInFlight` batches of 1 MiB wait for a (possibly parallel) hasher, and the
 * tree keeps one block per level.
 */
export class VerityHasher {
  private readonly tree = new VerityTree();
  private pending = new Uint8Array(BATCH_BYTES);
  private pendingLength = 0;
  private size = 0;
  private firstBlockHash: Uint8Array | undefined;
  private readonly inFlight: Promise<Uint8Array>[] = [];

  constructor(
    private readonly hasher: BlockHasher = inlineBlockHasher,
    private readonly maxInFlight = 4,
  ) {}

  /** Total bytes given so far. */
  get length(): number {
    return this.size;
  }

  async update(chunk: Uint8Array): Promise<void> {
    this.size += chunk.length;
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, BATCH_BYTES - this.pendingLength);
      this.pending.set(chunk.subarray(off, off + n), this.pendingLength);
      this.pendingLength += n;
      off += n;
      if (this.pendingLength === BATCH_BYTES) await this.dispatch(BATCH_BYTES);
    }
  }

  private async dispatch(bytes: number): Promise<void> {
    const batch = this.pending.subarray(0, bytes);
    const rest = this.pending.subarray(bytes, this.pendingLength);
    // The batch buffer goes to the hasher (maybe transferred to a worker); start a fresh one.
    this.pending = new Uint8Array(BATCH_BYTES);
    this.pending.set(rest, 0);
    this.pendingLength = rest.length;
    this.inFlight.push(this.hasher.hashBlocks(batch));
    while (this.inFlight.length >= this.maxInFlight) await this.drainOne();
  }

  private async drainOne(): Promise<void> {
    const next = this.inFlight.shift();
    if (next === undefined) return;
    const hashes = await next;
    if (this.firstBlockHash === undefined && hashes.length > 0) {
      this.firstBlockHash = hashes.slice(0, VERITY_DIGEST_SIZE);
    }
    this.tree.addLeafHashes(hashes);
  }

  /** The root hash of everything given; the trailing partial block (if any) is not hashed. */
  async digest(): Promise<Uint8Array> {
    if (this.size < VERITY_BLOCK_SIZE) {
      throw new ImageError("LAYER_TOO_SMALL", `cannot build a dm-verity tree over ${this.size} bytes`, {
        hint: "dm-verity needs at least one 4096-byte block; genpolicy refuses such inputs as well.",
        details: { size: this.size },
      });
    }
    const whole = this.pendingLength - (this.pendingLength % VERITY_BLOCK_SIZE);
    if (whole > 0) await this.dispatch(whole);
    while (this.inFlight.length > 0) await this.drainOne();
    return this.tree.root(this.size, this.firstBlockHash);
  }
}

/** Root hash of bytes in memory (convenience for small inputs and tests). */
export async function verityRootHash(data: Uint8Array, hasher?: BlockHasher): Promise<string> {
  const v = new VerityHasher(hasher);
  await v.update(data);
  return Buffer.from(await v.digest()).toString("hex");
}
