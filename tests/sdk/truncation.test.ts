/**
 * An instrumented application (a child process using @otlp-mmap/sdk through
 * the global OpenTelemetry API) whose file another program cuts shorter
 * while it writes: it keeps running and answering, drops and counts what
 * cannot be written, reports one diag error, and its telemetry resumes in a
 * file re-created at the same path, where the resource, scope, metric and
 * key references it had cached still resolve.
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, rmdirSync, rmSync, statSync } from 'node:fs';
import test from 'ava';
import { Reader, Writer } from '@otlp-mmap/native';
import { CUTS, cutFile, cutSize, droppedMessages, TruncationApp } from '../helpers/truncation.js';
import { FileReadBack, tempPath } from './support/read-back.js';

/** The start time of a valid file at `path`, or undefined while there is none. */
/** Waits until a file other than the one that started at `originalStart` is at `path`. */
function untilRecreated(app: TruncationApp, path: string, originalStart: bigint | undefined): Promise<unknown> {
  return app.until(
    () => {
      const start = startTime(path);
      return start !== undefined && start !== originalStart;
    },
    10_000,
    'a re-created file',
  );
}

function startTime(path: string): bigint | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const reader = Reader.open(path);
    const start = reader.info().startTimeUnixNano;
    reader.close();
    return start;
  } catch {
    return undefined;
  }
}

for (const cut of CUTS) {
  test(`an application whose file is cut ${cut.startsWith('inside') ? cut : `to ${cut}`} keeps running, drops and counts, reports one diag error, and resumes in a re-created file`, async (t) => {
    const tmp = tempPath();
    const app = await TruncationApp.start(tmp.path);
    t.teardown(() => {
      app.kill();
      tmp.cleanup();
    });
    const before = await app.until((s) => s.ticks >= 60, 15_000, '60 ticks');
    t.is(before.diagErrors, 0);
    const originalStart = startTime(tmp.path);
    t.not(originalStart, undefined);

    cutFile(tmp.path, cutSize(tmp.path, cut));
    const cutAt = Date.now();

    // Alive, answering, its API calls returning; what could not be written dropped and counted.
    const during = await app.until((s) => droppedMessages(s) > droppedMessages(before) && s.diagErrors >= 1, 10_000, 'a counted drop and a diag error');
    t.true(during.ticks > before.ticks);
    t.regex(during.errorMessages[0], /was truncated/);

    // Resumes in a file re-created at the same path.
    await untilRecreated(app, tmp.path, originalStart);
    t.log(`re-created ${Date.now() - cutAt} ms after the cut`);
    app.phase('after');
    const marked = await app.status(); // answered after the phase changed
    const resumed = await app.until((s) => s.ticks >= marked.ticks + 30, 10_000, '30 ticks of the after phase');
    t.is(resumed.diagErrors, 1, `one diag error: ${JSON.stringify(resumed.errorMessages)}`);
    t.is(resumed.threw, 0, 'no API call threw');
    const droppedAfterResume = droppedMessages(resumed);

    const rb = new FileReadBack(tmp.path);
    const spans = rb.spans().filter((e) => e.event?.$case === 'start' && e.event.value.name.startsWith('after-'));
    t.true(spans.length >= 10, `${spans.length} spans of the 'after' phase in the re-created file`);
    const first = spans[0]!;
    const start = first.event?.$case === 'start' ? first.event.value : undefined;
    // References cached before the cut (scope, resource, attribute keys) resolve in the new file.
    const scope = rb.scope(first.scopeRef);
    t.is(rb.string(scope.nameRef), 'truncation-app');
    t.is(rb.string(scope.versionRef), '1.0.0');
    t.is(rb.attrs(rb.resource(scope.resourceRef).attributes)['service.name'], 'truncated-app');
    t.is(rb.attrs(start!.attributes)['app.phase'], 'after');
    const logs = rb.events().filter((e) => e.body?.value?.$case === 'stringValue' && e.body.value.value.startsWith('log-after-'));
    t.true(logs.length >= 10);
    t.is(rb.string(rb.scope(logs[0]!.scopeRef).nameRef), 'truncation-app');
    const ticks = rb.measurements().filter((m) => rb.attrs(m.attributes)['app.phase'] === 'after');
    t.true(ticks.length >= 10);
    t.is(rb.metric(ticks[0]!.metricRef).name, 'ticks');
    rb.close();

    const last = await app.status();
    t.is(droppedMessages(last), droppedAfterResume, 'nothing dropped once resumed');
    t.deepEqual(await app.stop(), { code: 0, signal: null });
  });
}

