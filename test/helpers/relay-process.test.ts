import t from 'tap';
import { execFileSync } from 'node:child_process';
import { configFile, relayBin, runRelay } from './relay-process.ts';

/** The pids of running `relay/bin.mjs -c FILE` processes for this config file. */
function relaysFor(file: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(relayBin) && line.includes(file)).map((line) => line.trim().split(/\s+/)[0]!);
}

// Guards: a relay that did not listen in time (a loaded machine) was left running after its test had failed.
t.test('a relay that does not listen in time is killed, not left behind', async (t) => {
  const file = await configFile('<Camera a>\n  Source testsrc://\n</Camera>\n');
  await t.rejects(runRelay(file, 1), /timed out after 1 ms waiting for the relay to listen/);
  const deadline = Date.now() + 5_000;
  while (relaysFor(file).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.same(relaysFor(file), [], 'no relay process left for the config file');
});
