import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import PQueue from 'p-queue';
import { StderrTail } from '../../lib/stderr-tail.ts';
import { spawnProcess } from '../../lib/ffmpeg-runner.ts';
import type { Logger } from '../../lib/log.ts';
import { UNLIMITED_SLOTS, withProcessSlot, type ProcessSlots } from '../../lib/process-slots.ts';
import { evictPackages } from './cache-eviction.ts';
import { PackagingBudget } from './packaging-budget.ts';
import { VodError } from '../../media/file/errors.ts';
import type { MediaFile } from '../../media/file/path.ts';

/** Segment names ffmpeg writes and the relay serves; nothing else in the cache is reachable. */
export const VOD_SEGMENT_NAME = /^seg\d{5}\.ts$/;
const PLAYLIST = 'index.m3u8';
/** Packaging runs at once across the relay: each is an ffmpeg copying a whole file. */
const PACKAGING_CONCURRENCY = 2;
/** A copy of even a long file takes seconds; past this the run is killed and reported. */
const PACKAGING_TIMEOUT_MS = 10 * 60_000;
const SEGMENT_SECONDS = 4;
/** A package in use is marked as used (its directory's time) at most this often, ms. */
const TOUCH_INTERVAL_MS = 60_000;
/**
 * Packaging runs one file may cost, and one client address: a small VodCacheMaxSize must not let requests that
 * alternate between files keep ffmpeg re-packaging them (an eviction, then a request for what it evicted, and so on).
 */
const PER_FILE_BURST = 2;
const PER_FILE_REFILL_MS = 60_000;
const PER_ADDRESS_BURST = 4;
const PER_ADDRESS_REFILL_MS = 15_000;

/** ffmpeg arguments that package a file as HLS VOD without re-encoding (video and, when present, the first audio). */
export function packagingArgs(inputPath: string, outputDir: string): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-i', `file:${inputPath}`,
    '-map', '0:v:0', '-map', '0:a:0?', '-c', 'copy',
    '-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_playlist_type', 'vod',
    '-hls_segment_filename', join(outputDir, 'seg%05d.ts'), join(outputDir, PLAYLIST),
  ];
}

/**
 * HLS VOD packages of media files, made once by ffmpeg in copy mode into the cache directory and reused. The cache
 * key is the file's real path, size, modification time and inode, so an edited file is packaged again. Concurrent
 * first requests for one file share one packaging run; a finished package appears atomically (directory rename).
 * After each new package the least recently used ones go until all fit in VodCacheMaxSize.
 */
export class VodHlsCache {
  private readonly running = new Map<string, Promise<string>>();
  private readonly queue = new PQueue({ concurrency: PACKAGING_CONCURRENCY });
  private readonly stopController = new AbortController();
  private readonly touchedAt = new Map<string, number>();
  /** Packaging runs started (for tests and logs): a reused package starts none. */
  runs = 0;
  /** Requests refused because their file or their address had used its packaging runs. */
  refused = 0;
  private readonly perFile = new PackagingBudget(PER_FILE_BURST, PER_FILE_REFILL_MS);
  private readonly perAddress = new PackagingBudget(PER_ADDRESS_BURST, PER_ADDRESS_REFILL_MS);

  constructor(
    private readonly root: string,
    private readonly ffmpegPath: string,
    private readonly log: Logger,
    private readonly slots: ProcessSlots = UNLIMITED_SLOTS,
    /** The cache's cap in bytes, read at each eviction (a reload may change it); 0: no cap. */
    private readonly maxBytes: () => number = () => 0,
  ) {}

  /**
   * The directory holding the file's finished package, packaging it first if needed; a run `client` (an address)
   * or the file has no budget left for is refused with 429 and when to retry.
   */
  async packageDir(file: MediaFile, client = ''): Promise<string> {
    const key = createHash('sha256')
      .update(`${file.path}\0${file.stats.size}\0${file.stats.mtimeMs}\0${file.stats.ino}`)
      .digest('hex')
      .slice(0, 32);
    const dir = join(this.root, key);
    if (await stat(join(dir, PLAYLIST)).then(() => true, () => false)) {
      await this.touch(dir);
      return dir;
    }
    let run = this.running.get(key);
    if (!run) {
      this.charge(file, client);
      run = this.queue.add(() => this.packageOnce(file, dir), { throwOnTimeout: true }).finally(() => this.running.delete(key));
      this.running.set(key, run);
    }
    return run;
  }

