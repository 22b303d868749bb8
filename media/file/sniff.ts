import { open } from 'node:fs/promises';
import { looksLengthPrefixed } from '../jpeg/length-prefixed.ts';

/** How a media file is read: demuxed by ffmpeg, or read as JPEG frames by the relay itself. */
export type MediaFileKind = 'ffmpeg' | 'jpeg-concatenated' | 'jpeg-length-prefixed';

/** Tells the file formats apart by their first bytes (never by the name, which the user chose). */
export async function sniffMediaFile(path: string): Promise<MediaFileKind> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg-concatenated';
    if (looksLengthPrefixed(bytes)) return 'jpeg-length-prefixed';
    return 'ffmpeg';
  } finally {
    await handle.close();
  }
}
