import { perfMillisInto } from '../packages/sdk/src/time.js';
import { perfMillisInto as old } from '../packages/sdk/.src-before/time.js';
const a = { lo: 0, hi: 0 }, b = { lo: 0, hi: 0 };
let maxd = 0;
for (let i = 0; i < 1e6; i++) {
  const v = Math.random() < 0.5 ? Math.random() * 1e6 : Math.random() * 8e9;
  perfMillisInto(v, a); old(v, b);
  const d = Math.abs((a.hi - b.hi) * 4294967296 + (a.lo - b.lo));
  if (d > maxd) maxd = d;
  if (!Number.isInteger(a.lo) || a.lo < 0 || a.lo >= 4294967296) throw new Error('bad lo ' + a.lo);
}
console.log('max diff ns', maxd);
