import t from 'tap';
import { parseConfig } from '../../conf/parse.ts';
import { restartNeeded } from '../../relay/app/notices.ts';

const config = (text: string) => parseConfig(text, 'relay.conf', { schemes: ['testsrc'] }).config;

// Guards: a reload changing RTSPSessionTimeout said nothing, while the RTSP server kept the timeout it started with.
t.test('RTSPSessionTimeout is read once at start: a reload that changes it says a restart is needed', async (t) => {
  t.same(restartNeeded(config('RTSPSessionTimeout 60\n'), config('RTSPSessionTimeout 30\n')), ['RTSPSessionTimeout 60 -> 30']);
  t.same(restartNeeded(config('OnEventRetries 3\n'), config('OnEvent http://127.0.0.1:9/hook\nOnEventRetries 1\n')), [], 'alert settings apply on reload');
});
