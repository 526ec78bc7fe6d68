/**
 * Port fields shared by Services, Endpoints, EndpointSlices and Pods: the protocol, the port
 * number range, and Kubernetes' rule for a port given as a number or as a container port name.
 */
import type { ObjectReporter } from '../kind.js';
import { describeValue, s, type Infer } from '../../lib/schema.js';

/** A port's protocol; Kubernetes defaults it to TCP. */
export const protocolSchema = s.enumOf(['TCP', 'UDP', 'SCTP'], { default: 'TCP' });

/** One of TCP, UDP, SCTP. */
export type Protocol = Infer<typeof protocolSchema>;

/** A port number as Kubernetes requires wherever a port must be given: 1-65535. */
export const portNumberSchema = s.integer({ minimum: 1, maximum: 65535 });

/**
 * Whether `text` is an IANA_SVC_NAME (RFC 6335 section 5.1), the form Kubernetes requires
 * of container port names and of ports that refer to one by name: at most 15 characters of
 * a-z, 0-9 and '-', at least one letter, no '-' at either end and no two '-' together.
 */
export function isPortName(text: string): boolean {
  return (
    text.length >= 1 &&
    text.length <= 15 &&
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(text) &&
    /[a-z]/.test(text) &&
    !text.includes('--')
  );
}

/**
 * Reports E2103 unless `value` is a port number (1-65535) or a port name. Kubernetes checks
 * targetPort and probe ports this way (`ValidatePortNumOrName` in its core validation).
 */
export function checkPortNumberOrName(value: number | string, field: string, reporter: ObjectReporter): void {
  const ok = typeof value === 'number' ? value >= 1 && value <= 65535 : isPortName(value);
  if (!ok) reporter.report('E2103', field, { got: describeValue(value) });
}
