import t from 'tap';
import { ProtocolError } from '../../../media/errors.ts';
import { buildSdp } from '../../../media/rtsp/sdp-write.ts';
import { audioMediaLines, audioTrackFromSdp, createAudioDepacketizer } from '../../../media/rtsp/sdp-audio.ts';
import { parseSdp } from '../../../media/rtsp/sdp.ts';
import type { AudioTrack } from '../../../media/types.ts';

const audio = (lines: string[]) => parseSdp(['v=0', ...lines, ''].join('\r\n')).media[0]!;

t.test('audio sections as cameras, ffmpeg and GStreamer write them become tracks', async (t) => {
  const cases: Array<[string[], Partial<AudioTrack>]> = [
    [['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 MPEG4-GENERIC/48000/1', 'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=118856E500', 'a=control:trackID=1'],
      { codec: 'aac', clockRate: 48000, sampleRate: 48000, channels: 1, config: Buffer.from('118856e500', 'hex') }],
    [['m=audio 0 RTP/AVP 96', 'a=rtpmap:96 mpeg4-generic/16000/2', 'a=fmtp:96 streamtype=5;profile-level-id=15;mode=AAC-hbr;config=1410;SizeLength=13;IndexLength=3;IndexDeltaLength=3'],
      { codec: 'aac', sampleRate: 16000, channels: 2 }],
    [['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 MP4A-LATM/48000/1', 'a=fmtp:97 profile-level-id=41;cpresent=0;config=400023103fc0'],
      { codec: 'aac', sampleRate: 48000, channels: 1, config: Buffer.from('1188', 'hex') }],
    [['m=audio 0 RTP/AVP 8'], { codec: 'pcma', clockRate: 8000, sampleRate: 8000, channels: 1 }],
    [['m=audio 0 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000'], { codec: 'pcmu', clockRate: 8000, channels: 1 }],
    [['m=audio 0 RTP/AVP 111', 'a=rtpmap:111 opus/48000/2', 'a=fmtp:111 sprop-stereo=1'], { codec: 'opus', clockRate: 48000, channels: 2 }],
    [['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 opus/48000/2'], { codec: 'opus', channels: 1 }],
  ];
  for (const [lines, expected] of cases) t.match(audioTrackFromSdp(audio(lines)), { kind: 'audio', ...expected }, lines[1] ?? lines[0]!);
  t.equal(audio(['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 MPEG4-GENERIC/48000/2', 'a=control:trackID=1']).control, 'trackID=1');
});

t.test('written audio sections parse back to the same track', async (t) => {
  const tracks: AudioTrack[] = [
    { kind: 'audio', codec: 'aac', clockRate: 44100, sampleRate: 44100, channels: 2, config: Buffer.from('1210', 'hex') },
    { kind: 'audio', codec: 'pcma', clockRate: 8000, sampleRate: 8000, channels: 1 },
    { kind: 'audio', codec: 'pcmu', clockRate: 8000, sampleRate: 8000, channels: 2 },
    { kind: 'audio', codec: 'opus', clockRate: 48000, sampleRate: 48000, channels: 2 },
  ];
  for (const track of tracks) {
    const sdp = buildSdp({ name: 'cam', serverAddress: '127.0.0.1', mediaLines: audioMediaLines(track, 97, 'trackID=1') });
    const media = parseSdp(sdp).media[0]!;
    t.equal(media.control, 'trackID=1');
    t.same(createAudioDepacketizer(media).track, track, track.codec);
  }
});

t.test('audio the relay cannot read is a clear PROTOCOL error naming why', async (t) => {
  const bad: Array<[string[], RegExp]> = [
    [['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 G726-32/8000'], /G726-32\): codec not supported/],
    [['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 MPEG4-GENERIC/48000/2', 'a=fmtp:97 mode=AAC-hbr'], /config is missing/],
    [['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 MPEG4-GENERIC/48000/2', 'a=fmtp:97 mode=AAC-hbr;config=zz'], /not hex/],
    [['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 MPEG4-GENERIC/48000/2', 'a=fmtp:97 mode=generic;config=1190'], /mode generic/],
    [['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 MPEG4-GENERIC/48000/2', 'a=fmtp:97 mode=AAC-hbr;config=1180'], /channel configuration 0/],
    [['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 MPEG4-GENERIC/48000/2', 'a=fmtp:97 mode=AAC-hbr;config=1690'], /reserved sampling frequency/],
    [['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 MP4A-LATM/48000/2', 'a=fmtp:97 config=400023103fc0'], /cpresent=0/],
    [['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 opus/8000/1'], /clock rate 8000/],
    [['m=audio 0 RTP/AVP 97', 'a=rtpmap:97 PCMA/8000/99'], /99 channels/],
    [['m=audio 0 RTP/AVP 97'], /payload type 97\): codec not supported/],
    [['m=video 0 RTP/AVP 26'], /not audio/],
  ];
  for (const [lines, message] of bad) t.throws(() => createAudioDepacketizer(audio(lines)), { name: 'ProtocolError', message }, lines.join(' | '));
  t.throws(() => audioMediaLines({ kind: 'audio', codec: 'aac', clockRate: 8000, sampleRate: 8000, channels: 1 }, 97, 'a'), ProtocolError);
});
