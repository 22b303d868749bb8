import t from 'tap';
import { adtsHeader, AdtsReader, parseAdtsHeader } from '../../../media/aac/adts.ts';
import { aacTrack, buildAudioSpecificConfig, parseAudioSpecificConfig } from '../../../media/aac/config.ts';
import { ProtocolError } from '../../../media/errors.ts';
import { decodeAudio, makeTone } from '../../helpers/audio.ts';
import { prng } from '../../helpers/prng.ts';

t.test('AudioSpecificConfig: one case table for parse and build', async (t) => {
  const cases: Array<[string, { objectType: number; sampleRate: number; channels: number }, number | undefined]> = [
    ['1190', { objectType: 2, sampleRate: 48000, channels: 2 }, 3],
    ['1588', { objectType: 2, sampleRate: 8000, channels: 1 }, 11],
    ['1038', { objectType: 2, sampleRate: 96000, channels: 8 }, 0],
    ['178001f410', { objectType: 2, sampleRate: 1000, channels: 2 }, undefined],
  ];
  for (const [hex, fields, index] of cases) {
    const built = buildAudioSpecificConfig(fields);
    t.equal(built.toString('hex'), hex, `build ${hex}`);
    const parsed = parseAudioSpecificConfig(built);
    t.match(parsed, { ...fields, samplingFrequencyIndex: index, frameLength: 1024 }, `parse ${hex}`);
  }
  const big = parseAudioSpecificConfig(buildAudioSpecificConfig({ objectType: 2, sampleRate: 96000, channels: 8 }));
  t.equal(big.maxFrameBytes, 6144, '96 kHz 8 channels is legal, and its frames may be 6144 bytes');
  t.same(aacTrack(Buffer.from('1190', 'hex')), { kind: 'audio', codec: 'aac', clockRate: 48000, sampleRate: 48000, channels: 2, config: Buffer.from('1190', 'hex') });
});

t.test('AudioSpecificConfig: HE-AAC signals LC with an extension rate; 960-sample frames', async (t) => {
  // object type 5 (SBR), 24 kHz core, stereo, extension 48 kHz, then LC.
  const he = parseAudioSpecificConfig(Buffer.from('2b118800', 'hex'));
  t.match(he, { objectType: 2, sampleRate: 24000, extensionSampleRate: 48000, channels: 2 });
  t.equal(parseAudioSpecificConfig(buildAudioSpecificConfig({ objectType: 2, sampleRate: 44100, channels: 1, frameLength: 960 })).frameLength, 960);
});

t.test('AudioSpecificConfig: bad input is a clear PROTOCOL error', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['', /at least 2/],
    ['12', /at least 2/],
    ['0190', /object type 0/],
    ['16900000', /reserved sampling frequency index 13/],
    ['1180', /channel configuration 0/],
    ['11c0', /reserved channel configuration 8/],
    ['17800000', /truncated/],
    ['00'.repeat(65), /more than any/],
  ];
  for (const [hex, message] of bad) t.throws(() => parseAudioSpecificConfig(Buffer.from(hex, 'hex')), { name: 'ProtocolError', message }, hex || 'empty');
  t.throws(() => buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 0 }), ProtocolError);
  t.throws(() => buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 7 }), ProtocolError);
  t.throws(() => buildAudioSpecificConfig({ objectType: 0, sampleRate: 48000, channels: 1 }), ProtocolError);
  const random = prng(23);
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.from(Array.from({ length: 2 + (i % 6) }, () => Math.floor(random() * 256)));
    try {
      parseAudioSpecificConfig(bytes);
    } catch (error) {
      if (!(error instanceof ProtocolError)) t.fail(`${bytes.toString('hex')}: ${String(error)}`);
    }
  }
});

t.test('ADTS header: built from a config, parsed back; configs ADTS cannot carry are refused', async (t) => {
  const config = parseAudioSpecificConfig(Buffer.from('1190', 'hex'));
  const header = adtsHeader(config, 300);
  t.same(parseAdtsHeader(header), { objectType: 2, samplingFrequencyIndex: 3, channelConfiguration: 2, frameLength: 307, headerLength: 7, rawDataBlocks: 1 });
  t.throws(() => adtsHeader(config, 8190), /does not fit/);
  t.throws(() => adtsHeader(parseAudioSpecificConfig(buildAudioSpecificConfig({ objectType: 2, sampleRate: 1000, channels: 1 })), 10), /no index/);
  t.throws(() => adtsHeader(parseAudioSpecificConfig(buildAudioSpecificConfig({ objectType: 42, sampleRate: 48000, channels: 1 })), 10), /object type 42/);
});

t.test('ADTS reader on ffmpeg output: every frame, in any chunking, across garbage; rebuilt ADTS decodes to the tone', async (t) => {
  const adts = await makeTone('adts', { seconds: 2 });
  const whole = new AdtsReader().push(adts);
  t.ok(whole.length >= 93 && whole.length <= 96, `${whole.length} frames of 1024 samples in 2 s at 48 kHz`);
  t.same(whole[0]!.config, Buffer.from('1188', 'hex'), 'AAC LC, 48 kHz, mono');
  const reader = new AdtsReader();
  const random = prng(5);
  const chunked = [];
  for (let at = 0; at < adts.length;) {
    const size = 1 + Math.floor(random() * 700);
    chunked.push(...reader.push(adts.subarray(at, at + size)));
    at += size;
    t.ok(reader.pendingBytes < 8192, 'holds at most one frame');
  }
  t.same(chunked.map((f) => f.data), whole.map((f) => f.data), 'chunking changes nothing');
  const dirty = new AdtsReader();
  const withGarbage = Buffer.concat([Buffer.from([0xff, 0xf1, 0x00, 1, 2, 3, 0xff, 0xff]), adts.subarray(0, 2000), Buffer.alloc(300, 0xff), adts.subarray(2000)]);
  const recovered = dirty.push(withGarbage);
  t.ok(recovered.length >= whole.length - 2, `resynchronised: ${recovered.length} of ${whole.length} frames`);
  t.ok(dirty.skippedBytes > 0);
  const config = parseAudioSpecificConfig(whole[0]!.config);
  const rebuilt = Buffer.concat(whole.flatMap((frame) => [adtsHeader(config, frame.data.length), frame.data]));
  const decoded = await decodeAudio(rebuilt, 'tone.aac');
  t.match(decoded, { codec: 'aac', sampleRate: 48000, channels: 1 });
  t.ok(Math.abs(decoded.duration - 2) <= 1024 / 48000 + 0.03, `duration ${decoded.duration}`);
  t.ok(decoded.toneDb > -40, `tone at ${decoded.toneDb} dBFS`);
});

t.test('ADTS reader: garbage only, and hostile headers, keep memory bounded and never throw', async (t) => {
  const reader = new AdtsReader();
  const random = prng(7);
  for (let i = 0; i < 200; i++) {
    const chunk = Buffer.from(Array.from({ length: 512 }, () => (random() < 0.3 ? 0xff : Math.floor(random() * 256))));
    reader.push(chunk);
    t.ok(reader.pendingBytes <= 8191 + 512);
  }
  const lie = Buffer.from([0xff, 0xf1, 0x50, 0x83, 0xff, 0xff, 0xfc]); // claims 8191 bytes
  const liar = new AdtsReader();
  t.same(liar.push(lie), []);
  t.equal(liar.pendingBytes, 7, 'the truncated frame waits for the next chunk');
});
