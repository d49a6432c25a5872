import test from 'ava';
import { Buckets } from '../../packages/collector/src/metrics/aggregators/exponential-histogram/buckets.js';

function snapshot(b: Buckets) {
  return { start: b.indexStart, counts: b.toArray().map(Number) };
}

test('buckets grow downwards and upwards past their initial capacity keeping every count at its index', (t) => {
  const b = new Buckets();
  b.increment(10, 1);
  for (let i = 9; i >= 3; i--) b.increment(i, i);
  for (let i = 11; i <= 17; i++) b.increment(i, i);
  t.deepEqual(snapshot(b), { start: 3, counts: [3, 4, 5, 6, 7, 8, 9, 1, 11, 12, 13, 14, 15, 16, 17] });
  t.is(b.at(2), 0);
  t.is(b.at(10), 1);
  t.is(b.length, 15);
});

test('fits tells whether an index keeps the window within a size', (t) => {
  const b = new Buckets();
  t.true(b.fits(1000, 1));
  b.increment(-2, 1);
  b.increment(1, 1);
  t.true(b.fits(0, 4));
  t.true(b.fits(-3, 5));
  t.false(b.fits(-3, 4));
  t.false(b.fits(2, 4));
});

test('downscaling merges runs of 2^n buckets by index >> n, negative indexes included', (t) => {
  const b = new Buckets();
  for (let i = -5; i <= 4; i++) b.increment(i, 1);
  b.downscale(1);
  // -5,-4,-3,-2,-1,0,1,2,3,4 >> 1 = -3,-2,-2,-1,-1,0,0,1,1,2
  t.deepEqual(snapshot(b), { start: -3, counts: [1, 2, 2, 2, 2, 1] });
  b.downscale(2);
  // -3,-2,-1,0,1,2 >> 2 = -1,-1,-1,0,0,0
  t.deepEqual(snapshot(b), { start: -1, counts: [5, 5] });
});

test('a window that wrapped around its circular storage downscales correctly', (t) => {
  const b = new Buckets();
  b.increment(0, 1);
  b.increment(1, 2);
  b.increment(-1, 4); // stored at the end of the array
  b.increment(-2, 8);
  b.downscale(1);
  t.deepEqual(snapshot(b), { start: -1, counts: [12, 3] });
});
