import type { RetryConfig } from '../config/config.js';

/**
 * Delay before retry number `attempt` (1-based): exponential backoff with
 * factor 2 capped at `maxBackoffMs`, with full jitter in [50%, 100%] of the
 * step; a server-given delay (Retry-After, RetryInfo) wins when larger.
 */
export function backoffDelay(config: RetryConfig, attempt: number, serverDelayMs?: number, random: () => number = Math.random): number {
  const step = Math.min(config.maxBackoffMs, config.initialBackoffMs * 2 ** Math.max(0, attempt - 1));
  const jittered = step * (0.5 + random() * 0.5);
  return Math.max(jittered, serverDelayMs ?? 0);
}
