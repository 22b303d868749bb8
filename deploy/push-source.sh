#!/usr/bin/env bash
# Pushes a live test pattern or a webcam to a push:// camera of the relay. It asks POST /api/source for a utilization
# id and a port pair, runs GStreamer to send RTP to them (RTCP both ways through rtpbin), checks validate_stream,
# and sends stop_stream when stopped (Ctrl-C or SIGTERM).
#
#   PUBLISH_KEY=secret deploy/push-source.sh http://relay:8090 [--device /dev/video0] [--codec vp8|h264|jpeg]
#                                                            [--size 1280x720] [--rate 25] [--bitrate 2000]
#
# The key is read from the environment so that it never shows in `ps`. Needs curl and gst-launch-1.0 with the good
# plugins (VP8, JPEG, RTP), plus the ugly ones for H.264 (x264enc).
set -euo pipefail

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
relay=${1%/}; shift
device='' codec=vp8 size=640x480 rate=25 bitrate=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --codec) codec=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --bitrate) bitrate=$2; shift 2 ;;
    *) usage ;;
  esac
done
[ -n "${PUBLISH_KEY:-}" ] || { echo "push-source: set PUBLISH_KEY to one of the camera's PublishKey values" >&2; exit 2; }
[[ $size =~ ^([0-9]+)x([0-9]+)$ ]] || { echo "push-source: --size is WxH, e.g. 1280x720" >&2; exit 2; }
width=${BASH_REMATCH[1]} height=${BASH_REMATCH[2]}
[[ $rate =~ ^[0-9]+$ && $bitrate =~ ^[0-9]+$ ]] || { echo "push-source: --rate and --bitrate are whole numbers" >&2; exit 2; }
case "$codec" in
  vp8) encoder="vp8enc deadline=1 keyframe-max-dist=$((rate * 2)) target-bitrate=$((bitrate * 1000)) ! rtpvp8pay pt=96" ;;
  h264) encoder="x264enc tune=zerolatency speed-preset=ultrafast key-int-max=$((rate * 2)) bitrate=$bitrate ! rtph264pay pt=96 config-interval=-1" ;;
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
# RTCP leaves from and comes back to one local address and port (symmetric RTCP): the relay's receiver reports and
# keyframe requests (PLI, after a loss) reach rtpbin, which asks the encoder for a keyframe at once. gst-launch cannot
# share one socket between udpsink and udpsrc, so this works when udpsrc binds last; else the encoder falls back to its
# own keyframe schedule (every two seconds).
local_address=$(ip route get "$host" 2>/dev/null | sed -n 's/.* src \([^ ]*\).*/\1/p' | head -n 1)
local_address=${local_address:-0.0.0.0}
local_rtcp_port=$((40000 + RANDOM % 20000))
# shellcheck disable=SC2086 # the pipeline description is split into gst-launch's arguments on purpose
gst-launch-1.0 -q rtpbin name=rtpbin rtp-profile=avpf \
  $source ! videoconvert ! videoscale ! videorate ! "video/x-raw,format=I420,width=$width,height=$height,framerate=$rate/1" \
  ! $encoder ! rtpbin.send_rtp_sink_0 \
  rtpbin.send_rtp_src_0 ! udpsink host="$host" port="$rtp_port" \
  rtpbin.send_rtcp_src_0 ! udpsink host="$host" port="$rtcp_port" bind-address="$local_address" bind-port="$local_rtcp_port" \
    sync=false async=false \
  udpsrc address="$local_address" port="$local_rtcp_port" ! rtpbin.recv_rtcp_sink_0 &
gst=$!

for _ in $(seq 1 30); do
  sleep 0.5
  if ! answer=$(api "{\"action\":\"validate_stream\",\"utilization_id\":\"$id\"}"); then
    kill "$gst" 2>/dev/null || true
    exit 1
  fi
  if [ "$(field validation_code "$answer")" = 0 ]; then echo "push-source: validated: $(field validation_txt "$answer")"; break; fi
done
wait "$gst" || true
echo "push-source: GStreamer ended" >&2
stop
