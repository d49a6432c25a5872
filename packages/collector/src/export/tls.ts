import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { SecureContextOptions } from 'node:tls';

/** `node:tls`'s createSecureContext, loaded when TLS files are first checked (a collector without them does not load `node:tls`). */
function createSecureContext(options: SecureContextOptions): void {
  const tls = createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
  tls.createSecureContext(options);
}

/**
 * TLS of the OTLP exporters: the files that `OTEL_EXPORTER_OTLP_CERTIFICATE`,
 * `OTEL_EXPORTER_OTLP_CLIENT_KEY`, `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`
 * (their per-signal forms, or the `--certificate`, `--client-key`,
 * `--client-certificate` flags) name, read once when the collector starts,
 * and the words for a connection that TLS refused.
 */

/** A file named by a setting: its path, and the flag or variable that named it (for messages). */
export interface FileSetting {
  readonly path: string;
  readonly what: string;
}

/** The TLS settings of one signal's exporter, as configured (paths, not contents). */
export interface TlsSettings {
  /** PEM file of the CA certificates to trust instead of the system's. */
  readonly certificate?: FileSetting;
  /** PEM file of the client's private key (mTLS). */
  readonly clientKey?: FileSetting;
  /** PEM file of the client's certificate chain (mTLS). */
  readonly clientCertificate?: FileSetting;
}

/** The contents of the files of {@link TlsSettings}, for `node:tls` and `@grpc/grpc-js`. */
export interface TlsMaterial {
  /** CA certificates to trust instead of the system's (undefined: the system's). */
  readonly ca?: Buffer;
  readonly key?: Buffer;
  readonly cert?: Buffer;
  /** Where the trusted CAs come from, for messages: the setting and path, or the system's store. */
  readonly trust: string;
}

/** A TLS file that cannot be used: missing, unreadable, not PEM, or a key without its certificate. */
export class TlsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsFileError';
  }
}

/** Whether any TLS file is configured. */
export function hasTlsFiles(settings: TlsSettings): boolean {
  return settings.certificate !== undefined || settings.clientKey !== undefined || settings.clientCertificate !== undefined;
}

/**
 * Reads the files of `settings` (each path once per `cache`, so signals that
 * share a file share its bytes) and checks that Node's TLS accepts them
 * together. Throws {@link TlsFileError} naming the setting and the path.
 */
