/**
 * Listener -> ListenerConfig.
 *
 * Supported: a TCP socket address with a port value, traffic direction, the original_dst and
 * tls_inspector listener filters, filter chains (and a default chain) matched on destination
 * port, destination prefix ranges, server names, transport protocol and application protocols,
 * DownstreamTlsContext (decode-tls.ts) and the network filters of decode-network-filters.ts.
 * Access logs and stat prefixes are ignored. Rejected: source matches, UDP, internal and pipe
 * addresses, additional addresses, the filter-chain matcher API, the http_inspector and other
 * listener filters, socket options, and anything else set.
 */
import { isIP } from 'node:net';
import {
  FilterChainMatchSchema,
  FilterChainSchema,
  ListenerFilterSchema,
  ListenerSchema,
  OriginalDstSchema,
  SocketAddress_Protocol,
  SocketAddressSchema,
  TlsInspectorSchema,
  TrafficDirection,
  type FilterChain,
  type Listener,
} from '../../xds/proto.js';
import { at, Issues, item, rejectUnsupported, typedPath, typeNameOf, unpackTyped } from './decode-common.js';
import { decodeNetworkFilters } from './decode-network-filters.js';
import { decodeDownstreamTls } from './decode-tls.js';
import type { CidrConfig, Decoded, FilterChainConfig, FilterChainMatchConfig, ListenerConfig } from './model.js';

const DIRECTION: Record<TrafficDirection, ListenerConfig['direction']> = {
  [TrafficDirection.UNSPECIFIED]: 'unspecified',
  [TrafficDirection.INBOUND]: 'inbound',
  [TrafficDirection.OUTBOUND]: 'outbound',
};

/** Decodes an LDS resource. */
export function decodeListener(msg: Listener): Decoded<ListenerConfig> {
  const issues = new Issues();
  rejectUnsupported(ListenerSchema, msg, '', ['name', 'address', 'listener_filters', 'filter_chains', 'default_filter_chain', 'traffic_direction'], issues);
  if (msg.name === '') issues.add('name', 'required');
  const { bindAddress, port } = decodeAddress(msg, issues);
  let originalDestination = false;
  let tlsInspector = false;
  msg.listenerFilters.forEach((f, i) => {
    const p = item('listener_filters', i);
    rejectUnsupported(ListenerFilterSchema, f, p, ['name', 'typed_config'], issues);
    if (f.configType.case !== 'typedConfig') {
      issues.add(at(p, 'typed_config'), 'required (the sidecar knows filters by their config type)');
      return;
    }
    const type = typeNameOf(f.configType.value);
    if (type === OriginalDstSchema.typeName) {
      const m = unpackTyped(f.configType.value, OriginalDstSchema, p, issues);
      if (m) rejectUnsupported(OriginalDstSchema, m, typedPath(p, OriginalDstSchema), [], issues);
      originalDestination = true;
    } else if (type === TlsInspectorSchema.typeName) {
      const m = unpackTyped(f.configType.value, TlsInspectorSchema, p, issues);
      if (m) rejectUnsupported(TlsInspectorSchema, m, typedPath(p, TlsInspectorSchema), [], issues);
      tlsInspector = true;
    } else {
      issues.add(at(p, 'typed_config'), `the listener filter type ${type || '(empty type URL)'} is not supported by the sidecar`);
    }
  });
  const filterChains = msg.filterChains.map((c, i) => decodeFilterChain(c, item('filter_chains', i), issues));
  const defaultFilterChain = msg.defaultFilterChain ? decodeFilterChain(msg.defaultFilterChain, 'default_filter_chain', issues) : undefined;
  if (filterChains.length === 0 && !defaultFilterChain) issues.add('filter_chains', 'a listener needs a filter chain or a default_filter_chain');
  const names = new Map<string, number>();
  filterChains.forEach((c, i) => {
    if (c.name === '') return;
    const other = names.get(c.name);
    if (other !== undefined) issues.add(at(item('filter_chains', i), 'name'), `"${c.name}" is also the name of filter_chains[${other}]`);
    else names.set(c.name, i);
  });
  if (tlsInspector === false) {
    // Without the TLS inspector no connection has a server name or transport protocol to match.
    filterChains.forEach((c, i) => {
      if (c.match.serverNames.length > 0 || c.match.transportProtocol === 'tls' || c.match.applicationProtocols.length > 0) {
        issues.add(at(item('filter_chains', i), 'filter_chain_match'), 'matches on TLS properties need the tls_inspector listener filter');
      }
    });
  }
  return issues.result<ListenerConfig>({
    name: msg.name,
    bindAddress,
    port,
    direction: DIRECTION[msg.trafficDirection] ?? 'unspecified',
    originalDestination,
    tlsInspector,
    filterChains,
    defaultFilterChain,
  });
}