test("a cut that no write meets (inside the dictionary, no new keys) is noticed by the SDK's size check, and the file re-created", async (t) => {
  // Every tick writes only to the rings, which the cut leaves whole: nothing faults. Only the SDK's
  // periodic look at the file size can notice.
  const tmp = tempPath();
  const app = await TruncationApp.start(tmp.path, { newKeys: false });
  t.teardown(() => {
    app.kill();
    tmp.cleanup();
  });
  await app.until((s) => s.ticks >= 30, 15_000, '30 ticks');
  const originalStart = startTime(tmp.path);
  cutFile(tmp.path, cutSize(tmp.path, 'inside the dictionary'));
  const cutAt = Date.now();
  await untilRecreated(app, tmp.path, originalStart);
  t.log(`re-created ${Date.now() - cutAt} ms after the cut`);
  const s = await app.status();
  t.is(s.diagErrors, 1);
  t.regex(s.errorMessages[0], /was truncated/);
  t.deepEqual(await app.stop(), { code: 0, signal: null });
});

test('a cut file whose path then holds a directory is not re-created over it: reported, retried, re-created once the path is free', async (t) => {
  const tmp = tempPath();
  const app = await TruncationApp.start(tmp.path);
  t.teardown(() => {
    app.kill();
    rmSync(tmp.path, { recursive: true, force: true });
    tmp.cleanup();
  });
  await app.until((s) => s.ticks >= 30, 15_000, '30 ticks');
  // The directory takes the path before the cut: the SDK can only ever find it there
  // (a cut first could be re-created over before the directory came, on a loaded machine).
  const fd = openSync(tmp.path, 'r+');
  rmSync(tmp.path);
  mkdirSync(tmp.path);
  ftruncateSync(fd, 0);
  closeSync(fd);
  const blocked = await app.until((s) => s.diagErrors >= 2, 10_000, 'the report that the path is blocked');
  t.regex(blocked.errorMessages[0]!, /was truncated/);
  t.regex(blocked.errorMessages[1]!, /could not re-create/);
  await new Promise((r) => setTimeout(r, 1500));
  t.true(statSync(tmp.path).isDirectory(), 'the directory is left alone');
  t.is((await app.status()).diagErrors, 2, 'reported once, not at every retry');
  rmdirSync(tmp.path);
  await app.until(() => startTime(tmp.path) !== undefined, 10_000, 'a file re-created once the path is free');
  const s = await app.status();
  t.is(s.threw, 0);
  t.deepEqual(await app.stop(), { code: 0, signal: null });
});

test('an application attached to a shared file does not re-create it when it is cut: it keeps running, drops, counts and reports once', async (t) => {
  const tmp = tempPath();
  const owner = Writer.create(tmp.path);
  const app = await TruncationApp.start(tmp.path, { attach: true });
  t.teardown(() => {
    app.kill();
    owner.close();
    tmp.cleanup();
  });
  const before = await app.until((s) => s.ticks >= 30, 15_000, '30 ticks');
  cutFile(tmp.path, 0);
  const during = await app.until((s) => s.diagErrors >= 1 && droppedMessages(s) > droppedMessages(before), 10_000, 'a counted drop and a diag error');
  t.regex(during.errorMessages[0]!, /attached/);
  await new Promise((r) => setTimeout(r, 1000));
  const later = await app.status();
  t.true(later.ticks > during.ticks, 'API calls keep returning');
  t.true(droppedMessages(later) > droppedMessages(during), 'and what they would write is counted');
  t.is(later.diagErrors, 1);
  t.is(statSync(tmp.path).size, 0, 'the shared file is not re-created');
  t.deepEqual(await app.stop(), { code: 0, signal: null });
});
