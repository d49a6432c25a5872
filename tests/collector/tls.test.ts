// TLS and mTLS of the exporters (OTEL_EXPORTER_OTLP_CERTIFICATE,
// OTEL_EXPORTER_OTLP_CLIENT_KEY, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, their
// per-signal forms and flags; OTEL_EXPORTER_OTLP_INSECURE for gRPC), against
// the test receiver serving TLS on 127.0.0.1 with certificates made for the
// run by openssl.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { makeTestCertificates, type TestCertificates } from '../helpers/certificates.js';
import { OtlpReceiver, type ReceiverTls } from '../helpers/otlp-receiver.js';
import { runCollector, waitFor } from './support/collector-process.js';
import type { TestWriter } from './support/mmap-writer.js';
import { e2e } from './support/setup.js';

let certs: TestCertificates;
test.before(() => {
  certs = makeTestCertificates();
});
test.after.always(() => certs?.cleanup());

function writeSample(writer: TestWriter): void {
  const scope = writer.scope('lib', writer.resource({ 'service.name': 'tls-test' }));
  writer.startSpan(scope, 1, 1, 'secured');
  writer.endSpan(scope, 1, 1);
  writer.log(scope, 'over TLS', {});
}

async function tlsReceiver(t: { teardown(fn: () => Promise<void>): void }, tls: Partial<ReceiverTls> = {}): Promise<OtlpReceiver> {
  const receiver = await OtlpReceiver.start({ tls: { cert: certs.server.cert, key: certs.server.key, ...tls } });
  t.teardown(() => receiver.close());
  return receiver;
}

const PROTOCOLS = ['grpc', 'http/protobuf'] as const;
const endpointOf = (receiver: OtlpReceiver, protocol: (typeof PROTOCOLS)[number]): string => (protocol === 'grpc' ? receiver.grpcUrl : receiver.httpUrl);

