import { performance } from 'node:perf_hooks';
const vals = ['GET', '/api/v1/users/12345', 'https', 'api.example.com', '/api/v1/users/:id', 'Mozilla/5.0 (X11; Linux x86_64) bench', '10.1.2.3', '1.1'];
const buf = Buffer.allocUnsafe(4096);
const u8 = new Uint8Array(4096);
const enc = new TextEncoder();
function t(name: string, f: () => number) {
  let x = 0; for (let i = 0; i < 300000; i++) x += f();
  const res: number[] = [];
  for (let r = 0; r < 9; r++) { const s = performance.now(); for (let i = 0; i < 300000; i++) x += f(); res.push(((performance.now() - s) * 1e6) / 300000); }
  res.sort((a, b) => a - b); console.log(name, res[4].toFixed(0), 'ns for 8 strings');
}
t('charCode loop Buffer', () => { let p = 0; for (let j = 0; j < vals.length; j++) { const v = vals[j]; for (let i = 0; i < v.length; i++) { const c = v.charCodeAt(i); if (c >= 128) return -1; buf[p++] = c; } } return p; });
t('charCode loop Uint8Array', () => { let p = 0; for (let j = 0; j < vals.length; j++) { const v = vals[j]; for (let i = 0; i < v.length; i++) { const c = v.charCodeAt(i); if (c >= 128) return -1; u8[p++] = c; } } return p; });
t('latin1Write', () => { let p = 0; for (let j = 0; j < vals.length; j++) { p += (buf as any).latin1Write(vals[j], p); } return p; });
t('encodeInto', () => { let p = 0; for (let j = 0; j < vals.length; j++) { p += enc.encodeInto(vals[j], u8.subarray(p)).written; } return p; });
t('or-accum loop', () => { let p = 0; for (let j = 0; j < vals.length; j++) { const v = vals[j]; const n = v.length; let acc = 0; for (let i = 0; i < n; i++) { const c = v.charCodeAt(i); acc |= c; buf[p + i] = c; } if (acc >= 128) return -1; p += n; } return p; });
const cache = new Map<string, Uint8Array>(); for (const v of vals) cache.set(v, Buffer.from(v));
t('map+set cache', () => { let p = 0; for (let j = 0; j < vals.length; j++) { const b = cache.get(vals[j])!; buf.set(b, p); p += b.length; } return p; });
t('map+copy loop cache', () => { let p = 0; for (let j = 0; j < vals.length; j++) { const b = cache.get(vals[j])!; for (let i = 0; i < b.length; i++) buf[p++] = b[i]; } return p; });
