import { performance } from 'node:perf_hooks';
function t(name: string, f: () => void) {
  const N = 3_000_000; for (let i = 0; i < N; i++) f();
  const s = performance.now(); for (let i = 0; i < N; i++) f(); console.log(name, (((performance.now() - s) * 1e6) / N).toFixed(1), 'ns');
}
let x = 0;
const hr = process.hrtime;
t('perf.now', () => { x += performance.now(); });
t('process.hrtime()', () => { const h = hr(); x += h[0] + h[1]; });
t('hrtime.bigint', () => { x += Number(process.hrtime.bigint() & 1n); });
const m = new Map<string, number>(); for (let i = 0; i < 200; i++) m.set('key.' + i, i);
const ks = ['http.request.method','url.path','url.scheme','server.address','server.port','http.route','user_agent.original','client.address','network.protocol.version','http.response.status_code'];
for (const k of ks) m.set(k, 5);
t('map.get x10', () => { for (let i = 0; i < 10; i++) x += m.get(ks[i])!; });
