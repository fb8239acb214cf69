import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildImage, payloadSha256, type ImageHeader } from '../../src/image';

/** What a partition holds. */
export interface PartitionImage {
  imageType: string;
  version: string;
  build: number;
  payloadLength: number;
  /** SHA-256 the header announced when the image was written. */
  payloadSha256: string;
}

interface FlashState {
  partitions: [PartitionImage | null, PartitionImage | null];
  /** Partition `reload` boots (`boot system partition`). */
  bootPartition: 0 | 1;
  /** Partition the controller runs from now. */
  runningPartition: 0 | 1;
}

/**
 * A controller's flash: two partitions, each a real image file on disk, plus state.json with the
 * boot settings — so a simulator restarted on the same state dir comes back as it was.
 */
export class Flash {
  /**
   * Each partition file's payload SHA-256 as this simulator last read it, with the file's identity
   * (inode, size, change and modification times) then: one process simulates a whole fleet, so a
   * hash a real controller computes on its own CPU in parallel would otherwise queue behind every
   * other controller's. Any change to the file since is seen, and the payload is read again.
   */
  private readonly digests = new Map<0 | 1, { sha256: string; stamp: string }>();

  private constructor(
    private readonly dir: string,
    private state: FlashState,
  ) {}

  /** Opens the flash in `dir`; a fresh one gets a small real image of `initial` in partition 0. */
  static async open(
    dir: string,
    initial: { imageType: string; version: string; build: number },
  ): Promise<Flash> {
    await mkdir(dir, { recursive: true });
    try {
      return new Flash(dir, JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as FlashState);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const payload = Buffer.alloc(4096, `${initial.imageType} ${initial.version} ${initial.build}\n`);
    const header = await buildImage({ ...initial, payload, out: join(dir, 'partition0.img') });
    const flash = new Flash(dir, {
      partitions: [imageOf(header), null],
      bootPartition: 0,
      runningPartition: 0,
    });
    await flash.save();
    return flash;
  }

  partition(n: 0 | 1): PartitionImage | undefined {
    return this.state.partitions[n] ?? undefined;
  }

  get bootPartition(): 0 | 1 {
    return this.state.bootPartition;
  }

  get runningPartition(): 0 | 1 {
    return this.state.runningPartition;
  }

  /** The image the controller runs. */
  get running(): PartitionImage {
    const image = this.partition(this.state.runningPartition);
    if (!image) throw new Error(`running partition ${this.state.runningPartition} is empty`);
    return image;
  }

  /** Moves a downloaded image file, whose payload matched the header's SHA-256, into a partition. */
  async install(n: 0 | 1, file: string, header: ImageHeader): Promise<void> {
    await rename(file, this.file(n));
    this.digests.set(n, { sha256: header.payloadSha256, stamp: await this.stamp(n) });
    this.state.partitions[n] = imageOf(header);
    await this.save();
  }

  async setBootPartition(n: 0 | 1): Promise<void> {
    this.state.bootPartition = n;
    await this.save();
  }

  /** Boots partition n: it becomes the running one. */
  async boot(n: 0 | 1): Promise<void> {
    this.state.runningPartition = n;
    await this.save();
  }

  /** SHA-256 of the payload as it is on flash now (not what the header claims). */
  async actualSha256(n: 0 | 1): Promise<string | undefined> {
    if (!this.partition(n)) return undefined;
    const stamp = await this.stamp(n);
    const known = this.digests.get(n);
    if (known?.stamp === stamp) return known.sha256;
    const sha256 = await payloadSha256(this.file(n));
    this.digests.set(n, { sha256, stamp });
    return sha256;
  }

  private async stamp(n: 0 | 1): Promise<string> {
    const { ino, size, ctimeNs, mtimeNs } = await stat(this.file(n), { bigint: true });
    return `${ino}:${size}:${ctimeNs}:${mtimeNs}`;
  }

  /** A scratch file for a download in progress. */
  get scratchFile(): string {
    return join(this.dir, 'download.tmp');
  }

  private file(n: 0 | 1): string {
    return join(this.dir, `partition${n}.img`);
  }

  private async save(): Promise<void> {
    await writeFile(join(this.dir, 'state.json'), JSON.stringify(this.state, null, 2));
  }
}

function imageOf(header: ImageHeader): PartitionImage {
  const { imageType, version, build, payloadLength, payloadSha256 } = header;
  return { imageType, version, build, payloadLength, payloadSha256 };
}