export function loadTlsMaterial(settings: TlsSettings, cache: Map<string, Buffer> = new Map()): TlsMaterial {
  const { certificate, clientKey, clientCertificate } = settings;
  if ((clientKey === undefined) !== (clientCertificate === undefined)) {
    const given = (clientKey ?? clientCertificate)!;
    const missing = clientKey === undefined ? 'OTEL_EXPORTER_OTLP_CLIENT_KEY (--client-key)' : 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE (--client-certificate)';
    throw new TlsFileError(`${given.what} (${given.path}) is set without ${missing}: mTLS needs both the client key and the client certificate`);
  }
  const read = (file: FileSetting | undefined): Buffer | undefined => {
    if (file === undefined) return undefined;
    let bytes = cache.get(file.path);
    if (bytes === undefined) {
      try {
        bytes = readFileSync(file.path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : error instanceof Error ? error.message : String(error);
        throw new TlsFileError(`cannot read ${file.what} file ${file.path}: ${why}`);
      }
      cache.set(file.path, bytes);
    }
    if (!bytes.includes('-----BEGIN ')) throw new TlsFileError(`${file.what} file ${file.path} holds no PEM block (-----BEGIN ...)`);
    return bytes;
  };
  const ca = read(certificate);
  const key = read(clientKey);
  const cert = read(clientCertificate);
  // Each file alone, then key and certificate together: the message names the setting at fault.
  check({ ca }, certificate);
  check({ cert }, clientCertificate);
  if (key !== undefined && cert !== undefined) {
    try {
      createSecureContext({ key, cert });
    } catch (error) {
      throw new TlsFileError(
        `${clientKey!.what} (${clientKey!.path}) and ${clientCertificate!.what} (${clientCertificate!.path}) do not make a usable key pair: ${reason(error)}`,
      );
    }
  }
  return { ca, key, cert, trust: certificate ? `the CA certificates of ${certificate.path} (${certificate.what})` : "the system's CA certificates" };
}

function check(options: { ca?: Buffer; cert?: Buffer }, file: FileSetting | undefined): void {
  if (file === undefined) return;
  try {
    createSecureContext(options);
  } catch (error) {
    throw new TlsFileError(`${file.what} file ${file.path} is not a usable PEM certificate: ${reason(error)}`);
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The cause in an error message about a connection, on one line: grpc-js
 * wraps it ("No connection established. Last error: Error: <cause>
 * (<time>). Resolution note: ..."), and OpenSSL's own errors are
 * `<hex>:error:<code>:SSL routines:<function>:<reason>:<file>:<line>:...`.
 */
export function tlsCause(message: string): string {
  let cause = message;
  const wrapped = /Last error: (?:Error: )?([\s\S]*?)\s*(?:\(\d{4}-\d\d-\d\dT[^)]*\))?\.?\s*Resolution note:/.exec(cause);
  if (wrapped) cause = wrapped[1];
  const openssl = /SSL routines:[^:]*:([^:]+):/.exec(cause);
  if (openssl) cause = openssl[1];
  return cause.replace(/\s+/g, ' ').trim();
}

/** What {@link tlsWarnings} looks at in a signal's target. */
export interface TlsTarget {
  readonly protocol: string;
  readonly url: string;
  readonly tls: TlsSettings;
  readonly insecure?: { readonly value: boolean; readonly what: string };
}

/**
 * Lines for TLS settings that do nothing for a target: certificate files
 * for a plaintext (`http://`) endpoint, and `insecure=true` for a gRPC
 * endpoint whose `https://` scheme asks for TLS (the scheme decides, as the
 * OTLP exporter specification says).
 */
export function tlsWarnings(signal: string, target: TlsTarget): string[] {
  const warnings: string[] = [];
  const { certificate, clientKey, clientCertificate } = target.tls;
  if (target.url.startsWith('http:')) {
    for (const file of [certificate, clientKey, clientCertificate]) {
      if (file !== undefined) warnings.push(`${signal}: ${file.what} is not used: the endpoint ${target.url} is plaintext (http://)`);
    }
  } else if (target.protocol === 'grpc' && target.insecure?.value === true) {
    warnings.push(
      `${signal}: ${target.insecure.what}=true is not used: the endpoint ${target.url} asks for TLS (https://); give the endpoint as http://host:port or host:port for plaintext`,
    );
  }
  return warnings;
}

/** OpenSSL's codes (as Node reports them) for a server certificate that its chain does not let the client trust. */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

/** The same failures as grpc-js words them (it passes on the message, not the code). */
const UNTRUSTED_MESSAGES = [
  'unable to verify the first certificate',
  'unable to get issuer certificate',
  'unable to get local issuer certificate',
  'self-signed certificate',
  'self signed certificate',
  'certificate signature failure',
  'certificate not trusted',
  'certificate rejected',
];

/**
 * Words for a failed export whose cause is TLS: a server certificate the
 * configured CAs do not vouch for, one for another host name, or a server
 * that wants a client certificate. Undefined when `code`/`message` say
 * nothing of TLS.
 */
export function explainTlsFailure(code: string | undefined, raw: string, material: TlsMaterial | undefined): string | undefined {
  const message = tlsCause(raw);
  const lower = message.toLowerCase();
  const trust = material?.trust ?? "the system's CA certificates";
  if ((code !== undefined && UNTRUSTED_CODES.has(code)) || UNTRUSTED_MESSAGES.some((m) => lower.includes(m))) {
    return `TLS: the server's certificate is not signed by a CA the collector trusts (${message}); it trusts ${trust}: set OTEL_EXPORTER_OTLP_CERTIFICATE (or --certificate) to the CA that signed it`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || lower.includes("does not match certificate's altnames") || lower.includes('hostname/ip does not match')) {
    return `TLS: the server's certificate is not for this host (${message})`;
  }
  if (
    code === 'CERT_HAS_EXPIRED' ||
    lower.includes('certificate has expired') ||
    code === 'CERT_NOT_YET_VALID' ||
    lower.includes('certificate is not yet valid')
  ) {
    return `TLS: the server's certificate is out of its validity period (${message})`;
  }
  if (
    lower.includes('certificate required') ||
    lower.includes('alert handshake failure') ||
    lower.includes('alert bad certificate') ||
    lower.includes('unknown ca')
  ) {
    const client =
      material?.cert !== undefined
        ? 'the client certificate given'
        : 'no client certificate (set OTEL_EXPORTER_OTLP_CLIENT_KEY and OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, or --client-key and --client-certificate)';
    return `TLS: the server refused the handshake (${message}); it may require a client certificate it trusts, and the collector sent ${client}`;
  }
  return undefined;
}
