/**
 * ADS server errors: one table of codes (E71xx, the xDS serving area; E1xxx-E5xxx are the
 * problem codes in api/problem.ts, E6xxx the certificates), each with its message template.
 * Tests assert the code. Start-up option errors are thrown; stream refusals become gRPC statuses.
 */

type Template = (p: Record<string, string>) => string;

const templates = {
  // Options and listeners (E710x).
  E7101: (p) => `${p.option}: ${p.reason}`,
  E7102: (p) => `plaintext listener ${p.address}: refusing a non-loopback address without TLS; proxyless clients on other hosts could read every secret it serves; pass force: true to allow it`,
  E7103: (p) => `cannot listen on ${p.address}: ${p.reason}`,
  // Stream refusals (E711x).
  E7111: () => `no client certificate on the mTLS listener`,
  E7112: (p) => `client certificate ${p.cn} (serial ${p.serial}) is not a proxy certificate: ${p.reason}`,
  E7113: () => `the first request on a stream must carry node`,
  E7114: (p) => `proxy ${p.node} refused: ${p.reason}`,
  E7115: () => `the ADS server is shutting down`,
} satisfies Record<string, Template>;

/** An ADS error code; see the table above for what each means. */
export type AdsErrorCode = keyof typeof templates;

/** An error from the ADS server, carrying a stable code. */
export class AdsError extends Error {
  readonly code: AdsErrorCode;

  constructor(code: AdsErrorCode, params: Record<string, string> = {}, options?: ErrorOptions) {
    super(`${templates[code](params)} [${code}]`, options);
    this.name = 'AdsError';
    this.code = code;
  }
}
