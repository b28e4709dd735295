/**
 * Sequential byte sources under the capture-file reader: a plain file read in large chunks, or a gzip file
 * inflated as a stream. Both copy into a caller-owned buffer, so the reader's memory stays bounded by its own buffer
 * whatever the file size.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

export interface ByteSource {
  /** Copies up to `length` bytes into `dst` at `offset`; resolves 0 at the end of the data. */
  read(dst: Buffer, offset: number, length: number): Promise<number>;
  /** Bytes of the underlying file consumed so far (compressed bytes for gzip). */
  fileBytesRead(): number;
  close(): Promise<void>;
}

export class PlainFileSource implements ByteSource {
  private consumed = 0;

  private constructor(private readonly handle: FileHandle) {}

  static async open(path: string): Promise<PlainFileSource> {
    return new PlainFileSource(await open(path, 'r'));
  }

  async read(dst: Buffer, offset: number, length: number): Promise<number> {
    const { bytesRead } = await this.handle.read(dst, offset, length, null);
    this.consumed += bytesRead;
    return bytesRead;
  }

  fileBytesRead(): number {
    return this.consumed;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Raised inside `GzipFileSource.read` when the compressed stream is corrupt or cut short. */
export class GzipStreamError extends Error {}

export class GzipFileSource implements ByteSource {
  private readonly file: ReadStream;
  private readonly chunks: AsyncIterator<Buffer>;
  private pending: Buffer | undefined;
  private pendingOffset = 0;
  private done = false;

  constructor(path: string) {
    this.file = createReadStream(path, { highWaterMark: 1 << 20 });
    const gunzip = createGunzip({ chunkSize: 1 << 18 });
    // Errors of the file stream are forwarded to the gunzip stream, whose iterator rethrows them.
    this.file.on('error', (err) => gunzip.destroy(err));
    this.file.pipe(gunzip);
    this.chunks = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async read(dst: Buffer, offset: number, length: number): Promise<number> {
    let copied = 0;
    while (copied < length && !this.done) {
      if (this.pending === undefined) {
        let next: IteratorResult<Buffer>;
        try {
          next = await this.chunks.next();
        } catch (err) {
          this.done = true;
          throw new GzipStreamError(err instanceof Error ? err.message : String(err), { cause: err });
        }
        if (next.done === true) {
          this.done = true;
          break;
        }
        this.pending = next.value;
        this.pendingOffset = 0;
      }
      const n = this.pending.copy(dst, offset + copied, this.pendingOffset, this.pendingOffset + (length - copied));
      copied += n;
      this.pendingOffset += n;
      if (this.pendingOffset >= this.pending.length) this.pending = undefined;
      // Return as soon as something was copied: the reader asks again when it needs more.
      if (copied > 0 && this.pending === undefined) break;
    }
    return copied;
  }

  fileBytesRead(): number {
    return this.file.bytesRead;
  }

  async close(): Promise<void> {
    this.done = true;
    this.file.destroy();
    try {
      await this.chunks.return?.();
    } catch {
      // Closing an already failed stream: nothing more to release.
    }
  }
}
