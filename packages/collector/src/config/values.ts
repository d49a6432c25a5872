/**
 * The values a setting may hold, parsed with an error that names the
 * setting they came from (`--timeout: expected a whole number, got "x"`).
 */
import type { OtlpProtocol } from './config.js';
import { ConfigError } from './config-error.js';

/** A whole number of at least `min`, written in decimal digits; `what` names the setting in the error. */
export function integer(text: string, what: string, min: number): number {
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(`${what}: expected a whole number, got "${text}"`);
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`${what}: must be at least ${min}, got "${text}"`);
  return n;
}

/** Headers as `key=value,key2=value2` (OTEL_EXPORTER_OTLP_HEADERS), percent-decoded; keys lower-cased. */
export function parseHeaders(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${what}: expected key=value, got "${part}"`);
    try {
      out[decodeURIComponent(part.slice(0, eq).trim()).toLowerCase()] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`${what}: bad percent-encoding in "${part}"`);
    }
  }
  return out;
}

/** `grpc`, `http/protobuf` or `http/json`. */
export function parseProtocol(text: string, what: string): OtlpProtocol {
  if (text === 'grpc' || text === 'http/protobuf' || text === 'http/json') return text;
  throw new ConfigError(`${what}: expected grpc, http/protobuf or http/json, got "${text}"`);
}

/** `true` or `false` (any case). */
export function parseBoolean(text: string, what: string): boolean {
  const lower = text.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw new ConfigError(`${what}: expected true or false, got "${text}"`);
}

/**
 * An endpoint URL. A gRPC endpoint may also be given as `host:port` without
 * a scheme; `insecure` then decides between plaintext (`http://`) and TLS
 * (`https://`, the default). A scheme, when given, decides.
 */
export function parseEndpoint(text: string, what: string, protocol: OtlpProtocol, insecure: boolean): URL {
  if (protocol === 'grpc' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return parseUrl(`${insecure ? 'http' : 'https'}://${text}`, what);
  return parseUrl(text, what);
}

/** An http:// or https:// URL. */
export function parseUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${what}: not a URL: "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${what}: expected an http:// or https:// URL, got "${text}"`);
  }
  return url;
}
