import { performance } from 'node:perf_hooks';
const which = process.argv[2] ?? 'after';
const base = which === 'before' ? '../packages/sdk/.src-before' : '../packages/sdk/src';
const { writeKeyValue } = await import(`${base}/encoding/any-value.ts`);
const { ProtoWriter } = await import(`${base}/encoding/proto-writer.ts`);
const { Dictionary } = await import(`${base}/file/dictionary.ts`);
let n = 1;
const dict = new Dictionary({ internString: () => n++ } as never, () => {});
for (let i = 0; i < 300; i++) dict.string('filler.' + i);
const A: Record<string, unknown> = { 'http.request.method': 'GET', 'url.path': '/api/v1/users/12345', 'url.scheme': 'https', 'server.address': 'api.example.com', 'server.port': 443, 'http.route': '/api/v1/users/:id', 'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) bench', 'client.address': '10.1.2.3', 'network.protocol.version': '1.1', 'http.response.status_code': 200 };
const w = new ProtoWriter(4096);
const hasOwn = Object.prototype.hasOwnProperty;
function op() {
  w.reset();
  let i = 0;
  for (const k in A) if (hasOwn.call(A, k)) writeKeyValue(w, 0x4a, k, A[k], dict, Infinity, i++);
}
const res: number[] = [];
for (let r = 0; r < 15; r++) {
  const s = performance.now();
  for (let i = 0; i < 200000; i++) op();
  res.push(((performance.now() - s) * 1e6) / 200000);
}
res.sort((a, b) => a - b);
console.log(which, 'encode 10 attrs ns', res[7].toFixed(0), 'bytes', w.pos);
