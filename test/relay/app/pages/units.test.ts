import { readFileSync } from 'node:fs';
import t from 'tap';
import { escapeHtml, formatValue, html, join } from '../../../../lib/html.ts';
import { parseProcStatTicks, RateMeter } from '../../../../relay/app/rates.ts';
import { hostOnly, stateText } from '../../../../relay/app/status.ts';

t.test('html escapes every interpolation except markup it built itself', async (t) => {
  const hostile = `<script>alert('x')</script>&"`;
  t.equal(escapeHtml(hostile), '&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;');
  t.equal(html`<td title="${hostile}">${hostile}</td>`.text, `<td title="${escapeHtml(hostile)}">${escapeHtml(hostile)}</td>`);
  t.equal(html`<p>${html`<b>${'<i>'}</b>`}</p>`.text, '<p><b>&lt;i&gt;</b></p>', 'nested markup kept, its values escaped');
  t.equal(html`${['<a>', html`<br>`]}`.text, '&lt;a&gt;<br>', 'arrays: strings escaped, markup kept');
  t.equal(join(['<x>', html`<y>`], ',').text, '&lt;x&gt;,<y>');
  t.equal(html`${null}${undefined}${false}${0}`.text, '0');
});

t.test('formats', async (t) => {
  const cases: Array<[unknown, Parameters<typeof formatValue>[1], string]> = [
    [null, 'kbps', '–'],
    [null, 'note', ''],
    ['boom', 'note', 'boom'],
    [0, 'bytes', '0 B'],
    [1023, 'bytes', '1023 B'],
    [1024, 'bytes', '1.0 KiB'],
    [5 * 1024 * 1024, 'bytes', '5.0 MiB'],
    [2 ** 60, 'bytes', '1048576.0 TiB'],
    [311.94, 'kbps', '311.9 kbit/s'],
    [9.96, 'rate', '10.0'],
    [2.5, 'count', '3'],
    [0.04, 'seconds', '0.0 s'],
    [12.34, 'percent', '12.3%'],
    ['2024-05-06T07:08:09.123Z', 'time', '2024-05-06 07:08:09Z'],
  ];
  for (const [value, format, expected] of cases) t.equal(formatValue(value, format), expected, `${String(value)} as ${format}`);
});

t.test('CPU ticks from /proc/PID/stat, command names with spaces and parentheses included', async (t) => {
  const fields = (name: string, utime: string, stime: string): string =>
    `1234 (${name}) S 1 1234 1234 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 1 0 100 1000 50`;
  t.equal(parseProcStatTicks(fields('ffmpeg', '150', '25')), 175);
  t.equal(parseProcStatTicks(fields('a) b (c', '7', '3')), 10, 'the last ) ends the name');
  t.equal(parseProcStatTicks('garbage'), undefined);
  t.equal(parseProcStatTicks('12 (x) S 1 2'), undefined, 'truncated');
  t.equal(parseProcStatTicks(fields('x', 'NaN', '1')), undefined);
  const own = parseProcStatTicks(readFileSync('/proc/self/stat', 'latin1'));
  t.ok(own !== undefined && own >= 0, `this process: ${own} ticks`);
});

t.test('rate meter: per second over the last interval, no rate across a counter restart', async (t) => {
  const meter = new RateMeter();
  meter.sample(100, 1000);
  t.equal(meter.rate, null, 'one sample is no rate');
  meter.sample(300, 3000);
  t.equal(meter.rate, 100);
  meter.sample(300, 5000);
  t.equal(meter.rate, 0);
  meter.sample(10, 7000);
  t.equal(meter.rate, null, 'a counter that went back (a restarted process) gives no rate');
  meter.sample(30, 8000);
  t.equal(meter.rate, 20);
});

t.test('camera host and state text', async (t) => {
  t.equal(hostOnly('http://127.0.0.1:8080/cgi?user=a&pwd=b'), 'http://127.0.0.1:8080');
  t.equal(hostOnly('rtsp://u:p@cam.example:554/stream'), 'rtsp://cam.example:554');
  t.equal(hostOnly('not a url'), 'invalid');
  t.equal(stateText('retrying', 4), 'retrying in 4 s');
  t.equal(stateText('idle', null), 'idle (on demand)');
  t.equal(stateText('live', null), 'live');
});