for (const protocol of PROTOCOLS) {
  test(`${protocol}: a server certificate from a private CA is trusted through OTEL_EXPORTER_OTLP_CERTIFICATE`, async (t) => {
    const { writer, collector } = await e2e(t);
    const receiver = await tlsReceiver(t);
    writeSample(writer);
    const c = collector([], {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpointOf(receiver, protocol),
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_EXPORTER_OTLP_CERTIFICATE: certs.ca.certPath,
    });
    await waitFor(() => receiver.spans().length >= 1 && receiver.logRecords().length >= 1, 15_000, 'the span and the log record over TLS');
    await c.stop();
    t.is(receiver.spans()[0].name, 'secured');
    t.is(receiver.logRecords()[0].body, 'over TLS');
    t.true(receiver.requests.every((r) => r.protocol === protocol && r.clientCertificate === undefined));
    t.is(c.statusLines('final').at(-1)!.dropped_traces, 0);
  });

  test(`${protocol}: mTLS — the client key and certificate are presented, and the server that requires them accepts`, async (t) => {
    const { writer, collector } = await e2e(t);
    const receiver = await tlsReceiver(t, { clientCa: certs.ca.cert });
    writeSample(writer);
    const c = collector(['--endpoint', endpointOf(receiver, protocol), '--protocol', protocol], {
      OTEL_EXPORTER_OTLP_CERTIFICATE: certs.ca.certPath,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.client.keyPath,
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certs.client.certPath,
    });
    await waitFor(() => receiver.spans().length >= 1 && receiver.logRecords().length >= 1, 15_000, 'the span and the log record over mTLS');
    await c.stop();
    t.true(receiver.requests.length >= 2);
    t.true(
      receiver.requests.every((r) => r.clientCertificate === 'otlp-mmap-collector'),
      'every request came with the client certificate',
    );
  });

  test(`${protocol}: mTLS — without a client certificate the server refuses, nothing is delivered, and a line says why`, async (t) => {
    const { writer, collector } = await e2e(t);
    const receiver = await tlsReceiver(t, { clientCa: certs.ca.cert });
    writeSample(writer);
    const c = collector(['--endpoint', endpointOf(receiver, protocol), '--protocol', protocol, '--retry-max-elapsed', '1500'], {
      OTEL_EXPORTER_OTLP_CERTIFICATE: certs.ca.certPath,
    });
    await waitFor(() => /traces: export to \S+ failed: /.test(c.stderr), 15_000, 'the failure line');
    await waitFor(() => /traces: dropped 1 items after \d+ attempts/.test(c.stderr), 15_000, 'the span given up');
    await c.stop();
    t.is(receiver.requests.length, 0, 'the server took no request');
    const line = c.stderr.split('\n').find((l) => l.includes('traces: export to'))!;
    t.regex(
      line,
      /failed: (gRPC UNAVAILABLE: )?TLS: the server refused the handshake \(tlsv13 alert certificate required\); it may require a client certificate it trusts, and the collector sent no client certificate/,
    );
    t.is(receiver.spans().length, 0);
    const final = c.statusLines('final').at(-1)!;
    t.is(final.exported_traces, 0);
    t.is(final.dropped_traces, 1);
  });

  test(`${protocol}: a server certificate that the configured CA did not sign is refused with a clear error line`, async (t) => {
    const { writer, collector } = await e2e(t);
    const receiver = await tlsReceiver(t);
    writeSample(writer);
    const c = collector(['--endpoint', endpointOf(receiver, protocol), '--protocol', protocol, '--certificate', certs.otherCa.certPath]);
    await waitFor(() => /traces: export to \S+ failed: /.test(c.stderr), 15_000, 'the failure line');
    await c.stop('SIGKILL');
    const line = c.stderr.split('\n').find((l) => l.includes('traces: export to'))!;
    t.regex(line, /TLS: the server's certificate is not signed by a CA the collector trusts/);
    t.true(line.includes(`it trusts the CA certificates of ${certs.otherCa.certPath} (--certificate)`), line);
    t.is(receiver.requests.length, 0);
  });
}

test('a per-signal certificate wins over the generic one', async (t) => {
  const { writer, collector } = await e2e(t);
  const receiver = await tlsReceiver(t);
  writeSample(writer);
  const c = collector([], {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.httpUrl,
    OTEL_EXPORTER_OTLP_CERTIFICATE: certs.otherCa.certPath,
    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: certs.ca.certPath,
  });
  await waitFor(() => receiver.spans().length >= 1 && /logs: export to \S+ failed: TLS/.test(c.stderr), 15_000, 'the span delivered and the logs refused');
  await c.stop('SIGKILL');
  t.deepEqual([...new Set(receiver.requests.map((r) => r.signal))], ['traces']);
});

test('gRPC: an endpoint without a scheme is TLS by default and plaintext with OTEL_EXPORTER_OTLP_INSECURE=true', async (t) => {
  const { writer, collector } = await e2e(t);
  const secure = await tlsReceiver(t);
  const plain = await OtlpReceiver.start();
  t.teardown(() => plain.close());
  writeSample(writer);
  const c = collector([], {
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_CERTIFICATE: certs.ca.certPath,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: secure.grpcAddress,
    OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: plain.grpcAddress,
    OTEL_EXPORTER_OTLP_LOGS_INSECURE: 'true',
  });
  await waitFor(() => secure.spans().length >= 1 && plain.logRecords().length >= 1, 15_000, 'the span over TLS and the log record in plaintext');
  await c.stop();
  t.deepEqual(
    secure.requests.map((r) => r.signal),
    ['traces'],
  );
  t.deepEqual(
    plain.requests.map((r) => r.signal),
    ['logs'],
  );
  t.true(c.stderr.includes('logs: OTEL_EXPORTER_OTLP_CERTIFICATE is not used: the endpoint http://'), 'the unused certificate is pointed out');
});

test('gRPC: OTEL_EXPORTER_OTLP_INSECURE=true does not turn an https:// endpoint into plaintext, and says so', async (t) => {
  const { writer, collector } = await e2e(t);
  const receiver = await tlsReceiver(t);
  writeSample(writer);
  const c = collector([], {
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcUrl,
    OTEL_EXPORTER_OTLP_CERTIFICATE: certs.ca.certPath,
    OTEL_EXPORTER_OTLP_INSECURE: 'true',
  });
  await waitFor(() => receiver.spans().length >= 1, 15_000, 'the span over TLS');
  await c.stop();
  t.regex(c.stderr, /traces: OTEL_EXPORTER_OTLP_INSECURE=true is not used: the endpoint https:\/\/127\.0\.0\.1:\d+\/ asks for TLS/);
});

test('a certificate file that is missing, not PEM, or a key without its certificate stops the start with one line naming the setting and the path', async (t) => {
  const { path, file } = await e2e(t);
  const missing = file('nowhere.pem');
  const notPem = file('not.pem');
  writeFileSync(notPem, 'hello\n');
  const cases: [Record<string, string>, string[], RegExp][] = [
    [
      { OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: missing },
      [],
      new RegExp(`error: cannot read OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE file ${missing}: no such file$`),
    ],
    [{}, ['--client-certificate', notPem, '--client-key', certs.client.keyPath], new RegExp(`error: --client-certificate file ${notPem} holds no PEM block`)],
    [
      { OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.client.keyPath },
      [],
      /error: OTEL_EXPORTER_OTLP_CLIENT_KEY \(.*client\.key\) is set without OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE/,
    ],
    [
      { OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.client.keyPath, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certs.server.certPath },
      [],
      /do not make a usable key pair/,
    ],
  ];
  for (const [env, args, expected] of cases) {
    const c = await runCollector(['--input', path, '--endpoint', 'https://127.0.0.1:9', ...args], env);
    t.is(c.exit.code, 1, c.stderr);
    const lines = c.stderr.trim().split('\n');
    t.is(lines.length, 1, c.stderr);
    t.regex(lines[0], expected);
  }
});
