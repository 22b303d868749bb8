import t from 'tap';
import { InterleavedDemuxer, MAX_BUFFERED_BYTES, frameInterleaved } from '../../../media/rtsp/interleaved.ts';
import { parseMessage, parseRequestLine, parseStatusLine, RTSP_LIMITS, serializeRequest, type RtspRequest } from '../../../media/rtsp/message.ts';

/** One table for both directions: each request serialises to exactly these bytes, and those bytes parse back to it. */
const REQUESTS: Array<{ name: string; request: RtspRequest; cseq: number; wire: string }> = [
  {
    name: 'OPTIONS with no headers',
    request: { method: 'OPTIONS', uri: 'rtsp://cam/live', headers: [] },
    cseq: 1,
    wire: 'OPTIONS rtsp://cam/live RTSP/1.0\r\nCSeq: 1\r\n\r\n',
  },
  {
    name: 'SETUP with a Transport header',
    request: { method: 'SETUP', uri: 'rtsp://10.0.0.1:8554/s/trackID=0', headers: [['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1']] },
    cseq: 3,
    wire: 'SETUP rtsp://10.0.0.1:8554/s/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n',
  },
  {
    name: 'SET_PARAMETER with a body gets a Content-Length',
    request: { method: 'SET_PARAMETER', uri: 'rtsp://cam/', headers: [['Content-Type', 'text/parameters']], body: Buffer.from('a: 1\r\n') },
    cseq: 9,
    wire: 'SET_PARAMETER rtsp://cam/ RTSP/1.0\r\nCSeq: 9\r\nContent-Type: text/parameters\r\nContent-Length: 6\r\n\r\na: 1\r\n',
  },
];

for (const { name, request, cseq, wire } of REQUESTS) {
  t.test(`request round trip: ${name}`, async (t) => {
    const bytes = serializeRequest(request, cseq);
    t.equal(bytes.toString('latin1'), wire);
    const parsed = parseMessage(bytes);
    t.ok(parsed);
    t.equal(parsed!.length, bytes.length);
    t.same(parseRequestLine(parsed!.message.startLine), { method: request.method, uri: request.uri });
    t.equal(parsed!.message.headers.get('cseq'), String(cseq), 'header names match case-insensitively');
    t.same(parsed!.message.body, request.body ?? Buffer.alloc(0));
  });
}

/** Responses as servers send them, and what the parser must make of them. */
const RESPONSES: Array<{ name: string; wire: string; status: number; reason: string; headers: Record<string, string>; body: string }> = [
  { name: 'a plain 200', wire: 'RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n', status: 200, reason: 'OK', headers: { CSeq: '1', public: 'OPTIONS, DESCRIBE' }, body: '' },
  { name: 'a body by Content-Length', wire: 'RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nv=0\r\n', status: 200, reason: 'OK', headers: { 'content-length': '5' }, body: 'v=0\r\n' },
  { name: 'bare LF line ends', wire: 'RTSP/1.0 454 Session Not Found\nCSeq: 4\n\n', status: 454, reason: 'Session Not Found', headers: { CSeq: '4' }, body: '' },
  { name: 'no reason phrase, odd spacing', wire: 'RTSP/1.0 404\r\nCSeq:7\r\nX-Thing:   spaced  \r\n\r\n', status: 404, reason: '', headers: { cseq: '7', 'x-thing': 'spaced' }, body: '' },
];

for (const { name, wire, status, reason, headers, body } of RESPONSES) {
  t.test(`response parse: ${name}`, async (t) => {
    const bytes = Buffer.from(wire, 'latin1');
    const parsed = parseMessage(bytes);
    t.ok(parsed);
    t.equal(parsed!.length, bytes.length);
    t.same(parseStatusLine(parsed!.message.startLine), { status, reason });
    for (const [key, value] of Object.entries(headers)) t.equal(parsed!.message.headers.get(key), value, key);
    t.equal(parsed!.message.body.toString('latin1'), body);
    for (let cut = 0; cut < bytes.length; cut++) {
      if (parseMessage(bytes.subarray(0, cut)) !== undefined) t.fail(`a message cut at ${cut} parsed`);
    }
  });
}

