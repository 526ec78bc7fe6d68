/**
 * What the proxy answers by itself, as Envoy does: status, body text, `%RESPONSE_CODE_DETAILS%`
 * and the response flag, one table so the router and the access log agree. Bodies follow
 * Envoy's router (`upstream connect error or disconnect/reset before headers. reset reason: ...`)
 * so clients and scripts that match on them keep working.
 */

/** Envoy's response flags the connection manager sets (bits), printed in Envoy's order. */
export const ResponseFlag = {
  /** No healthy upstream host. */
  UH: 1 << 0,
  /** Upstream request timeout (route or per-try). */
  UT: 1 << 1,
  /** Upstream connection failure. */
  UF: 1 << 2,
  /** Upstream connection termination. */
  UC: 1 << 3,
  /** Upstream overflow (circuit breaker). */
  UO: 1 << 4,
  /** No route. */
  NR: 1 << 5,
  /** Rate limited by the local rate limit filter. */
  RL: 1 << 6,
  /** Downstream connection termination. */
  DC: 1 << 7,
  /** Upstream retry limit exceeded. */
  URX: 1 << 8,
  /** Downstream protocol error. */
  DPE: 1 << 9,
  /** Upstream protocol error. */
  UPE: 1 << 10,
  /** No cluster. */
  NC: 1 << 11,
} as const;

const FLAG_ORDER = Object.entries(ResponseFlag) as ReadonlyArray<[string, number]>;

/** `%RESPONSE_FLAGS%`: the short names joined by commas, `-` when none. */
export function responseFlagsText(flags: number): string {
  if (flags === 0) return '-';
  let text = '';
  for (const [name, bit] of FLAG_ORDER) if (flags & bit) text = text === '' ? name : `${text},${name}`;
  return text;
}

/** A reply the proxy sends itself. */
export interface LocalReply {
  readonly status: number;
  readonly body: string;
  readonly details: string;
  readonly flag: number;
}

const reset = (reason: string, status: number, flag: number): LocalReply => ({
  status,
  body: `upstream connect error or disconnect/reset before headers. reset reason: ${reason}`,
  details: `upstream_reset_before_response_started{${reason.replace(/ /g, '_')}}`,
  flag,
});

/** The fixed local replies; RBAC, rate-limit and direct responses are built where they happen. */
export const LOCAL_REPLY = {
  noRoute: { status: 404, body: '', details: 'route_not_found', flag: ResponseFlag.NR },
  noCluster: { status: 503, body: '', details: 'cluster_not_found', flag: ResponseFlag.NC },
  noHealthyUpstream: { status: 503, body: 'no healthy upstream', details: 'no_healthy_upstream', flag: ResponseFlag.UH },
  overflow: reset('overflow', 503, ResponseFlag.UO),
  connectFailure: reset('connection failure', 503, ResponseFlag.UF),
  connectionTermination: reset('connection termination', 503, ResponseFlag.UC),
  // Envoy answers a malformed upstream response with 502 rather than 503.
  protocolError: reset('protocol error', 502, ResponseFlag.UPE),
  timeout: { status: 504, body: 'upstream request timeout', details: 'upstream_response_timeout', flag: ResponseFlag.UT },
  perTryTimeout: { status: 504, body: 'upstream request timeout', details: 'upstream_per_try_timeout', flag: ResponseFlag.UT },
  upgradeFailed: { status: 403, body: '', details: 'upgrade_failed', flag: 0 },
} as const satisfies Record<string, LocalReply>;

/** The RBAC filter's denial: 403 with Envoy's body, naming the policy that decided. */
export function rbacDenied(policy: string | undefined): LocalReply {
  return { status: 403, body: 'RBAC: access denied', details: `rbac_access_denied_matched_policy[${policy ?? 'none'}]`, flag: 0 };
}
