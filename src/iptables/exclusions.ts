/**
 * Traffic-interception exclusions: the four pod annotations, parsed and checked, merged with
 * the MeshConfig's lists as OSM's injector merges them (openservicemesh/osm:pkg/injector/exclusions.go,
 * reference/osm.md 4.1 and 2.3).
 *
 * Every value checked here ends up as text in an `iptables-restore` script, so each is held to a
 * strict grammar: nothing that passes can add a line, an option or a negation to the script.
 */
import { isCidr, isIPv4Cidr, type MeshConfigSpec } from '../api/osm/index.js';

/** The pod annotations OSM reads at injection time, by the list each one feeds. */
export const EXCLUSION_ANNOTATIONS = {
  outboundPorts: 'openservicemesh.io/outbound-port-exclusion-list',
  inboundPorts: 'openservicemesh.io/inbound-port-exclusion-list',
  outboundIPRanges: 'openservicemesh.io/outbound-ip-range-exclusion-list',
  outboundIPRangeInclusions: 'openservicemesh.io/outbound-ip-range-inclusion-list',
} as const;

/** What is left out of (or, for inclusions, kept in) interception. Every entry is valid. */
export interface TrafficExclusions {
  /** Destination ports (1-65535) of locally generated TCP that bypass the proxy. */
  readonly outboundPorts: readonly number[];
  /** Destination ports (1-65535) of arriving TCP that bypass the proxy. */
  readonly inboundPorts: readonly number[];
  /** IPv4 CIDRs whose outbound TCP bypasses the proxy. */
  readonly outboundIPRanges: readonly string[];
  /** IPv4 CIDRs; when not empty, only outbound TCP to these goes through the proxy. */
  readonly outboundIPRangeInclusions: readonly string[];
  /** Interface names whose traffic, in and out, bypasses the proxy (MeshConfig only). */
  readonly networkInterfaces: readonly string[];
}

/** The empty set of exclusions: everything TCP is intercepted. */
export const NO_EXCLUSIONS: TrafficExclusions = Object.freeze({
  outboundPorts: [],
  inboundPorts: [],
  outboundIPRanges: [],
  outboundIPRangeInclusions: [],
  networkInterfaces: [],
});

/** Codes of the ways a value can be wrong; tests assert these, not the text. */
export type ExclusionIssueCode = 'port' | 'cidr' | 'ipv6-cidr' | 'interface';

/** One bad item in one annotation or MeshConfig list. */
export interface ExclusionIssue {
  readonly code: ExclusionIssueCode;
  /** The annotation key, or the MeshConfig field path such as `spec.traffic.networkInterfaceExclusionList`. */
  readonly source: string;
  /** Position of the item in its comma-separated annotation or list, from 0. */
  readonly index: number;
  /** The item as written (trimmed). */
  readonly item: string;
  /** `<source>: item <index> "<item>": <what was expected>`. */
  readonly message: string;
}

/** Either every list parsed, or every bad item with where it was. */
export type ExclusionResult =
  | { readonly ok: true; readonly value: TrafficExclusions }
  | { readonly ok: false; readonly issues: readonly ExclusionIssue[] };

const expectations: Record<ExclusionIssueCode, string> = {
  port: 'expected a port number 1-65535',
  cidr: 'expected an IPv4 CIDR such as "10.0.0.0/8"',
  'ipv6-cidr': 'IPv6 ranges are not intercepted (osm-ts programs IPv4 iptables only); expected an IPv4 CIDR',
  interface: 'expected a network interface name: 1-15 letters, digits or "_.-@", optionally ending in "+"',
};

function issue(code: ExclusionIssueCode, source: string, index: number, item: string): ExclusionIssue {
  return { code, source, index, item, message: `${source}: item ${index} ${JSON.stringify(item)}: ${expectations[code]}` };
}

// Digits only: OSM's strconv.Atoi would also take "+80", which no one means.
function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

function cidrIssue(text: string): ExclusionIssueCode | undefined {
  if (isIPv4Cidr(text)) return undefined;
  return isCidr(text) ? 'ipv6-cidr' : 'cidr';
}

// Linux interface names are at most 15 bytes (IFNAMSIZ - 1); iptables reads a trailing "+" as a
// prefix wildcard and a leading "!" as negation, which an exclusion must not be.
const INTERFACE_NAME = /^[A-Za-z0-9_.@-]{1,15}\+?$/;

/** True for a name iptables takes as `-i`/`-o` without reading anything else into it. */
export function isInterfaceName(text: string): boolean {
  return INTERFACE_NAME.test(text);
}

/** Parses one annotation's value; OSM splits on commas and trims, and so does this. */
function parseList<T>(
  source: string,
  value: string,
  parse: (item: string) => T | undefined,
  code: (item: string) => ExclusionIssueCode,
  issues: ExclusionIssue[],
): T[] {
  const out: T[] = [];
  value.split(',').forEach((raw, index) => {
    const item = raw.trim();
    const parsed = parse(item);
    if (parsed === undefined) issues.push(issue(code(item), source, index, item));
    else out.push(parsed);
  });
  return out;
}

