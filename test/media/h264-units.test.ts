import t from 'tap';
import { hasPlausibleNalUnits } from '../../media/h264/units.ts';

t.test('a plausible H.264 unit: NAL units with a header byte, its forbidden bit clear, and a byte after it', async (t) => {
  t.ok(hasPlausibleNalUnits([Buffer.from([0x65, 0x88, 0x84]), Buffer.from([0x06, 0x05])]));
  t.notOk(hasPlausibleNalUnits([]), 'no NAL unit');
  t.notOk(hasPlausibleNalUnits([Buffer.from([0x65, 0x88]), Buffer.from([0x41])]), 'a NAL unit of its header alone');
  t.notOk(hasPlausibleNalUnits([Buffer.from([0xe5, 0x88])]), 'forbidden_zero_bit set');
});
