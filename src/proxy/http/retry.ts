/**
 * Envoy's retry rules: which responses and resets a route's `retry_on` conditions retry
 * (router filter docs, "x-envoy-retry-on"), and the jittered exponential back-off between tries.
 * Pure: the random source is passed in.
 */
import type { RetryPolicyConfig } from '../config/index.js';
import type { UpstreamResetReason } from './exchange.js';

const ON_5XX = 1 << 0;
const ON_GATEWAY_ERROR = 1 << 1;
const ON_RESET = 1 << 2;
const ON_CONNECT_FAILURE = 1 << 3;
const ON_RETRIABLE_4XX = 1 << 4;
const ON_ENVOY_RATELIMITED = 1 << 5;

const CONDITION_BITS: Readonly<Record<string, number>> = {
  '5xx': ON_5XX,
  'gateway-error': ON_GATEWAY_ERROR,
  reset: ON_RESET,
  'connect-failure': ON_CONNECT_FAILURE,
  'retriable-4xx': ON_RETRIABLE_4XX,
  'envoy-ratelimited': ON_ENVOY_RATELIMITED,
};

/** gRPC `retry_on` conditions and the `grpc-status` each retries. */
const GRPC_CODES: Readonly<Record<string, number>> = {
  cancelled: 1,
  'deadline-exceeded': 4,
  'resource-exhausted': 8,
  internal: 13,
  unavailable: 14,
};

/**
 * A route's retry policy compiled for the data path. `retriable-status-codes` and
 * `retriable-headers` are accepted by the decoder but carry no codes or headers in our model,
 * so they never match; `refused-stream` needs an HTTP/2 upstream's REFUSED_STREAM (not here yet) and
 * `http3-post-connect-failure` never applies.
 */
export class RetryRules {
  private readonly bits: number;
  private readonly grpcStatuses: readonly string[];
  readonly numRetries: number;
  readonly perTryTimeoutMs: number;
  readonly backOffBaseMs: number;

  constructor(policy: RetryPolicyConfig) {
    let bits = 0;
    const grpc: string[] = [];
    for (const cond of policy.retryOn) {
      bits |= CONDITION_BITS[cond] ?? 0;
      const code = GRPC_CODES[cond];
      if (code !== undefined) grpc.push(String(code));
    }
    this.bits = bits;
    this.grpcStatuses = grpc;
    this.numRetries = policy.numRetries;
    this.perTryTimeoutMs = policy.perTryTimeoutMs ?? 0;
    // Envoy's default base interval is 25 ms.
    this.backOffBaseMs = policy.backOffBaseMs ?? 25;
  }

  /** Whether a response head with `status` (and the named header values) is retried. */
  retriesResponse(status: number, rateLimited: boolean, grpcStatus: string | undefined): boolean {
    const b = this.bits;
    if (b & ON_5XX && status >= 500) return true;
    if (b & ON_GATEWAY_ERROR && status >= 502 && status <= 504) return true;
    if (b & ON_RETRIABLE_4XX && status === 409) return true;
    if (b & ON_ENVOY_RATELIMITED && rateLimited) return true;
    return grpcStatus !== undefined && this.grpcStatuses.includes(grpcStatus);
  }

  /** Whether the policy looks at `grpc-status` or `x-envoy-ratelimited` (so the router reads them only then). */
  get readsResponseHeaders(): boolean {
    return this.grpcStatuses.length > 0 || (this.bits & ON_ENVOY_RATELIMITED) !== 0;
  }

  /**
   * Whether a failed attempt is retried: 5xx, gateway-error and reset cover every reset and
   * per-try timeout; connect-failure only connection failures. Overflow and "no healthy
   * upstream" are never retried (Envoy answers them before any try).
   */
  retriesReset(reason: UpstreamResetReason | 'perTryTimeout'): boolean {
    if (reason === 'overflow' || reason === 'noHealthyUpstream') return false;
    if (this.bits & (ON_5XX | ON_GATEWAY_ERROR | ON_RESET)) return true;
    return (this.bits & ON_CONNECT_FAILURE) !== 0 && reason === 'connectFailure';
  }
}

const compiled = new WeakMap<RetryPolicyConfig, RetryRules>();

/** The compiled rules of a policy (once per policy object). */
export function retryRulesFor(policy: RetryPolicyConfig): RetryRules {
  let rules = compiled.get(policy);
  if (rules === undefined) compiled.set(policy, (rules = new RetryRules(policy)));
  return rules;
}

/**
 * Envoy's JitteredExponentialBackOffStrategy: the n-th retry waits a uniform random time in
 * [0, (2^n - 1) x base), at most 10 x base; the exponent stops growing once (2^n - 1) x base
 * passes the maximum.
 */
export class RetryBackOff {
  private retry = 1;
  private readonly maxMs: number;

  constructor(
    private readonly baseMs: number,
    private readonly random: () => number,
  ) {
    this.maxMs = 10 * baseMs;
  }

  /** The wait before the next retry, in whole ms. */
  nextMs(): number {
    const ceiling = ((1 << this.retry) - 1) * this.baseMs;
    if (ceiling <= this.maxMs) this.retry++;
    return Math.min(Math.floor(this.random() * ceiling), this.maxMs);
  }
}