function decodeAddress(msg: Listener, issues: Issues): { bindAddress: string; port: number } {
  const a = msg.address?.address;
  if (!a || a.case === undefined) {
    issues.add('address', 'required: the sidecar binds listeners to a socket address');
    return { bindAddress: '', port: 0 };
  }
  if (a.case !== 'socketAddress') {
    issues.add(`address.${a.case === 'envoyInternalAddress' ? 'envoy_internal_address' : a.case}`, 'only socket_address is supported by the sidecar');
    return { bindAddress: '', port: 0 };
  }
  const s = a.value;
  rejectUnsupported(SocketAddressSchema, s, 'address.socket_address', ['protocol', 'address', 'port_value', 'ipv4_compat'], issues);
  if (s.protocol !== SocketAddress_Protocol.TCP) issues.add('address.socket_address.protocol', 'only TCP listeners are supported by the sidecar');
  if (isIP(s.address) === 0) issues.add('address.socket_address.address', `"${s.address}" is not an IP address`);
  if (s.portSpecifier.case !== 'portValue') {
    issues.add('address.socket_address.port_value', 'required');
    return { bindAddress: s.address, port: 0 };
  }
  if (s.portSpecifier.value > 65535) issues.add('address.socket_address.port_value', `${s.portSpecifier.value} is not a port`);
  return { bindAddress: s.address, port: s.portSpecifier.value };
}

function decodeFilterChain(chain: FilterChain, path: string, issues: Issues): FilterChainConfig {
  rejectUnsupported(FilterChainSchema, chain, path, ['name', 'filter_chain_match', 'filters', 'transport_socket'], issues);
  const tls = chain.transportSocket ? decodeDownstreamTls(chain.transportSocket, at(path, 'transport_socket'), issues) : undefined;
  return {
    name: chain.name,
    match: decodeChainMatch(chain, at(path, 'filter_chain_match'), issues),
    tls,
    filters: decodeNetworkFilters(chain.filters, at(path, 'filters'), issues),
  };
}

function decodeChainMatch(chain: FilterChain, path: string, issues: Issues): FilterChainMatchConfig {
  const m = chain.filterChainMatch;
  if (!m) return { destinationPort: undefined, prefixRanges: [], serverNames: [], transportProtocol: undefined, applicationProtocols: [] };
  rejectUnsupported(FilterChainMatchSchema, m, path, ['destination_port', 'prefix_ranges', 'server_names', 'transport_protocol', 'application_protocols'], issues);
  if (m.destinationPort !== undefined && (m.destinationPort < 1 || m.destinationPort > 65535)) issues.add(at(path, 'destination_port'), `${m.destinationPort} is not a port`);
  const prefixRanges: CidrConfig[] = [];
  m.prefixRanges.forEach((r, i) => {
    const p = item(at(path, 'prefix_ranges'), i);
    const family = isIP(r.addressPrefix);
    if (family !== 4 && family !== 6) {
      issues.add(at(p, 'address_prefix'), `"${r.addressPrefix}" is not an IP address`);
      return;
    }
    const bits = r.prefixLen ?? 0;
    if (bits > (family === 4 ? 32 : 128)) {
      issues.add(at(p, 'prefix_len'), `${bits} is longer than an IPv${family} address`);
      return;
    }
    prefixRanges.push({ address: r.addressPrefix, family, bits });
  });
  if (m.transportProtocol !== '' && m.transportProtocol !== 'tls' && m.transportProtocol !== 'raw_buffer') {
    issues.add(at(path, 'transport_protocol'), `"${m.transportProtocol}" is not a transport protocol the sidecar detects (tls or raw_buffer)`);
  }
  return {
    destinationPort: m.destinationPort,
    prefixRanges,
    serverNames: m.serverNames.map((s) => s.toLowerCase()),
    transportProtocol: m.transportProtocol === '' ? undefined : m.transportProtocol,
    applicationProtocols: [...m.applicationProtocols],
  };
}
