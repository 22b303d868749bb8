/** Bounds on a WHEP offer: browsers send 3-12 KB in a few hundred lines. */
export const MAX_OFFER_BYTES = 64 * 1024;
const MAX_OFFER_LINES = 2000;
const MAX_LINE_LENGTH = 4096;
const MAX_MEDIA_SECTIONS = 16;

/** Why an offer was refused; the message is safe to show the client. */
export class OfferError extends Error {
  override readonly name = 'OfferError';
}

/** What the relay needs of a WHEP offer: the video section to answer and the H.264 format to send in it. */
export interface WhepOffer {
  /** The `a=mid` of the video section the answer sends in. */
  readonly videoMid: string;
  /** The payload type the client gave H.264 packetization-mode 1 (the one the relay's profile fits best). */
  readonly payloadType: number;
  /** The chosen format's profile-level-id (hex), answered back unchanged. */
  readonly profileLevelId: string;
  /** The payload type the client gave RTX (RFC 4588) for that format (`apt=`), if it offered one: NACKs are answered on it. */
  readonly rtxPayloadType: number | undefined;
  /** The audio section answered with the stream's Opus: the first one offering opus/48000/2; undefined when none does. */
  readonly audio: { readonly mid: string; readonly payloadType: number } | undefined;
  /** The other sections (the audio one included), answered as inactive unless the audio is sent in it. */
  readonly otherSections: readonly { readonly mid: string; readonly kind: string }[];
}

interface MediaSection {
  kind: string;
  formats: string[];
  attributes: string[];
}

const ICE_CHARS = /^[A-Za-z0-9+/]+$/;

/**
 * Reads a WHEP offer with every field bounded: at least one video section offering H.264 in packetization mode 1
 * (RFC 6184), ICE credentials (RFC 8839) and a DTLS fingerprint, each section named by a mid. `preferredProfile` is
 * the stream's profile_idc (e.g. 0x64 High) when the encoder has started; a format with the same profile is chosen.
 */
export function parseWhepOffer(sdp: string, preferredProfile?: number): WhepOffer {
  if (Buffer.byteLength(sdp) > MAX_OFFER_BYTES) throw new OfferError(`the offer is limited to ${MAX_OFFER_BYTES} bytes`);
  const lines = sdp.split(/\r?\n/);
  if (lines.length > MAX_OFFER_LINES) throw new OfferError(`the offer has more than ${MAX_OFFER_LINES} lines`);
  if (!lines[0]?.startsWith('v=0')) throw new OfferError('the body is not an SDP offer (it must start with v=0)');
  const session: string[] = [];
  const sections: MediaSection[] = [];
  for (const line of lines) {
    if (line.length > MAX_LINE_LENGTH) throw new OfferError(`an offer line is longer than ${MAX_LINE_LENGTH} characters`);
    if (line.startsWith('m=')) {
      if (sections.length >= MAX_MEDIA_SECTIONS) throw new OfferError(`the offer has more than ${MAX_MEDIA_SECTIONS} media sections`);
      const [kind = '', , , ...formats] = line.slice(2).split(' ');
      sections.push({ kind, formats, attributes: [] });
    } else if (line.startsWith('a=')) {
      (sections.at(-1)?.attributes ?? session).push(line.slice(2));
    }
  }
  const video = sections.find((section) => section.kind === 'video');
  if (!video) throw new OfferError('the offer has no video section');
  const attribute = (section: MediaSection, name: string): string | undefined =>
    (section.attributes.find((a) => a.startsWith(`${name}:`)) ?? session.find((a) => a.startsWith(`${name}:`)))?.slice(name.length + 1).trim();
  const ufrag = attribute(video, 'ice-ufrag');
  const pwd = attribute(video, 'ice-pwd');
  if (!ufrag || !pwd) throw new OfferError('the offer has no ICE credentials (a=ice-ufrag and a=ice-pwd)');
  if (ufrag.length < 4 || ufrag.length > 256 || pwd.length < 22 || pwd.length > 256 || !ICE_CHARS.test(ufrag) || !ICE_CHARS.test(pwd)) {
    throw new OfferError('the offer\'s ICE credentials are malformed (RFC 8839: ufrag 4-256, pwd 22-256 ice-chars)');
  }
  if (!attribute(video, 'fingerprint')) throw new OfferError('the offer has no DTLS fingerprint (a=fingerprint)');
  const mids = sections.map((section) => section.attributes.find((a) => a.startsWith('mid:'))?.slice(4).trim() ?? '');
  const videoMid = mids[sections.indexOf(video)]!;
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(videoMid)) throw new OfferError('the offer\'s video section has no usable a=mid');
  const format = chooseH264Format(video, preferredProfile);
  const otherSections = sections.flatMap((section, index) => (section === video ? [] : [{ mid: mids[index]!, kind: section.kind }]));
  if (otherSections.some((other) => !/^[A-Za-z0-9_.-]{1,32}$/.test(other.mid))) throw new OfferError('a section of the offer has no usable a=mid');
  const audio = sections.flatMap((section, index) => {
    const payloadType = section.kind === 'audio' ? opusPayloadType(section) : undefined;
    return payloadType === undefined ? [] : [{ mid: mids[index]!, payloadType }];
  })[0];
  return { videoMid, ...format, rtxPayloadType: rtxPayloadTypeFor(video, format.payloadType), audio, otherSections };
}

