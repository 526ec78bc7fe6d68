/**
 * CIDR notation checks, following Go's `net.ParseCIDR` (what OSM's webhook and init
 * container use): an address, a slash, and a decimal prefix length no longer than the
 * address. Host bits may be set (`10.0.0.1/8`), as Go allows.
 */
import { isIPv4, isIPv6 } from 'node:net';

function prefixFits(prefix: string, bits: number): boolean {
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= bits;
}

function split(text: string): [string, string] | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  return [text.slice(0, slash), text.slice(slash + 1)];
}

/** True for an IPv4 CIDR such as `10.0.0.0/8`. */
export function isIPv4Cidr(text: string): boolean {
  const parts = split(text);
  return parts !== undefined && isIPv4(parts[0]) && prefixFits(parts[1], 32);
}

/** True for an IPv4 or IPv6 CIDR such as `10.0.0.0/8` or `fd00::/8`. */
export function isCidr(text: string): boolean {
  if (isIPv4Cidr(text)) return true;
  const parts = split(text);
  // Go's ParseCIDR takes no zone (`fe80::1%eth0/64`); Node's isIPv6 would.
  return parts !== undefined && !parts[0].includes('%') && isIPv6(parts[0]) && prefixFits(parts[1], 128);
}
