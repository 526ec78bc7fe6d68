/**
 * Certificate errors: one table of codes (E6xxx, the certificate area, after the E1xxx-E5xxx
 * problem codes in api/problem.ts), each with its message template. Tests assert the code.
 * Messages name files, common names and serial numbers, never key or certificate contents.
 */

type Template = (p: Record<string, string>) => string;

const templates = {
  // The CA and its state directory (E60xx).
  E6001: (p) => `${p.file}: cannot read the mesh CA: ${p.reason}`,
  E6002: (p) => `${p.keyFile}: private key does not match the public key of ${p.certFile}; restore the matching pair or remove both files to create a new CA`,
  E6003: (p) => `${p.present} exists but ${p.missing} does not; restore ${p.missing}, or remove ${p.present} to create a new CA`,
  E6004: (p) => `${p.file}: not usable as the mesh CA: ${p.reason}`,
  E6005: (p) => `${p.option}: ${p.reason}`,
  E6006: (p) => `cannot write the mesh CA to ${p.file}: ${p.reason}`,
  // Names (E61xx).
  E6101: (p) => `proxy common name ${JSON.stringify(p.cn)}: ${p.reason}`,
  // Verifying a peer's certificate (E62xx).
  E6201: (p) => `peer certificate cannot be parsed: ${p.reason}`,
  E6202: (p) => `peer certificate ${p.subject} (serial ${p.serial}) is not signed by the mesh CA (issuer ${p.issuer})`,
  E6203: (p) => `peer certificate ${p.subject} (serial ${p.serial}) is not valid at ${p.at}: valid from ${p.notBefore} to ${p.notAfter}`,
  E6204: (p) => `peer certificate ${p.subject} (serial ${p.serial}) ${p.reason}`,
  // The certificate manager (E63xx).
  E6301: (p) => `renewing the workload certificate of ${p.identity} failed; retrying in ${p.retryMs} ms`,
  E6302: (p) => `a certificate rotation subscriber threw for ${p.identity}`,
  E6303: () => `the certificate manager is closed`,
} satisfies Record<string, Template>;

/** A certificate error code; see the table above for what each means. */
export type CertErrorCode = keyof typeof templates;

/** An error from the mesh CA or certificate manager, carrying a stable code. */
export class CertError extends Error {
  readonly code: CertErrorCode;

  constructor(code: CertErrorCode, params: Record<string, string>, options?: ErrorOptions) {
    super(`${templates[code](params)} [${code}]`, options);
    this.name = 'CertError';
    this.code = code;
  }
}

/** The message of an unknown thrown value, for a `reason` parameter. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
