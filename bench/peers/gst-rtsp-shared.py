#!/usr/bin/python3
"""GStreamer's RTSP server as a bench peer: one shared H.264 stream (640x480, 25 fps, 1000 kbit/s) at /live for every
reader, so the encoder runs once as in the relay. Usage: gst-rtsp-shared.py PORT. Exits when stdin closes."""
import os
import sys
import threading

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtsp', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402


def main() -> None:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address('127.0.0.1')
    server.set_service(sys.argv[1])
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch('( videotestsrc is-live=true ! video/x-raw,format=I420,width=640,height=480,framerate=25/1 '
                       '! x264enc tune=zerolatency speed-preset=ultrafast bitrate=1000 key-int-max=50 '
                       '! rtph264pay name=pay0 pt=96 config-interval=-1 )')
    factory.set_shared(True)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.TCP)
    server.get_mount_points().add_factory('/live', factory)
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
