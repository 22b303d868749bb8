// The relay's WebSocket player: plays <video data-src="/NAME.ws"> with the lowest delay a browser allows. Where
// WebCodecs exists it asks for raw access units, decodes them with a VideoDecoder (optimizeForLatency) and draws each
// frame to a canvas the moment it is decoded; a decoder that falls behind skips to the next keyframe. Elsewhere it asks
// for fMP4 and plays it through Media Source Extensions (ManagedMediaSource on iPhones), chasing the live edge.
// Sound (AAC) comes when the stream has it and the browser decodes it: with WebCodecs an AudioDecoder feeds an
// AudioContext, each buffer scheduled at its timestamp mapped to the context's clock behind a short jitter buffer,
// and while sound plays each video frame is painted when the sound heard reaches its time (lip sync within a display
// frame, about 17 ms); muted, frames are painted as they are decoded. With MSE the video element plays both tracks.
// player-shell.js (loaded first) owns the states, messages, reconnect watchdog and embed messaging.
(function () {
  'use strict';
  var RETRY_MS = 1500;
  /** A live stream delivers a frame every fraction of a second: this long without one is a dead session. */
  var STALL_MS = 6000;
  /** Chunks waiting in the decoder beyond which it is behind: what is queued is dropped up to the next keyframe. */
  var MAX_DECODE_QUEUE = 3;
  /**
   * MSE: buffered video ahead of the playhead beyond which it jumps to the live edge, and where it lands. A jump
   * lands short of its mark (the start-up group is still arriving while the seek completes: about 0.33 s ahead), so
   * what remains is played down at 1.1x (not seen) while the low point, what is left just before the next frame
   * lands, is above 0.1 s, and at 1x again from 0.06 s: at 25 fps the FLV player's bounds (0.15 s and 0.1 s ahead
   * with the frame), 1.5 frames of delivery jitter ridden out. The low point, not the figure with the frame, so that
   * a camera at 10 fps, whose every frame adds 0.1 s, settles too instead of running dry.
   */
  var MSE_MAX_AHEAD_S = 0.5;
  var MSE_TARGET_AHEAD_S = 0.1;
  var MSE_CATCH_UP_LOW_S = 0.1;
  var MSE_SETTLED_LOW_S = 0.06;
  var MSE_CATCH_UP_RATE = 1.1;
  /** Codecs offered in the hello: the relay's encoder writes H.264 in one of these profiles. */
  var CODECS = ['avc1.640033', 'avc1.64001f', 'avc1.4d401f', 'avc1.42e01f', 'h264'];
  /** Sound scheduled this far behind its arrival rides out network jitter (and costs that much delay). */
  var JITTER_S = 0.08;
  /** Sound that would play this far ahead of the clock means the mapping is stale (a restart): it is made again. */
  var RESYNC_AHEAD_S = 1;
  /** Late buffers in a row after which the mapping is made again. */
  var MAX_LATE_RUN = 5;
  /** Decoded frames waiting for the sound to reach them; beyond this the oldest are painted at once. */
  var MAX_PENDING_FRAMES = 8;
  /** Audio chunks waiting in the decoder beyond which new ones are dropped. */
  var MAX_AUDIO_QUEUE = 20;

  var video = document.getElementById('video');
  if (!video || !window.RelayPlayerShell) return;
  var src = video.getAttribute('data-src');
  var webcodecs = typeof window.VideoDecoder === 'function' && typeof window.EncodedVideoChunk === 'function';
  var MediaSourceType = window.ManagedMediaSource || window.MediaSource;
  var engine = webcodecs ? 'webcodecs' : MediaSourceType ? 'mse-ws' : 'none';
  var AudioContextType = window.AudioContext || window.webkitAudioContext;
  /** Whether to ask for sound: a browser that cannot decode it gets video only. */
  var wantSound = engine === 'webcodecs' ? typeof window.AudioDecoder === 'function' && !!AudioContextType
    : !!MediaSourceType && MediaSourceType.isTypeSupported('video/mp4; codecs="avc1.42e01f,mp4a.40.2"');
  var shell = window.RelayPlayerShell(engine, STALL_MS);
  if (!shell) return;
  var info = shell.info;
  info.framesPainted = 0;
  info.framesSkipped = 0;
  info.audioPlayed = 0;
  info.audioLate = 0;
  /** While sound plays: for the latest painted frames, the time heard at its paint minus the frame's time (ms). */
  info.syncMs = [];

  var canvas = null;
  var context = null;
  if (engine === 'webcodecs') {
    canvas = document.createElement('canvas');
    canvas.id = 'canvas';
    canvas.className = 'player-canvas';
    video.parentNode.insertBefore(canvas, video);
    video.hidden = true;
    context = canvas.getContext('2d');
  }

  var socket = null;
  var decoder = null;
  var mediaSource = null;
  var sourceBuffer = null;
  var queue = [];
  /** MSE: the end of the buffered media at the last append, to tell what the newest append added. */
  var lastEnd = 0;
  var audioDecoder = null;
  /** Chunks were dropped since the last one decoded (the decoder was behind). */
  var audioGap = false;
  /** Decoded frames waiting for the sound to reach their time, oldest first. */
  var pending = [];
  var paintScheduled = false;
  /** The page's one AudioContext (made on the first sound, resumed by the unmute click) and its mapping. */
  var sound = null;

  function wsUrl() {
    var url = new URL(shell.source(src));
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  }

  function bytesOfBase64(text) {
    var binary = atob(text);
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  function stop() {
    var old = socket;
    socket = null;
    if (old) old.close();
    if (decoder && decoder.state !== 'closed') decoder.close();
    decoder = null;
    if (audioDecoder && audioDecoder.state !== 'closed') audioDecoder.close();
    audioDecoder = null;
    while (pending.length) pending.shift().close();
    if (sound) sound.offset = null;
    sourceBuffer = null;
    queue = [];
    lastEnd = 0;
    if (mediaSource) {
      mediaSource = null;
      video.removeAttribute('src');
      video.load();
    }
  }

  /** Opens the WebSocket; `onConfig` and `onMedia` get the config messages and the binary ones. */
  function connect(mode, onConfig, onMedia) {
    var ws = new WebSocket(wsUrl());
    socket = ws;
    ws.binaryType = 'arraybuffer';
    ws.onopen = function () {
      ws.send(JSON.stringify({ version: 1, mode: mode, codecs: wantSound ? CODECS.concat(['mp4a.40.2']) : CODECS, audio: wantSound }));
    };
    ws.onmessage = function (event) {
      if (socket !== ws) return;
      if (typeof event.data !== 'string') return onMedia(event.data);
      var message = JSON.parse(event.data);
      if (message.type === 'config') onConfig(message);
      else if (message.type === 'error') shell.note('relay: ' + message.message);
      else if (message.type === 'hello') info.audioNote = message.audioNote || null;
    };
    // The relay closes when the stream ends (camera gone, reload) or refuses the upgrade (full, expired link):
    // start over; the shell's state poll says why, and stops on an expired link.
    ws.onclose = function (event) {
      if (socket === ws) shell.rebuild('connection closed (' + event.code + ')');
    };
  }

  /** The page's AudioContext, silent (gain 0) while the video is muted; its analyser is the tests' read-only tap. */
  function soundOutput() {
    if (sound) return sound;
    var audioContext = new AudioContextType({ latencyHint: 'interactive' });
    var gain = audioContext.createGain();
    var analyser = audioContext.createAnalyser();
    analyser.fftSize = 2048;
    gain.gain.value = video.muted ? 0 : 1;
    gain.connect(analyser);
    analyser.connect(audioContext.destination);
    sound = { context: audioContext, gain: gain, offset: null, lateRun: 0 };
    info.audioPeak = function () {
      var samples = new Float32Array(analyser.fftSize);
      analyser.getFloatTimeDomainData(samples);
      var peak = 0;
      for (var i = 0; i < samples.length; i++) peak = Math.max(peak, Math.abs(samples[i]));
      return peak;
    };
    return sound;
  }

  /** Unmuting (the shell's button) resumes the context: browsers start it suspended until the viewer acts. */
  function followMute() {
    if (!sound) return;
    sound.gain.gain.value = video.muted ? 0 : 1;
    sound.offset = null;
    if (!video.muted && sound.context.state !== 'running') sound.context.resume().catch(function (error) { shell.note('audio: ' + error.message); });
  }

  /** True while sound plays: video frames then wait for the sound heard to reach them. */
  function soundClockOn() {
    return !!sound && sound.offset !== null && sound.context.state === 'running' && !video.muted;
  }

  /** The media time being heard now, in seconds (what was scheduled, less the output's latency). */
  function heardTime() {
    var clock = sound.context;
    return clock.currentTime - (clock.outputLatency || clock.baseLatency || 0) - sound.offset;
  }

  /** Schedules one decoded AudioData at its timestamp on the context's clock; late ones are dropped. */
  function playAudio(data) {
    if (!sound || sound.context.state !== 'running' || video.muted) return data.close();
    var clock = sound.context;
    var time = data.timestamp / 1e6;
    var now = clock.currentTime;
    if (sound.offset === null || time + sound.offset > now + RESYNC_AHEAD_S) sound.offset = now + JITTER_S - time;
    var at = time + sound.offset;
    if (at < now) {
      info.audioLate++;
      if (++sound.lateRun > MAX_LATE_RUN) sound.offset = null;
      return data.close();
    }
    sound.lateRun = 0;
    var buffer = clock.createBuffer(data.numberOfChannels, data.numberOfFrames, data.sampleRate);
    for (var channel = 0; channel < data.numberOfChannels; channel++) {
      var plane = new Float32Array(data.numberOfFrames);
      data.copyTo(plane, { planeIndex: channel, format: 'f32-planar' });
      buffer.copyToChannel(plane, channel);
    }
    data.close();
    var node = clock.createBufferSource();
    node.buffer = buffer;
    node.connect(sound.gain);
    node.start(at);
    info.audioPlayed++;
  }

  /** Paints a frame while the sound plays, noting how far the sound heard is from it. */
  function paintSynced(frame) {
    info.syncMs.push(Math.round((heardTime() - frame.timestamp / 1e6) * 1000));
    if (info.syncMs.length > 100) info.syncMs.shift();
    paint(frame);
  }

  function paint(frame) {
    context.drawImage(frame, 0, 0, canvas.width, canvas.height);
    frame.close();
    info.framesPainted++;
    shell.painted();
  }

  /** Paints the newest frame whose time the sound has reached; a frame far ahead of it (a restart) is painted at once. */
  function paintDue() {
    paintScheduled = false;
    if (!soundClockOn()) {
      while (pending.length) paint(pending.shift());
      return;
    }
    var heard = heardTime();
    var due = null;
    while (pending.length && (pending[0].timestamp / 1e6 <= heard || pending[0].timestamp / 1e6 - heard > RESYNC_AHEAD_S)) {
      if (due) due.close();
      due = pending.shift();
    }
    if (due) paintSynced(due);
    if (pending.length) schedulePaint();
  }

  function schedulePaint() {
    if (paintScheduled) return;
    paintScheduled = true;
    requestAnimationFrame(paintDue);
  }

  /** Video from the decoder: painted now when muted, else when the sound heard reaches it. */
  function showFrame(frame) {
    if (!soundClockOn()) {
      while (pending.length) paint(pending.shift());
      return paint(frame);
    }
    pending.push(frame);
    if (pending.length > MAX_PENDING_FRAMES) paintSynced(pending.shift());
    schedulePaint();
  }

  /** Sets up the AudioDecoder for the config's AAC track, or asks again for video only when it cannot be decoded. */
  function configureSound(audio) {
    if (audioDecoder && audioDecoder.state !== 'closed') audioDecoder.close();
    audioDecoder = null;
    if (!audio) return;
    var config = { codec: audio.codec, sampleRate: audio.sampleRate, numberOfChannels: audio.channels, description: bytesOfBase64(audio.description) };
    var session = socket;
    AudioDecoder.isConfigSupported(config).then(function (support) {
      if (socket !== session) return;
      if (!support.supported) {
        wantSound = false;
        return shell.rebuild('this browser cannot decode ' + audio.codec + ': video only');
      }
      var own = new AudioDecoder({
        output: playAudio,
        error: function (error) {
          shell.note('audio decoder: ' + error.message);
          if (audioDecoder === own) audioDecoder = null;
        },
      });
      own.configure(config);
      own.relayConfig = config;
      audioDecoder = own;
      audioGap = false;
      soundOutput();
      shell.setAudio(true);
    }, function (error) {
      shell.note('audio: ' + error.message);
    });
  }

  function decodeAudio(view, data) {
    if (!audioDecoder || audioDecoder.state !== 'configured') return;
    if (audioDecoder.decodeQueueSize > MAX_AUDIO_QUEUE) {
      audioGap = true;
      return;
    }
    // The decoder times its output by counting samples from the first chunk it got, not by each chunk's timestamp:
    // after dropped chunks it starts again, or all later sound would be stamped early by what was dropped.
    if (audioGap) {
      audioDecoder.reset();
      audioDecoder.configure(audioDecoder.relayConfig);
      audioGap = false;
    }
    var timestamp = Number(view.getBigUint64(4));
    audioDecoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: timestamp, data: new Uint8Array(data, 12) }));
  }

  function startWebCodecs() {
    var waitingForKey = true;
    connect('raw', function (config) {
      if (decoder && decoder.state !== 'closed') decoder.close();
      canvas.width = config.width;
      canvas.height = config.height;
      var own = new VideoDecoder({
        output: showFrame,
        error: function (error) {
          if (decoder === own) shell.rebuild('decoder: ' + error.message);
        },
      });
      own.configure({ codec: config.codec, description: bytesOfBase64(config.description), optimizeForLatency: true });
      decoder = own;
      waitingForKey = true;
      configureSound(config.audio);
    }, function (data) {
      if (!decoder || decoder.state !== 'configured' || data.byteLength < 12) return;
      var view = new DataView(data);
      if (view.getUint8(0) === 2) return decodeAudio(view, data);
      var keyframe = (view.getUint8(1) & 1) === 1;
      if (decoder.decodeQueueSize > MAX_DECODE_QUEUE && !keyframe) waitingForKey = true;
      if (waitingForKey && !keyframe) {
        info.framesSkipped++;
        return;
      }
      waitingForKey = false;
      var timestamp = Number(view.getBigUint64(4));
      decoder.decode(new EncodedVideoChunk({ type: keyframe ? 'key' : 'delta', timestamp: timestamp, data: new Uint8Array(data, 12) }));
    });
  }

  function pump() {
    if (!sourceBuffer || sourceBuffer.updating || queue.length === 0) return;
    try {
      sourceBuffer.appendBuffer(queue.shift());
    } catch (error) {
      shell.rebuild('append: ' + error.message);
    }
  }

  /**
   * Keeps MSE playback at the live edge: a backlog (start-up group, a hidden tab) is jumped over, a smaller one played
   * down a little faster, old video removed.
   */
  function chaseLiveEdge() {
    var buffered = video.buffered;
    if (!sourceBuffer || sourceBuffer.updating || buffered.length === 0) return;
    var end = buffered.end(buffered.length - 1);
    var ahead = end - video.currentTime;
    var added = end > lastEnd && end - lastEnd < MSE_MAX_AHEAD_S ? end - lastEnd : 0;
    lastEnd = end;
    if (ahead > MSE_MAX_AHEAD_S) video.currentTime = end - MSE_TARGET_AHEAD_S;
    else if (ahead - added > MSE_CATCH_UP_LOW_S) video.playbackRate = MSE_CATCH_UP_RATE;
    else if (ahead - added <= MSE_SETTLED_LOW_S) video.playbackRate = 1;
    if (video.currentTime - buffered.start(0) > 30) sourceBuffer.remove(buffered.start(0), video.currentTime - 10);
  }

  function startMse() {
    var own = new MediaSourceType();
    mediaSource = own;
    video.disableRemotePlayback = true; // ManagedMediaSource plays only with remote playback off
    video.src = URL.createObjectURL(own);
    own.addEventListener('sourceopen', function () {
      if (mediaSource !== own) return;
      connect('fmp4', function (config) {
        if (sourceBuffer) return; // a restarted encoder sends a new init segment, appended like any other
        sourceBuffer = own.addSourceBuffer(config.mime);
        sourceBuffer.addEventListener('updateend', function () {
          chaseLiveEdge();
          pump();
        });
      }, function (data) {
        queue.push(data);
        pump();
      });
    });
    shell.play();
  }

  function start() {
    if (engine === 'none') return shell.setPhase('unsupported', 'this browser cannot play this stream (no WebCodecs, no Media Source Extensions)');
    if (engine === 'webcodecs') return startWebCodecs();
    startMse();
  }

  video.addEventListener('playing', function () { shell.setPhase('connecting'); });
  video.addEventListener('volumechange', followMute);
  // Resumed within the click itself, where the browser surely counts it as the viewer's gesture.
  var unmute = document.getElementById('player-unmute');
  if (unmute) unmute.addEventListener('click', function () { if (sound && sound.context.state !== 'running') sound.context.resume(); });
  shell.session = { start: start, stop: stop, retryMs: RETRY_MS };
  start();
})();
