// The heap flag the service sets at start, and that an operator's own flag wins over it.
import t from 'tap';
import { HEAP_GROWING_PERCENT, heapFlags } from '../src/heap-tuning.js';

t.test('without a flag of the operator, the service sets its own growing percent', async (t) => {
  t.same(heapFlags([]), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  t.same(heapFlags(['--enable-source-maps', '--max-old-space-size=512']), [
    `--heap-growing-percent=${HEAP_GROWING_PERCENT}`,
  ]);
});

t.test("the operator's own --heap-growing-percent is kept, in either spelling", async (t) => {
  t.same(heapFlags(['--heap-growing-percent=80']), []);
  t.same(heapFlags(['--heap_growing_percent=80']), []);
  t.same(heapFlags(['--heap-growing-percent', '80']), []);
});

t.test('a flag that only starts alike is not taken for it', async (t) => {
  t.same(heapFlags(['--heap-growing-percentage=80']), [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
});
