// A little load for the demo: `node load.mjs PORT COUNT [CONCURRENCY]` sends
// GET /work?id=1..COUNT to 127.0.0.1:PORT, a few at a time, and exits once
// every response arrived (non-zero if one failed).
import http from 'node:http';

const [port, count = '200', concurrency = '4'] = process.argv.slice(2);
const total = Number(count);
let next = 1;
let failed = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });

function get(id) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: Number(port), path: `/work?id=${id}`, agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) failed++;
        resolve();
      });
    });
    req.on('error', () => {
      failed++;
      resolve();
    });
  });
}

async function worker() {
  while (next <= total) await get(next++);
}

await Promise.all(Array.from({ length: Number(concurrency) }, worker));
agent.destroy();
console.log(`sent ${total} requests, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
