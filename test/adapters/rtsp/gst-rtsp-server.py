#!/usr/bin/python3
"""A GStreamer RTSP server for the adapter's tests: one test-pattern stream at /cam, on a port the OS picks.

Usage: gst-rtsp-server.py h264|jpeg [fps]. Credentials come from RTSP_TEST_USER / RTSP_TEST_PASSWORD and
RTSP_TEST_AUTH (basic or digest); RTSP_TEST_PATTERN sets the videotestsrc properties (default "pattern=ball");
RTSP_TEST_AUDIO adds a 1 kHz audiotestsrc tone track (aac, pcma, pcmu or opus); RTSP_TEST_LAUNCH replaces the whole
launch line (e.g. a file through qtdemux). Prints "port N" once listening and "client-connected" per RTSP connection;
exits when stdin closes, so a crashed test never leaves it running.
"""
import os
import sys
import threading

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtsp', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

ENCODERS = {
    'h264': 'x264enc tune=zerolatency speed-preset=ultrafast key-int-max={key} ! rtph264pay name=pay0 pt=96',
    'jpeg': 'jpegenc quality=60 ! rtpjpegpay name=pay0 pt=26',
}

AUDIO = {
    'aac': 'audio/x-raw,rate=48000,channels=1 ! avenc_aac ! rtpmp4gpay name=pay1 pt=97',
    'pcma': 'audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay1',
    'pcmu': 'audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay1',
    'opus': 'audio/x-raw,rate=48000,channels=2 ! opusenc ! rtpopuspay name=pay1 pt=98',
}


def main() -> None:
    codec = sys.argv[1] if len(sys.argv) > 1 else 'h264'
    fps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    Gst.init(None)
    encoder = ENCODERS[codec].format(key=fps)
    pattern = os.environ.get('RTSP_TEST_PATTERN', 'pattern=ball')
    launch = (f'( videotestsrc is-live=true {pattern} ! video/x-raw,format=I420,width=320,height=240,framerate={fps}/1 '
              f'! {encoder}')
    audio = os.environ.get('RTSP_TEST_AUDIO')
    if audio:
        launch += f' audiotestsrc is-live=true freq=1000 volume=0.5 ! audioconvert ! audioresample ! {AUDIO[audio]}'
    launch += ' )'
    launch = os.environ.get('RTSP_TEST_LAUNCH', launch)
    server = GstRtspServer.RTSPServer()
    server.set_address('127.0.0.1')
    server.set_service('0')
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)

    user = os.environ.get('RTSP_TEST_USER')
    if user:
        password = os.environ.get('RTSP_TEST_PASSWORD', '')
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string('media.factory.role', 'user')
        if os.environ.get('RTSP_TEST_AUTH', 'basic') == 'digest':
            auth.add_digest(user, password, token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        else:
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_role_from_structure(Gst.Structure.new_from_string(
            'user, media.factory.access=(boolean)true, media.factory.construct=(boolean)true'))
        factory.set_permissions(permissions)

    server.get_mount_points().add_factory('/cam', factory)
    server.connect('client-connected', lambda _server, _client: print('client-connected', flush=True))
    if server.attach(None) == 0:
        print('cannot attach the RTSP server', file=sys.stderr, flush=True)
        sys.exit(1)
    print(f'port {server.get_bound_port()}', flush=True)

    def watch_stdin() -> None:
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    GLib.MainLoop().run()


if __name__ == '__main__':
    main()
