import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Reader, Writer } from '@otlp-mmap/native';
for (const slot of [256, 2048]) {
  const path = join(mkdtempSync(join(tmpdir(), 'pa-')), 'f');
  const wr = Writer.create(path, { spans: { slots: 16384, slotSize: slot } });
  const rd = Reader.open(path);
  const big = Buffer.alloc(4096, 7);
  const exact = new Uint8Array(200).fill(7);
  for (const mode of ['len', 'exact', 'len', 'exact']) {
    const res: number[] = [];
    for (let k = 0; k < 30; k++) {
      const t0 = performance.now();
      if (mode === 'len') for (let i = 0; i < 4000; i++) wr.append(1 as never, big, 200);
      else for (let i = 0; i < 4000; i++) wr.append(1 as never, exact);
      res.push(((performance.now() - t0) * 1e6) / 4000);
      while (rd.read(1 as never, 4096).length > 0);
    }
    res.sort((a, b) => a - b);
    console.log('slot', slot, mode, res[15].toFixed(0), 'ns');
  }
}
