/**
 * The nat-table rules that send a workload's TCP through its sidecar, as OSM's init container
 * programs them (reference/osm.md 4.7; openservicemesh/osm:pkg/injector/iptables.go at v1.2.4).
 *
 * Pure: the same input gives the same rules, in the same order. Rules are listed as they end up
 * in each chain, so every one is an append; OSM instead appends most and then inserts (`-I`) the
 * inbound exclusions at the top of OSM_PROXY_INBOUND and the PodIP DNAT at the top of OUTPUT.
 * The chains come out the same; the one difference is that our DNAT lands after, not before,
 * any OUTPUT rules that existed before ours (none do in a new pod's network namespace).
 *
 * IPv4 only, like OSM. IPv6 would need an ip6tables set built the same way with `::1/128` for
 * 127.0.0.1/32, IPv6 CIDRs in the lists (split by family, as istio-iptables does), the pod's
 * IPv6 address for the DNAT, and the proxy reading IP6T_SO_ORIGINAL_DST for redirected sockets.
 */
import { isIPv4 } from 'node:net';
import { isIPv4Cidr } from '../api/osm/index.js';
import { isInterfaceName, type TrafficExclusions } from './exclusions.js';

/** The chains osm-ts creates, in the order OSM declares them. */
export const OSM_CHAINS = ['OSM_PROXY_INBOUND', 'OSM_PROXY_IN_REDIRECT', 'OSM_PROXY_OUTBOUND', 'OSM_PROXY_OUT_REDIRECT'] as const;

/** One of our own chains. */
export type OsmChain = (typeof OSM_CHAINS)[number];

/** A chain the kernel provides, which we only hook into. */
export type BuiltinChain = 'PREROUTING' | 'OUTPUT';

/** Any nat chain a rule can be appended to. */
export type Chain = OsmChain | BuiltinChain;

/** The sidecar's ports, as the proxy and its bootstrap bind them (reference/osm.md 1.2). */
export interface InterceptionPorts {
  /** Where redirected outbound TCP lands (OSM: 15001). */
  readonly outboundListener: number;
  /** Where redirected inbound TCP lands (OSM: 15003). */
  readonly inboundListener: number;
  /** The Prometheus listener, reached directly (OSM: 15010). */
  readonly prometheus: number;
  /** The liveness, readiness and startup probe listeners, reached directly (OSM: 15901-15903). */
  readonly probes: readonly number[];
  /** The TCP-probe health checker, reached directly (OSM: 15904). */
  readonly healthcheck: number;
}

/** OSM's ports. */
export const OSM_PORTS: InterceptionPorts = Object.freeze({
  outboundListener: 15001,
  inboundListener: 15003,
  prometheus: 15010,
  probes: Object.freeze([15901, 15902, 15903]),
  healthcheck: 15904,
});

/** The uid the sidecar runs as; its traffic is never recaptured (OSM: 1500). */
export const OSM_PROXY_UID = 1500;

/**
 * How the proxy reaches the application (MeshConfig `spec.sidecar.localProxyMode`). With PodIP,
 * the proxy's connections to 127.0.0.1 are rewritten to the pod IP, for applications that
 * listen on the pod IP only.
 */
export type LocalProxyMode = { readonly mode: 'Localhost' } | { readonly mode: 'PodIP'; readonly podIP: string };

/** Everything the rules depend on. */
export interface InterceptionInput {
  /** The sidecar's uid. */
  readonly proxyUid: number;
  readonly ports: InterceptionPorts;
  /** The merged MeshConfig and pod lists (see `interceptionExclusions`). */
  readonly exclusions: TrafficExclusions;
  readonly localProxyMode: LocalProxyMode;
}

/** A match that can be negated, as iptables' `!`. */
export interface Negatable<T> {
  readonly value: T;
  readonly negated: boolean;
}

