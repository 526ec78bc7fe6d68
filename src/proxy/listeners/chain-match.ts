/**
 * Envoy's filter-chain selection. Criteria are applied in Envoy's order (destination port,
 * destination IP, server name, transport protocol, application protocols); at each level the
 * most specific candidates win (a set value over an empty one, the longest IP prefix, an exact
 * server name over the longest wildcard), and there is no backtracking: once a level narrows to
 * its most specific candidates, a later miss means no chain, as in Envoy.
 */
import { isIPv4 } from 'node:net';
import type { CidrConfig, FilterChainConfig, ListenerConfig } from '../config/index.js';

export interface ConnectionFacts {
  readonly destinationPort: number;
  readonly destinationIp: string;
  /** Lower-case SNI; undefined when the inspector did not run or the client sent none. */
  readonly serverName: string | undefined;
  /** `tls` or `raw_buffer` once inspected; undefined when the inspector did not run. */
  readonly transportProtocol: string | undefined;
  readonly applicationProtocols: readonly string[];
}

/** Whether a listener's chains look at anything only the TLS inspector can tell. */
export function needsInspection(listener: ListenerConfig): boolean {
  return listener.tlsInspector && listener.filterChains.some((c) => c.match.serverNames.length > 0 || c.match.transportProtocol !== undefined || c.match.applicationProtocols.length > 0);
}

export function selectFilterChain(listener: ListenerConfig, facts: ConnectionFacts): FilterChainConfig | undefined {
  let chains: readonly FilterChainConfig[] = listener.filterChains;
  chains = narrow(chains, (c) => (c.match.destinationPort === undefined ? 0 : c.match.destinationPort === facts.destinationPort ? 1 : -1));
  chains = narrow(chains, (c) => prefixScore(c.match.prefixRanges, facts.destinationIp));
  chains = narrow(chains, (c) => serverNameScore(c.match.serverNames, facts.serverName));
  chains = narrow(chains, (c) => (c.match.transportProtocol === undefined ? 0 : c.match.transportProtocol === (facts.transportProtocol ?? 'raw_buffer') ? 1 : -1));
  chains = narrow(chains, (c) => (c.match.applicationProtocols.length === 0 ? 0 : c.match.applicationProtocols.some((p) => facts.applicationProtocols.includes(p)) ? 1 : -1));
  return chains[0] ?? listener.defaultFilterChain;
}

/** Keeps the candidates with the best non-negative score (negative: the criterion rules the chain out). */
function narrow(chains: readonly FilterChainConfig[], score: (c: FilterChainConfig) => number): readonly FilterChainConfig[] {
  let best = -1;
  let out: FilterChainConfig[] = [];
  for (const c of chains) {
    const s = score(c);
    if (s < 0 || s < best) continue;
    if (s > best) {
      best = s;
      out = [];
    }
    out.push(c);
  }
  return out;
}

/** 0 for no ranges; 1 + the longest matching prefix length; -1 when ranges exist and none match. */
function prefixScore(ranges: readonly CidrConfig[], ip: string): number {
  if (ranges.length === 0) return 0;
  let best = -1;
  for (const r of ranges) if (r.bits > best && cidrContains(r, ip)) best = r.bits;
  return best < 0 ? -1 : best + 1;
}

/** 0 for no names; exact beats any wildcard; a longer `*.suffix` beats a shorter one. */
function serverNameScore(names: readonly string[], sni: string | undefined): number {
  if (names.length === 0) return 0;
  if (sni === undefined) return -1;
  let best = -1;
  for (const n of names) {
    if (n === sni) return Number.MAX_SAFE_INTEGER;
    if (n.startsWith('*.') && sni.endsWith(n.slice(1)) && sni.length > n.length - 1) best = Math.max(best, n.length);
  }
  return best;
}

export function cidrContains(range: CidrConfig, ip: string): boolean {
  const bytes = ipBytes(ip);
  if (!bytes || bytes.length !== (range.family === 4 ? 4 : 16)) return false;
  const base = ipBytes(range.address);
  if (!base) return false;
  let bits = range.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i]! & mask) !== (base[i]! & mask)) return false;
  }
  return true;
}

/** Address bytes; an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) counts as IPv4. */
export function ipBytes(ip: string): number[] | undefined {
  const mapped = ip.toLowerCase().startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(mapped)) return mapped.split('.').map(Number);
  if (!mapped.includes(':')) return undefined;
  const [head, tail] = mapped.split('::') as [string, string | undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':'));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return undefined;
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
}
