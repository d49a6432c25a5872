/**
 * Certificates made at run time for the TLS tests, with the machine's
 * `openssl` (Node's crypto makes keys but cannot sign certificates): a
 * private CA, a server certificate it signs for 127.0.0.1 and localhost, a
 * client certificate it signs (mTLS), and a second, unrelated CA. P-256
 * keys; valid for two days. Nothing is committed: every run makes its own.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './files.js';

/** A certificate and its key, as files and bytes. */
export interface KeyPair {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TestCertificates {
  readonly dir: string;
  /** The private CA that signed `server` and `client`. */
  readonly ca: KeyPair;
  /** For 127.0.0.1 and localhost, signed by `ca`. */
  readonly server: KeyPair;
  /** A client certificate (CN otlp-mmap-collector), signed by `ca`. */
  readonly client: KeyPair;
  /** A CA that signed neither. */
  readonly otherCa: KeyPair;
  cleanup(): void;
}

function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') {
      throw new Error('the TLS tests make their certificates with the `openssl` command, which is not installed (Debian/Ubuntu: apt-get install openssl)');
    }
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

function pair(dir: string, name: string): KeyPair {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  return { certPath, keyPath, cert: readFileSync(certPath), key: readFileSync(keyPath) };
}

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

function makeCa(dir: string, name: string, cn: string): KeyPair {
  openssl(
    [
      'req',
      '-x509',
      ...KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return pair(dir, name);
}

function makeLeaf(dir: string, name: string, cn: string, extensions: string): KeyPair {
  openssl(['req', ...KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    ],
    dir,
  );
  return pair(dir, name);
}

/** Makes a fresh set of certificates in a temporary directory. */
export function makeTestCertificates(): TestCertificates {
  const tmp = tempDir('otlp-mmap-tls-');
  const dir = tmp.dir;
  try {
    const ca = makeCa(dir, 'ca', 'otlp-mmap test CA');
    const server = makeLeaf(
      dir,
      'server',
      '127.0.0.1',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
    );
    const client = makeLeaf(
      dir,
      'client',
      'otlp-mmap-collector',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
    );
    const otherCa = makeCa(dir, 'other-ca', 'an unrelated CA');
    return { dir, ca, server, client, otherCa, cleanup: () => tmp.cleanup() };
  } catch (error) {
    tmp.cleanup();
    throw error;
  }
}