/** The payload type an audio section gives Opus (RFC 7587: always opus/48000/2 in SDP), if it offers it. */
function opusPayloadType(audio: MediaSection): number | undefined {
  for (const rtpmap of audio.attributes.filter((a) => a.startsWith('rtpmap:'))) {
    const match = /^rtpmap:(\d{1,3}) opus\/48000\/2$/i.exec(rtpmap.trim());
    if (!match) continue;
    const payloadType = Number(match[1]);
    if (payloadType >= 96 && payloadType <= 127 && audio.formats.includes(String(payloadType))) return payloadType;
  }
  return undefined;
}

/** The H.264 packetization-mode 1 formats of a video section, the one whose profile matches first. */
function chooseH264Format(video: MediaSection, preferredProfile: number | undefined): { payloadType: number; profileLevelId: string } {
  const candidates: { payloadType: number; profileLevelId: string }[] = [];
  for (const rtpmap of video.attributes.filter((a) => a.startsWith('rtpmap:'))) {
    const match = /^rtpmap:(\d{1,3}) H264\/90000$/i.exec(rtpmap.trim());
    if (!match) continue;
    const payloadType = Number(match[1]);
    if (payloadType < 96 || payloadType > 127 || !video.formats.includes(String(payloadType))) continue;
    const fmtp = video.attributes.find((a) => a.startsWith(`fmtp:${payloadType} `))?.slice(`fmtp:${payloadType} `.length) ?? '';
    const parameters = new Map(fmtp.split(';').map((pair) => pair.trim().split('=') as [string, string?]).map(([k, v]) => [k.toLowerCase(), v ?? '']));
    if (parameters.get('packetization-mode') !== '1') continue;
    const profileLevelId = parameters.get('profile-level-id') ?? '42001f';
    if (!/^[0-9A-Fa-f]{6}$/.test(profileLevelId)) continue;
    candidates.push({ payloadType, profileLevelId: profileLevelId.toLowerCase() });
  }
  if (candidates.length === 0) throw new OfferError('the offer has no H.264 format in packetization-mode 1, the only video the relay sends');
  const matching = preferredProfile === undefined ? undefined : candidates.find((c) => parseInt(c.profileLevelId.slice(0, 2), 16) === preferredProfile);
  return matching ?? candidates[0]!;
}

/** The RTX format of a video section whose `apt` is `payloadType` (Chromium offers one per video format). */
function rtxPayloadTypeFor(video: MediaSection, payloadType: number): number | undefined {
  for (const rtpmap of video.attributes.filter((a) => a.startsWith('rtpmap:'))) {
    const match = /^rtpmap:(\d{1,3}) rtx\/90000$/i.exec(rtpmap.trim());
    if (!match) continue;
    const rtx = Number(match[1]);
    if (rtx < 96 || rtx > 127 || rtx === payloadType || !video.formats.includes(String(rtx))) continue;
    const fmtp = video.attributes.find((a) => a.startsWith(`fmtp:${rtx} `))?.slice(`fmtp:${rtx} `.length) ?? '';
    if (/(?:^|;)\s*apt=(\d{1,3})\s*(?:;|$)/.exec(fmtp)?.[1] === String(payloadType)) return rtx;
  }
  return undefined;
}