/** Input a camera must never get through: each is a PROTOCOL error with a clear message. */
const BAD: Array<{ name: string; wire: Buffer; message: RegExp }> = [
  { name: 'a header block over the limit', wire: Buffer.from(`RTSP/1.0 200 OK\r\nX: ${'a'.repeat(RTSP_LIMITS.maxHeaderBytes)}`), message: /header block larger/ },
  { name: 'too many headers', wire: Buffer.from(`RTSP/1.0 200 OK\r\n${'X: 1\r\n'.repeat(65)}\r\n`), message: /more than 64 headers/ },
  { name: 'a body over the limit', wire: Buffer.from(`RTSP/1.0 200 OK\r\nContent-Length: ${RTSP_LIMITS.maxBodyBytes + 1}\r\n\r\n`), message: /body larger/ },
  { name: 'a negative Content-Length', wire: Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n'), message: /bad Content-Length/ },
  { name: 'a header line without a colon', wire: Buffer.from('RTSP/1.0 200 OK\r\nnonsense\r\n\r\n'), message: /without a name/ },
  { name: 'a header name with spaces', wire: Buffer.from('RTSP/1.0 200 OK\r\nBad Name: 1\r\n\r\n'), message: /bad header name/ },
];

for (const { name, wire, message } of BAD) {
  t.test(`rejected: ${name}`, async (t) => {
    t.throws(() => parseMessage(wire), { name: 'ProtocolError', code: 'PROTOCOL', message });
  });
}

t.test('status and request lines that are not are rejected', async (t) => {
  for (const line of ['HTTP/1.1 200 OK', 'RTSP/1.0 20 OK', 'RTSP/1.0', 'garbage']) t.throws(() => parseStatusLine(line), { code: 'PROTOCOL' }, line);
  for (const line of ['DESCRIBE', 'DESCRIBE  rtsp://x RTSP/1.0', 'DE SCRIBE rtsp://x RTSP/1.0']) t.throws(() => parseRequestLine(line), { code: 'PROTOCOL' }, line);
});

t.test('a request cannot smuggle headers through a value or a URI', async (t) => {
  t.throws(() => serializeRequest({ method: 'OPTIONS', uri: 'rtsp://x/\r\nEvil: 1', headers: [] }, 1), { code: 'PROTOCOL' });
  t.throws(() => serializeRequest({ method: 'OPTIONS', uri: 'rtsp://x/', headers: [['Session', '1\r\nEvil: 1']] }, 1), { code: 'PROTOCOL' });
  t.throws(() => serializeRequest({ method: 'OPT IONS', uri: 'rtsp://x/', headers: [] }, 1), { code: 'PROTOCOL' });
});

t.test('the demuxer splits messages and interleaved frames arriving a byte at a time', async (t) => {
  const response = Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 5\r\nContent-Length: 3\r\n\r\nabc');
  const stream = Buffer.concat([frameInterleaved(0, Buffer.from('rtp')), Buffer.from('\r\n'), response, frameInterleaved(7, Buffer.alloc(0)), frameInterleaved(1, Buffer.alloc(300, 1))]);
  const demuxer = new InterleavedDemuxer();
  const items = [];
  for (const byte of stream) items.push(...demuxer.push(Buffer.from([byte])));
  t.same(items.map((item) => (item.kind === 'data' ? `${item.channel}:${item.payload.length}` : item.message.headers.get('CSeq'))), ['0:3', '5', '7:0', '1:300']);
  t.equal(demuxer.bufferedBytes, 0);
});

t.test('the demuxer holds a largest interleaved frame but never more than its bound', async (t) => {
  const demuxer = new InterleavedDemuxer();
  const frame = frameInterleaved(0, Buffer.alloc(0xffff, 2));
  t.same(demuxer.push(frame.subarray(0, 60_000)), []);
  t.ok(demuxer.bufferedBytes <= MAX_BUFFERED_BYTES);
  t.equal(demuxer.push(frame.subarray(60_000))[0]?.kind, 'data');
  t.throws(() => frameInterleaved(0, Buffer.alloc(0x10000)), { code: 'PROTOCOL' }, 'nothing larger can be framed');
  const junk = new InterleavedDemuxer();
  t.throws(() => junk.push(Buffer.alloc(MAX_BUFFERED_BYTES + 1, 0x41)), { code: 'PROTOCOL' }, 'an endless line is an error');
});