  private charge(file: MediaFile, client: string): void {
    const now = Date.now();
    if (!this.perFile.canTake(file.path, now) || !this.perAddress.canTake(client, now)) {
      const waitMs = Math.max(this.perFile.waitMs(file.path, now), this.perAddress.waitMs(client, now));
      if (Number.isInteger(Math.log10(++this.refused))) this.log.warn(`packaging ${file.name} for HLS refused: re-packaged too often (${this.refused} refusal(s) since start)`);
      throw new VodError('TOO_MANY_REQUESTS', `The file was packaged too often; retry in ${Math.ceil(waitMs / 1000)} s`, Math.ceil(waitMs / 1000));
    }
    this.perFile.take(file.path, now);
    this.perAddress.take(client, now);
  }

  /** The playlist of a finished package. */
  playlist(dir: string): Promise<string> {
    return readFile(join(dir, PLAYLIST), 'utf8');
  }

  /** Kills packaging runs in progress; their requests fail. */
  stop(): void {
    this.stopController.abort();
    this.queue.clear();
  }

  private async packageOnce(file: MediaFile, dir: string): Promise<string> {
    if (await stat(join(dir, PLAYLIST)).then(() => true, () => false)) return dir;
    if (this.stopController.signal.aborted) throw new VodError('PACKAGING_FAILED', 'The relay is stopping');
    const partial = `${dir}.partial`;
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    const started = Date.now();
    // The packaging ffmpeg is a child process like any other: it waits for one of the relay's slots (MaxProcesses).
    const ran = await withProcessSlot(this.slots, this.stopController.signal, async () => {
      this.runs++;
      try {
        await this.runFfmpeg(file, partial);
        await rm(dir, { recursive: true, force: true });
        await rename(partial, dir);
        return true;
      } catch (error) {
        await rm(partial, { recursive: true, force: true });
        throw error;
      }
    });
    if (!ran) {
      await rm(partial, { recursive: true, force: true });
      throw new VodError('PACKAGING_FAILED', 'The relay is stopping');
    }
    this.log.info(`packaged ${file.name} for HLS in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const deleted = await evictPackages(this.root, this.maxBytes(), new Set([dir, ...[...this.running.keys()].map((key) => join(this.root, key))]));
    if (deleted.length > 0) this.log.info(`VOD cache over VodCacheMaxSize: deleted ${deleted.length} least recently used package(s)`);
    return dir;
  }

  /** Marks a package as used now, for eviction's order. */
  private async touch(dir: string): Promise<void> {
    const now = Date.now();
    if (now - (this.touchedAt.get(dir) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.touchedAt.set(dir, now);
    if (this.touchedAt.size > 10_000) this.touchedAt.delete(this.touchedAt.keys().next().value!);
    await utimes(dir, now / 1000, now / 1000).catch(() => {});
  }

  private async runFfmpeg(file: MediaFile, outputDir: string): Promise<void> {
    const stderr = new StderrTail(5);
    const exit = await spawnProcess({
      command: this.ffmpegPath, args: packagingArgs(file.path, outputDir), signal: this.stopController.signal,
      stdout: 'ignore', timeoutMs: PACKAGING_TIMEOUT_MS, stderr,
    }).exit;
    if (exit.code === 0) return;
    // ffmpeg's message names paths: the log gets it with the file's name instead, the client a stable code.
    const why = (stderr.lastLine || exit.how).split(file.path).join(file.name).split(outputDir).join('<cache>');
    this.log.warn(`packaging ${file.name} for HLS failed: ${why}`);
    throw new VodError('PACKAGING_FAILED', 'The file could not be packaged for HLS');
  }
}
