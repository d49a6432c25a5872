// The SDK never creates its file through a symbolic link: a link planted at
// the path would otherwise turn the file it names into ring data.
import test from 'ava';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { startMmapSdk } from '@otlp-mmap/sdk';
import { tempDir } from '../helpers/files.js';

test("a symlink at the path to a user's file is refused with a clear error, and the file is unchanged", (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const precious = tmp.file('notes.txt');
  writeFileSync(precious, "the user's notes\n");
  const link = tmp.file('telemetry.otlp-mmap');
  symlinkSync(precious, link);
  const error = t.throws(() => startMmapSdk({ path: link, registerGlobals: false }));
  t.regex(error!.message, /symbolic link/);
  t.true(error!.message.includes(link), error!.message);
  t.is((error as Error & { code?: string }).code, 'ERR_SYMLINK');
  t.is(readFileSync(precious, 'utf8'), "the user's notes\n");
});

test('a dangling symlink at the path is refused and nothing is created where it points', (t) => {
  const tmp = tempDir();
  t.teardown(tmp.cleanup);
  const target = tmp.file('elsewhere.bin');
  const link = tmp.file('telemetry.otlp-mmap');
  symlinkSync(target, link);
  const error = t.throws(() => startMmapSdk({ path: link, registerGlobals: false }));
  t.is((error as Error & { code?: string }).code, 'ERR_SYMLINK');
  t.false(existsSync(target));
});
