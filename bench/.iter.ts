import { performance } from 'node:perf_hooks';
const A: Record<string, unknown> = { 'http.request.method': 'GET', 'url.path': '/api/v1/users/12345', 'url.scheme': 'https', 'server.address': 'api.example.com', 'server.port': 443, 'http.route': '/api/v1/users/:id', 'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) bench', 'client.address': '10.1.2.3', 'network.protocol.version': '1.1', 'http.response.status_code': 200 };
const hasOwn = Object.prototype.hasOwnProperty;
let sink = 0;
function use(k: string, v: unknown) { sink += k.length + (typeof v === 'string' ? 1 : 0); }
function t(name: string, f: () => void) {
  for (let i = 0; i < 300000; i++) f();
  const res: number[] = [];
  for (let r = 0; r < 9; r++) { const s = performance.now(); for (let i = 0; i < 300000; i++) f(); res.push(((performance.now() - s) * 1e6) / 300000); }
  res.sort((a, b) => a - b); console.log(name, res[4].toFixed(0), 'ns');
}
t('for-in hasOwn', () => { for (const k in A) { if (!hasOwn.call(A, k)) continue; use(k, A[k]); } });
t('for-in no check', () => { for (const k in A) use(k, A[k]); });
t('Object.keys', () => { const ks = Object.keys(A); for (let i = 0; i < ks.length; i++) { const k = ks[i]; use(k, A[k]); } });
