import test from 'ava';
import { MAX_SCALE, MIN_SCALE, mappingForScale } from '../../packages/collector/src/metrics/aggregators/exponential-histogram/mapping/mapping.js';
import { exponentField, powerOfTwo, significandIsZero } from '../../packages/collector/src/metrics/aggregators/exponential-histogram/mapping/ieee754.js';

const SCALES = Array.from({ length: MAX_SCALE - MIN_SCALE + 1 }, (_, i) => MIN_SCALE + i);
const MIN_NORMAL = 2 ** -1022;

function nextUp(x: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}

test('the exponent and significand bits are read exactly for normal, subnormal and extreme doubles', (t) => {
  t.is(exponentField(1), 0);
  t.is(exponentField(1.5), 0);
  t.is(exponentField(0.75), -1);
  t.is(exponentField(-8), 3);
  t.is(exponentField(Number.MAX_VALUE), 1023);
  t.is(exponentField(MIN_NORMAL), -1022);
  t.is(exponentField(Number.MIN_VALUE), -1023, 'subnormals have the exponent field of zero');
  t.true(significandIsZero(1));
  t.true(significandIsZero(MIN_NORMAL));
  t.true(significandIsZero(2 ** 1023));
  t.false(significandIsZero(1.5));
  t.false(significandIsZero(Number.MAX_VALUE));
  t.false(significandIsZero(1 + Number.EPSILON));
});

test('powerOfTwo builds every power of two of the double range exactly', (t) => {
  for (let e = -1074; e <= 1023; e++) {
    if (powerOfTwo(e) !== 2 ** e) {
      t.fail(`2^${e}`);
      return;
    }
  }
  t.is(powerOfTwo(-1074), Number.MIN_VALUE);
  t.is(powerOfTwo(-1023), MIN_NORMAL / 2);
  t.is(powerOfTwo(1024), Infinity);
  t.is(powerOfTwo(-1075), 0);
});

test('every power of two maps to the bucket it is the upper boundary of, at every scale from -10 to 20', (t) => {
  for (const scale of SCALES) {
    const mapping = mappingForScale(scale);
    for (let e = -1022; e <= 1023; e++) {
      const expected = Math.ceil(e * 2 ** scale) - 1;
      const actual = mapping.mapToIndex(2 ** e);
      if (actual !== expected) {
        t.fail(`scale ${scale}: 2^${e} mapped to ${actual}, expected ${expected}`);
        return;
      }
    }
  }
  t.pass();
});

test('known values map to the buckets (base^i, base^(i+1)]', (t) => {
  const cases: Array<[scale: number, value: number, index: number]> = [
    [0, 1, -1],
    [0, 1.5, 0],
    [0, 2, 0],
    [0, 3, 1],
    [0, 4, 1],
    [0, 0.3, -2],
    [1, 1.4, 0],
    [1, 1.5, 1],
    [1, 2, 1],
    [1, 3, 3],
    [-1, 1, -1],
    [-1, 2, 0],
    [-1, 4, 0],
    [-1, 5, 1],
    [-1, 16, 1],
    [-1, 17, 2],
    [-10, 1, -1],
    [-10, 1.5, 0],
    [-10, 2 ** 1023, 0],
    [3, 10, 26], // 2^(26/8) = 9.51 < 10 <= 2^(27/8) = 10.37
    [20, 2, 2 ** 20 - 1],
  ];
  for (const [scale, value, index] of cases) {
    t.is(mappingForScale(scale).mapToIndex(value), index, `scale ${scale}, value ${value}`);
  }
});