/** The conditions of one rule; all that are present must hold. */
export interface RuleMatch {
  readonly protocol?: 'tcp';
  readonly destination?: Negatable<string>;
  readonly inInterface?: string;
  readonly outInterface?: string;
  readonly destinationPort?: number;
  /** At most MULTIPORT_MAX ports (the multiport match's limit). */
  readonly destinationPorts?: readonly number[];
  readonly ownerUid?: Negatable<number>;
}

/** What a matching packet's connection is sent to. */
export type RuleTarget =
  | { readonly kind: 'jump'; readonly chain: OsmChain }
  | { readonly kind: 'RETURN' }
  | { readonly kind: 'REDIRECT'; readonly toPort: number }
  | { readonly kind: 'DNAT'; readonly toDestination: string };

/** One rule, appended to its chain. */
export interface Rule {
  readonly chain: Chain;
  readonly match: RuleMatch;
  readonly target: RuleTarget;
}

/** The rule set for one workload, in append order; within a chain, order is precedence. */
export interface InterceptionRules {
  readonly chains: readonly OsmChain[];
  readonly rules: readonly Rule[];
}

/** The multiport match takes at most 15 ports; OSM puts any number in one rule, which iptables refuses. */
export const MULTIPORT_MAX = 15;

const LOCALHOST = '127.0.0.1/32';
const TCP = { protocol: 'tcp' } as const;
const RETURN = { kind: 'RETURN' } as const;
const jump = (chain: OsmChain): RuleTarget => ({ kind: 'jump', chain });
const is = <T>(value: T): Negatable<T> => ({ value, negated: false });
const isNot = <T>(value: T): Negatable<T> => ({ value, negated: true });

function chunks(ports: readonly number[]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < ports.length; i += MULTIPORT_MAX) out.push(ports.slice(i, i + MULTIPORT_MAX));
  return out;
}

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;

/**
 * Checks everything that becomes script text, so that no input, however it was built, can add a
 * line or an option to the script.
 */
function checkInput(input: InterceptionInput): void {
  const problems: string[] = [];
  const { exclusions } = input;
  const check = <T>(field: string, list: readonly T[], ok: (v: T) => boolean, expected: string) => {
    list.forEach((v, i) => {
      if (!ok(v)) problems.push(`exclusions.${field}[${i}]: expected ${expected}, got ${JSON.stringify(v)}`);
    });
  };
  check('outboundPorts', exclusions.outboundPorts, isPort, 'a port number 1-65535');
  check('inboundPorts', exclusions.inboundPorts, isPort, 'a port number 1-65535');
  check('outboundIPRanges', exclusions.outboundIPRanges, isIPv4Cidr, 'an IPv4 CIDR');
  check('outboundIPRangeInclusions', exclusions.outboundIPRangeInclusions, isIPv4Cidr, 'an IPv4 CIDR');
  check('networkInterfaces', exclusions.networkInterfaces, isInterfaceName, 'a network interface name');
  if (!Number.isInteger(input.proxyUid) || input.proxyUid < 0) problems.push(`proxyUid: expected a uid >= 0, got ${input.proxyUid}`);
  const { probes, ...single } = input.ports;
  for (const [name, port] of [...Object.entries(single), ...probes.map((p, i) => [`probes[${i}]`, p] as const)]) {
    if (!isPort(port)) problems.push(`ports.${name}: expected a port number 1-65535, got ${port}`);
  }
  const mode = input.localProxyMode;
  if (mode.mode === 'PodIP' && !isIPv4(mode.podIP)) {
    problems.push(`localProxyMode.podIP: expected an IPv4 address for PodIP mode, got ${JSON.stringify(mode.podIP)}`);
  }
  if (problems.length > 0) throw new Error(`interception rules: ${problems.join('; ')}`);
}