const parseCidr = (item: string): string | undefined => (cidrIssue(item) === undefined ? item : undefined);
const cidrCode = (item: string): ExclusionIssueCode => cidrIssue(item) ?? 'cidr';

/**
 * The pod's own exclusions from its annotations. An absent annotation contributes nothing; a
 * present one must be a comma-separated list with every item valid (OSM fails the admission
 * request on the first bad item; this reports all of them). Port ranges are not accepted,
 * as in OSM.
 */
export function podExclusions(annotations: Readonly<Record<string, string>> | undefined): ExclusionResult {
  const issues: ExclusionIssue[] = [];
  const read = <T>(key: string, parse: (item: string) => T | undefined, code: (item: string) => ExclusionIssueCode): T[] => {
    const value = annotations?.[key];
    return value === undefined ? [] : parseList(key, value, parse, code, issues);
  };
  const ports = (key: string) => read(key, parsePort, () => 'port');
  const value: TrafficExclusions = {
    outboundPorts: ports(EXCLUSION_ANNOTATIONS.outboundPorts),
    inboundPorts: ports(EXCLUSION_ANNOTATIONS.inboundPorts),
    outboundIPRanges: read(EXCLUSION_ANNOTATIONS.outboundIPRanges, parseCidr, cidrCode),
    outboundIPRangeInclusions: read(EXCLUSION_ANNOTATIONS.outboundIPRangeInclusions, parseCidr, cidrCode),
    networkInterfaces: [],
  };
  return issues.length === 0 ? { ok: true, value } : { ok: false, issues };
}

/**
 * The mesh-wide exclusions from a decoded MeshConfig. Ports and CIDRs were checked when the
 * MeshConfig was decoded; interface names were not, and they reach the script, so they are
 * checked here.
 */
export function meshConfigExclusions(traffic: MeshConfigSpec['traffic']): ExclusionResult {
  const issues: ExclusionIssue[] = [];
  const source = 'spec.traffic.networkInterfaceExclusionList';
  traffic.networkInterfaceExclusionList.forEach((name, index) => {
    if (!isInterfaceName(name)) issues.push(issue('interface', source, index, name));
  });
  // Checked again because they reach the script, whatever became of the MeshConfig's own problems.
  const cidrs = (field: 'outboundIPRangeExclusionList' | 'outboundIPRangeInclusionList') => {
    traffic[field].forEach((cidr, index) => {
      const code = cidrIssue(cidr);
      if (code !== undefined) issues.push(issue(code, `spec.traffic.${field}`, index, cidr));
    });
    return traffic[field];
  };
  const value: TrafficExclusions = {
    outboundPorts: traffic.outboundPortExclusionList,
    inboundPorts: traffic.inboundPortExclusionList,
    outboundIPRanges: cidrs('outboundIPRangeExclusionList'),
    outboundIPRangeInclusions: cidrs('outboundIPRangeInclusionList'),
    networkInterfaces: traffic.networkInterfaceExclusionList,
  };
  return issues.length === 0 ? { ok: true, value } : { ok: false, issues };
}

function union<T>(first: readonly T[], second: readonly T[]): T[] {
  return [...new Set([...first, ...second])];
}

/**
 * One pod's effective lists: the union of mesh-wide and pod lists, duplicates dropped, first
 * occurrence kept. The order is OSM's (mergePortExclusionLists, mergeIPRangeLists): MeshConfig
 * ports before pod ports, but pod CIDRs before MeshConfig CIDRs. Order changes no verdict (every
 * exclusion returns, every inclusion redirects); it only decides the order rules are listed in.
 */
export function mergeExclusions(mesh: TrafficExclusions, pod: TrafficExclusions): TrafficExclusions {
  return {
    outboundPorts: union(mesh.outboundPorts, pod.outboundPorts),
    inboundPorts: union(mesh.inboundPorts, pod.inboundPorts),
    outboundIPRanges: union(pod.outboundIPRanges, mesh.outboundIPRanges),
    outboundIPRangeInclusions: union(pod.outboundIPRangeInclusions, mesh.outboundIPRangeInclusions),
    networkInterfaces: union(mesh.networkInterfaces, pod.networkInterfaces),
  };
}

/** Parses the pod's annotations and merges them with the MeshConfig's lists; all issues of both. */
export function interceptionExclusions(
  traffic: MeshConfigSpec['traffic'],
  annotations: Readonly<Record<string, string>> | undefined,
): ExclusionResult {
  const mesh = meshConfigExclusions(traffic);
  const pod = podExclusions(annotations);
  if (mesh.ok && pod.ok) return { ok: true, value: mergeExclusions(mesh.value, pod.value) };
  return { ok: false, issues: [...(mesh.ok ? [] : mesh.issues), ...(pod.ok ? [] : pod.issues)] };
}