test('the smallest double and every subnormal map to the lowest bucket, the one holding 2^-1022, at every scale', (t) => {
  for (const scale of SCALES) {
    const mapping = mappingForScale(scale);
    t.is(mapping.mapToIndex(Number.MIN_VALUE), mapping.minIndex, `scale ${scale}`);
    t.is(mapping.mapToIndex(MIN_NORMAL / 3), mapping.minIndex, `scale ${scale}`);
    t.is(mapping.mapToIndex(MIN_NORMAL), mapping.minIndex, `scale ${scale}`);
    // Down to scale -1, 2^-1022 is that bucket's upper boundary.
    if (scale >= -1) t.is(mapping.mapToIndex(nextUp(MIN_NORMAL)), mapping.minIndex + 1, `scale ${scale}`);
  }
  t.is(mappingForScale(0).minIndex, -1023);
  t.is(mappingForScale(-10).minIndex, -1);
  t.is(mappingForScale(20).minIndex, -1022 * 2 ** 20 - 1);
});

test('the largest double maps to the highest bucket at every scale, and that bucket has a finite lower boundary', (t) => {
  for (const scale of SCALES) {
    const mapping = mappingForScale(scale);
    t.is(mapping.mapToIndex(Number.MAX_VALUE), mapping.maxIndex, `scale ${scale}`);
    const lower = mapping.lowerBoundary(mapping.maxIndex);
    t.true(Number.isFinite(lower) && lower < Number.MAX_VALUE, `scale ${scale}`);
  }
  t.is(mappingForScale(0).maxIndex, 1023);
  t.is(mappingForScale(-10).maxIndex, 0);
  t.is(mappingForScale(20).maxIndex, 1024 * 2 ** 20 - 1);
});

test('exponent-mapping lower boundaries round-trip exactly at every index of scales -10 to 0', (t) => {
  for (const scale of SCALES.filter((s) => s <= 0)) {
    const mapping = mappingForScale(scale);
    for (let index = mapping.minIndex + 1; index <= mapping.maxIndex; index++) {
      const lower = mapping.lowerBoundary(index);
      if (mapping.mapToIndex(lower) !== index - 1 || mapping.mapToIndex(nextUp(lower)) !== index) {
        t.fail(`scale ${scale}, index ${index}, lower ${lower}`);
        return;
      }
    }
  }
  t.pass();
});

test('logarithm-mapping lower boundaries round-trip across the whole range of scales 1 to 20', (t) => {
  for (const scale of SCALES.filter((s) => s > 0)) {
    const mapping = mappingForScale(scale);
    const span = mapping.maxIndex - mapping.minIndex;
    const step = Math.max(1, Math.floor(span / 4000));
    for (let index = mapping.minIndex + 1; index < mapping.maxIndex; index += step) {
      const lower = mapping.lowerBoundary(index);
      const upper = mapping.lowerBoundary(index + 1);
      const inside = [lower * (1 + 1e-9), upper * (1 - 1e-9)];
      for (const value of inside) {
        if (mapping.mapToIndex(value) !== index) {
          t.fail(`scale ${scale}, index ${index}: ${value} mapped to ${mapping.mapToIndex(value)}`);
          return;
        }
      }
    }
    // Boundaries that are powers of two are exact and belong to the bucket below.
    t.is(mapping.lowerBoundary(0), 1);
    t.is(mapping.lowerBoundary(2 ** scale), 2);
    t.is(mapping.lowerBoundary(mapping.minIndex + 1), MIN_NORMAL);
    t.is(mapping.mapToIndex(mapping.lowerBoundary(2 ** scale)), 2 ** scale - 1);
  }
});

test('lower boundaries outside the mapped range are refused with a RangeError', (t) => {
  for (const scale of [-10, 0, 1, 20]) {
    const mapping = mappingForScale(scale);
    t.throws(() => mapping.lowerBoundary(mapping.maxIndex + 1), { instanceOf: RangeError });
    t.throws(() => mapping.lowerBoundary(mapping.minIndex - 1), { instanceOf: RangeError });
  }
  t.throws(() => mappingForScale(21), { instanceOf: RangeError });
  t.throws(() => mappingForScale(-11), { instanceOf: RangeError });
});
