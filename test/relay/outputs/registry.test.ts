// Guards the output registry: a protocol plugs in with one entry (mounted per stream, unmounted on reload, counted by
// admission and /stat.json, closed with the relay), and Formats map to exactly one entry.
import { writeFile } from 'node:fs/promises';
import t from 'tap';
import { OUTPUT_PROTOCOLS, createOutputRegistry } from '../../../relay/app/output-protocols.ts';
import type { StreamConfig } from '../../../conf/types.ts';
import type { OutputProtocol, ProtocolServer } from '../../../relay/outputs/registry.ts';
import { OutputRegistry } from '../../../relay/outputs/registry.ts';
import { startTestRelay } from '../../helpers/relay.ts';

/** A protocol beside HTTP written for this test: it serves the H.264 streams and reports readers the test sets. */
function probeProtocol() {
  const events: string[] = [];
  const readers = new Map<string, number>();
  let closes = 0;
  const server: ProtocolServer = {
    protocol: 'probe',
    mount(output) {
      if (!output.video) return undefined;
      const name = output.config.name;
      events.push(`mount ${name}`);
      return {
        stats: () => ({ viewers: readers.get(name) ?? 0, bytesOut: 1234 }),
        consumers: () => [],
        unmount: () => events.push(`unmount ${name}`),
      };
    },
    async close() {
      closes++;
    },
  };
  const protocol: OutputProtocol = { name: 'probe', formats: [], start: async () => server };
  return { protocol, events, readers, closes: () => closes };
}

const CONFIG = (withFlv: boolean): string => `
<Camera cam>
  Source testsrc://?size=160x120&rate=5
</Camera>
${withFlv ? '<Stream cam.flv>\n  Feed cam\n  VideoFrameRate 5\n  VideoSize 160x120\n  MaxClients 2\n</Stream>' : ''}
<Stream cam.mjpg>
  Feed cam
</Stream>
<Stream stat.html>
  Format status
</Stream>
`;

t.test('a protocol added with one registry line is mounted, counted, unmounted and closed by the relay', async (t) => {
  const probe = probeProtocol();
  const relay = await startTestRelay(CONFIG(true), { outputs: createOutputRegistry([...OUTPUT_PROTOCOLS, probe.protocol]) });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await relay.stop();
  });
  t.same(probe.events, ['mount cam.flv'], 'the H.264 stream is offered; the MJPEG one is not (the entry said so)');

  probe.readers.set('cam.flv', 2);
  const stat = (await (await fetch(`${relay.baseUrl}/stat.json`)).json()) as { streams: Array<{ name: string; protocols: Record<string, { viewers: number; bytesOut: number }> }> };
  t.same(stat.streams.find((stream) => stream.name === 'cam.flv')?.protocols, { probe: { viewers: 2, bytesOut: 1234 } }, '/stat.json shows its figures');
  t.same(stat.streams.find((stream) => stream.name === 'cam.mjpg')?.protocols, {});
  const metrics = await (await fetch(`${relay.baseUrl}/metrics`)).text();
  t.match(metrics, /relay_protocol_viewers\{stream="cam.flv",camera="cam",format="flv",protocol="probe"\} 2/, '/metrics too');
  const refused = await fetch(`${relay.baseUrl}/cam.flv`);
  t.equal(refused.status, 503, 'its readers count against the stream\'s MaxClients');
  await refused.body?.cancel();

  await writeFile(relay.configFile, `HTTPPort 0\n${CONFIG(false)}`);
  await relay.reload();
  t.same(probe.events, ['mount cam.flv', 'unmount cam.flv'], 'a stream removed by a reload is unmounted');

  await relay.stop();
  stopped = true;
  await relay.stop();
  t.equal(probe.closes(), 1, 'the server closes with the relay, once');
});

t.test('each Format belongs to one entry; an unserved one is a clear error', async (t) => {
  const output = (formats: StreamConfig['format'][]): OutputProtocol => ({ name: formats.join('+'), formats, mount: () => { throw new Error('unused'); } });
  t.throws(() => new OutputRegistry([output(['flv']), output(['flv', 'hls'])]), /two output protocols claim Format flv/);
  t.throws(() => new OutputRegistry([{ name: 'odd', formats: ['jpeg'] }]), /claims Format jpeg but builds no output/);
  const registry = new OutputRegistry([output(['flv'])]);
  const stream = { name: 'x.m3u8', format: 'hls' } as StreamConfig;
  t.throws(() => registry.mount(stream, undefined as never), /stream x\.m3u8: no output serves Format hls \(known: flv\)/);
  t.same(createOutputRegistry().formats.sort(), ['flv', 'hls', 'jpeg', 'mpjpeg'], 'the Format values relay.conf accepts, status aside');
});
