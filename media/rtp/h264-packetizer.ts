import { MAX_RTP_PAYLOAD, type RtpPayload } from './packet.ts';

const NAL_FU_A = 28;

/**
 * Cuts one H.264 access unit (NAL units without start codes) into RTP payloads (RFC 6184, packetization-mode 1):
 * a NAL unit that fits goes whole (single NAL unit packet), a larger one as FU-A fragments. The marker is set on the
 * last packet of the access unit. Empty NAL units are skipped.
 */
export function packetizeH264(nalus: readonly Buffer[], maxPayload = MAX_RTP_PAYLOAD): RtpPayload[] {
  const payloads: Buffer[] = [];
  for (const nal of nalus) {
    if (nal.length === 0) continue;
    if (nal.length <= maxPayload) {
      payloads.push(nal);
      continue;
    }
    const indicator = (nal[0]! & 0xe0) | NAL_FU_A;
    const type = nal[0]! & 0x1f;
    const chunk = maxPayload - 2;
    for (let at = 1; at < nal.length; at += chunk) {
      const start = at === 1 ? 0x80 : 0;
      const end = at + chunk >= nal.length ? 0x40 : 0;
      const body = nal.subarray(at, at + chunk);
      const payload = Buffer.allocUnsafe(2 + body.length);
      payload[0] = indicator;
      payload[1] = start | end | type;
      body.copy(payload, 2);
      payloads.push(payload);
    }
  }
  return payloads.map((payload, index) => ({ payload, marker: index === payloads.length - 1 }));
}

/** The SDP fmtp line's parameters for a track: profile-level-id from the SPS, the parameter sets in base64. */
export function h264FmtpParameters(sps: Buffer, pps: Buffer): string {
  const profileLevelId = Buffer.from([sps[1] ?? 0, sps[2] ?? 0, sps[3] ?? 0]).toString('hex');
  return `packetization-mode=1;profile-level-id=${profileLevelId};sprop-parameter-sets=${sps.toString('base64')},${pps.toString('base64')}`;
}