function inboundRules(input: InterceptionInput): Rule[] {
  const { ports, exclusions } = input;
  const inbound = (match: RuleMatch, target: RuleTarget): Rule => ({ chain: 'OSM_PROXY_INBOUND', match, target });
  // The sidecar's own listeners that must be reached without a detour through the inbound listener.
  const direct = [ports.prometheus, ...ports.probes, ports.healthcheck];
  return [
    { chain: 'OSM_PROXY_IN_REDIRECT', match: TCP, target: { kind: 'REDIRECT', toPort: ports.inboundListener } },
    { chain: 'PREROUTING', match: TCP, target: jump('OSM_PROXY_INBOUND') },
    // OSM inserts these at the top, ports last, so ports come first.
    ...chunks(exclusions.inboundPorts).map((group) => inbound({ ...TCP, destinationPorts: group }, RETURN)),
    ...exclusions.networkInterfaces.map((name) => inbound({ inInterface: name }, RETURN)),
    ...direct.map((port) => inbound({ ...TCP, destinationPort: port }, RETURN)),
    inbound(TCP, jump('OSM_PROXY_IN_REDIRECT')),
  ];
}

function outboundRules(input: InterceptionInput): Rule[] {
  const { ports, exclusions, proxyUid, localProxyMode } = input;
  const outbound = (match: RuleMatch, target: RuleTarget): Rule => ({ chain: 'OSM_PROXY_OUTBOUND', match, target });
  const podIPDnat: Rule[] =
    localProxyMode.mode === 'PodIP'
      ? [{
          chain: 'OUTPUT',
          match: { ...TCP, destination: is(LOCALHOST), outInterface: 'lo', ownerUid: is(proxyUid) },
          target: { kind: 'DNAT', toDestination: localProxyMode.podIP },
        }]
      : [];
  const inclusions = exclusions.outboundIPRangeInclusions;
  const redirect = jump('OSM_PROXY_OUT_REDIRECT');
  return [
    // OSM also appends `--dport 15000 -j ACCEPT` here; the REDIRECT before it takes every TCP
    // packet, so that rule never matches and is left out.
    { chain: 'OSM_PROXY_OUT_REDIRECT', match: TCP, target: { kind: 'REDIRECT', toPort: ports.outboundListener } },
    ...podIPDnat,
    { chain: 'OUTPUT', match: TCP, target: jump('OSM_PROXY_OUTBOUND') },
    // The proxy calling its own pod through a Service VIP: send it to the inbound listener, so
    // app -> outbound listener -> inbound listener -> app.
    outbound({ destination: isNot(LOCALHOST), outInterface: 'lo', ownerUid: is(proxyUid) }, jump('OSM_PROXY_IN_REDIRECT')),
    // The application calling itself (pod IP or loopback) is not proxied.
    outbound({ outInterface: 'lo', ownerUid: isNot(proxyUid) }, RETURN),
    // The proxy's own upstream connections: never recaptured.
    outbound({ ownerUid: is(proxyUid) }, RETURN),
    outbound({ destination: is(LOCALHOST) }, RETURN),
    ...exclusions.networkInterfaces.map((name) => outbound({ outInterface: name }, RETURN)),
    ...exclusions.outboundIPRanges.map((cidr) => outbound({ destination: is(cidr) }, RETURN)),
    ...chunks(exclusions.outboundPorts).map((group) => outbound({ ...TCP, destinationPorts: group }, RETURN)),
    // With an inclusion list, only the listed ranges are proxied and the rest returns.
    ...(inclusions.length > 0
      ? [...inclusions.map((cidr) => outbound({ destination: is(cidr) }, redirect)), outbound({}, RETURN)]
      : [outbound({}, redirect)]),
  ];
}

/**
 * The interception rules for one workload: inbound TCP to the inbound listener, outbound TCP to
 * the outbound listener, minus the exclusions. Throws when the input breaks its own invariants
 * (a port outside 1-65535, a PodIP mode without an IPv4 pod IP, a list item that
 * `interceptionExclusions` would have refused).
 */
export function interceptionRules(input: InterceptionInput): InterceptionRules {
  checkInput(input);
  return { chains: OSM_CHAINS, rules: [...inboundRules(input), ...outboundRules(input)] };
}

/** The rules appended to one chain, in order. */
export function rulesIn(rules: InterceptionRules, chain: Chain): Rule[] {
  return rules.rules.filter((r) => r.chain === chain);
}
