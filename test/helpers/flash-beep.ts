// A camera for lip-sync checks: the picture flashes white and a 1 kHz beep sounds at the same instants, once a second.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Runs a program to its end; rejects with the tail of its stderr if it fails. */
export function run(command: string, args: readonly string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk).slice(-2000)));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')}: ${code}\n${err}`)))));
}

/**
 * Writes DIR/flash-beep.mp4: black 640x480 at 25 fps, a white frame for 0.1 s each second, a 1 kHz sine only during
 * the same 0.1 s; no B-frames, as cameras send (ffmpeg's RTSP reader leaves their first times unset).
 */
export async function makeFlashBeepFile(dir: string, seconds: number): Promise<string> {
  const file = join(dir, 'flash-beep.mp4');
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `color=c=black:s=640x480:r=25:d=${seconds},format=yuv420p,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(mod(t\\,1)\\,0.1)'`,
    '-f', 'lavfi', '-i', `aevalsrc='if(lt(mod(t\\,1)\\,0.1)\\,0.5*sin(2*PI*1000*t)\\,0)':s=48000:d=${seconds}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '0', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '96k', '-ac', '1', '-shortest', file]);
  return file;
}

const AUDIO_PAY = {
  aac: 'aacparse ! rtpmp4gpay name=pay1 pt=97',
  pcma: 'aacparse ! avdec_aac ! audioconvert ! audioresample ! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay1',
} as const;

export type FlashBeepAudio = keyof typeof AUDIO_PAY;

/** A GStreamer RTSP server launch line serving the file as a camera, its sound as AAC or converted to PCMA. */
export function flashBeepLaunch(file: string, audio: FlashBeepAudio): string {
  return `( filesrc location=${file} ! qtdemux name=d d.video_0 ! queue ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 `
    + `d.audio_0 ! queue ! ${AUDIO_PAY[audio]} )`;
}
