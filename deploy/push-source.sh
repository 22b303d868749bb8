#!/usr/bin/env bash
# Pushes a live test pattern or a webcam to a push:// camera of the relay. It asks POST /api/source for a utilization
# id, a port pair and an SSRC, runs GStreamer to send RTP with that SSRC to them (RTCP both ways through rtpsink),
# checks validate_stream, and sends stop_stream when stopped (Ctrl-C or SIGTERM).
#
#   PUBLISH_KEY=secret deploy/push-source.sh http://relay:8090 [--device /dev/video0] [--codec vp8|h264|jpeg]
#                      [--size 1280x720] [--rate 25] [--bitrate 2000] [--keyframe-seconds 2]
#
# The key is read from the environment so that it never shows in `ps`. Needs curl and gst-launch-1.0 with the good
# plugins (VP8, JPEG, RTP), the bad ones (rtpsink), plus the ugly ones for H.264 (x264enc). The relay asks for a
# keyframe when it needs one (after a loss, when an on-demand camera starts), so a long --keyframe-seconds saves
# bandwidth on slow links without slowing viewers down.
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
relay=${1%/}; shift
device='' codec=vp8 size=640x480 rate=25 bitrate=1000 keyframe_seconds=2
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --codec) codec=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --bitrate) bitrate=$2; shift 2 ;;
    --keyframe-seconds) keyframe_seconds=$2; shift 2 ;;
    *) usage ;;
  esac
done
[ -n "${PUBLISH_KEY:-}" ] || { echo "push-source: set PUBLISH_KEY to one of the camera's PublishKey values" >&2; exit 2; }
[[ $size =~ ^([0-9]+)x([0-9]+)$ ]] || { echo "push-source: --size is WxH, e.g. 1280x720" >&2; exit 2; }
width=${BASH_REMATCH[1]} height=${BASH_REMATCH[2]}
[[ $rate =~ ^[1-9][0-9]*$ && $bitrate =~ ^[1-9][0-9]*$ && $keyframe_seconds =~ ^[1-9][0-9]*$ ]] ||
  { echo "push-source: --rate, --bitrate and --keyframe-seconds are whole numbers from 1" >&2; exit 2; }
keyframe_distance=$((rate * keyframe_seconds))
# The payloader comes last: start_stream's SSRC is added to it.
case "$codec" in
  vp8) encoder="vp8enc deadline=1 keyframe-max-dist=$keyframe_distance target-bitrate=$((bitrate * 1000)) ! rtpvp8pay pt=96" ;;
  h264) encoder="x264enc tune=zerolatency speed-preset=ultrafast key-int-max=$keyframe_distance bitrate=$bitrate ! rtph264pay pt=96 config-interval=-1" ;;
  jpeg) encoder="jpegenc quality=70 ! rtpjpegpay" ;;
  *) echo "push-source: --codec is vp8, h264 or jpeg" >&2; exit 2 ;;
esac

key=${PUBLISH_KEY//\\/\\\\}
key=${key//\"/\\\"}

# One request: the JSON body goes on stdin (never on the command line); prints the answer, fails on an error code.
api() {
  local answer
  answer=$(printf '%s' "$1" | curl -sS --max-time 10 -H 'Content-Type: application/json' --data-binary @- "$relay/api/source") || return 1
  if [[ $answer == *'"error_code"'* ]]; then echo "push-source: $answer" >&2; return 1; fi
  printf '%s' "$answer"
}
# A field of a flat JSON object: a number or a string without quotes in it.
field() { sed -nE "s/.*\"$1\": *\"?([^\",}]*)\"?.*/\1/p" <<<"$2"; }

id=$(field utilization_id "$(api "{\"action\":\"new_utilization_id\",\"key\":\"$key\"}")")
started=$(api "{\"action\":\"start_stream\",\"key\":\"$key\",\"utilization_id\":\"$id\",\"width\":$width,\"height\":$height,\"codec\":\"$codec\"}")
url=$(field url "$started") rtp_port=$(field rtp_port "$started") rtcp_port=$(field rtcp_port "$started")
# The relay takes only RTP with the SSRC it assigned here: anyone else's packets at these ports are refused.
ssrc=$(field ssrc "$started")
[[ $ssrc =~ ^[1-9][0-9]*$ ]] || { echo "push-source: start_stream gave no SSRC: $started" >&2; exit 1; }
host=${url#rtp://}; host=${host%:*}; host=${host#[}; host=${host%]}
echo "push-source: sending $codec ${width}x${height} at $rate fps to $host, RTP port $rtp_port, RTCP port $rtcp_port"

stop() {
  trap - INT TERM
  [ -n "${gst:-}" ] && kill "$gst" 2>/dev/null && wait "$gst" 2>/dev/null || true
  api "{\"action\":\"stop_stream\",\"utilization_id\":\"$id\"}" >/dev/null && echo "push-source: stream stopped"
  exit 0
}
trap stop INT TERM

if [ -n "$device" ]; then source="v4l2src device=$device"; else source="videotestsrc is-live=true"; fi
[ "$rtcp_port" = $((rtp_port + 1)) ] || { echo "push-source: the relay gave RTCP port $rtcp_port; rtpsink sends RTCP to the RTP port + 1" >&2; exit 1; }
[[ $host == *:* ]] && uri_host="[$host]" || uri_host=$host
# rtpsink sends RTCP from, and listens on, one socket (symmetric RTCP): the relay's receiver reports and keyframe
# requests (RTCP PLI) come back to rtpbin, which has the encoder make a keyframe at once.
# shellcheck disable=SC2086 # the pipeline description is split into gst-launch's arguments on purpose
gst-launch-1.0 -q $source ! videoconvert ! videoscale ! videorate ! "video/x-raw,format=I420,width=$width,height=$height,framerate=$rate/1" \
  ! $encoder ssrc="$ssrc" ! rtpsink uri="rtp://$uri_host:$rtp_port" &
gst=$!

for _ in $(seq 1 30); do
  sleep 0.5
  answer=$(printf '%s' "{\"action\":\"validate_stream\",\"utilization_id\":\"$id\"}" |
    curl -sS --max-time 10 -H 'Content-Type: application/json' --data-binary @- "$relay/api/source") || continue
  # 5004: the camera is restarting and takes the stream in a moment; any other refusal is final.
  [[ $answer == *'"error_code":5004'* ]] && continue
  if [[ $answer == *'"error_code"'* ]]; then
    echo "push-source: $answer" >&2
    kill "$gst" 2>/dev/null || true
    exit 1
  fi
  if [ "$(field validation_code "$answer")" = 0 ]; then echo "push-source: validated: $(field validation_txt "$answer")"; validated=1; break; fi
done
# Not validated in 15 s: say what the relay last said (e.g. packets refused, and why), and keep streaming.
[ -n "${validated:-}" ] || echo "push-source: not validated yet: $(field validation_txt "${answer:-}")" >&2
wait "$gst" || true
echo "push-source: GStreamer ended" >&2
stop
