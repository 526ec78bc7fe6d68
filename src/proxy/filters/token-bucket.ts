/**
 * Envoy's local rate-limit token bucket: starts full, gains `tokensPerFill` tokens every whole
 * `fillIntervalMs` up to `maxTokens`. Refilled lazily from the clock when a token is asked for,
 * so an idle bucket costs no timer.
 */
import type { TokenBucketConfig } from '../config/index.js';

export class TokenBucket {
  private tokens: number;
  private lastFillMs: number;

  constructor(
    private readonly config: TokenBucketConfig,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = config.maxTokens;
    this.lastFillMs = now();
  }

  /** Takes one token; false when the bucket is empty (the request or connection is limited). */
  tryTake(): boolean {
    const now = this.now();
    const fills = Math.floor((now - this.lastFillMs) / this.config.fillIntervalMs);
    if (fills > 0) {
      this.tokens = Math.min(this.config.maxTokens, this.tokens + fills * this.config.tokensPerFill);
      this.lastFillMs += fills * this.config.fillIntervalMs;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
