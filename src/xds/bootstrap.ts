/**
 * Bootstrap documents a proxy starts from: where the controller is, who the proxy is, and the
 * certificate files it connects with. One for our sidecar (`osm`), one for Envoy (a v3
 * Bootstrap), and one for proxyless gRPC (grpc-js-xds's bootstrap JSON, xds.md 1.3).
 */
import { GRPC_CERTIFICATE_INSTANCE, GRPC_SERVER_LISTENER_TEMPLATE } from './grpc.js';
import { duration, socketAddress, typedConfig } from './common.js';
import {
  ApiConfigSource_ApiType,
  ApiVersion,
  BootstrapSchema,
  Cluster_DiscoveryType,
  create,
  encodeJson,
  HttpProtocolOptionsSchema,
  packAny,
  UpstreamTlsContextSchema,
  type JsonValue,
} from './proto.js';

/** The cluster Envoy reaches the controller through, as OSM names it. */
export const CONTROLLER_CLUSTER = 'osm-controller';

export interface BootstrapInput {
  /** `<uuid>.sidecar.<sa>.<ns>.<trust-domain>`: the client certificate's CN, also the node id. */
  nodeId: string;
  namespace: string;
  serviceAccount: string;
  trustDomain: string;
  /** `host:port` of the controller's ADS listener (mTLS; for gRPC, the plaintext one). */
  adsAddress: string;
  files: { certificate: string; privateKey: string; ca: string };
  adminPort: number;
  /** Who the workload is (pod, owner kind and name), for OSM's request metrics. */
  workload?: { pod: string; kind: string; name: string };
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

/** The bootstrap our own sidecar (`osm proxy --bootstrap FILE`) reads. */
export function osmBootstrap(b: BootstrapInput): JsonValue {
  return {
    node: { id: b.nodeId, cluster: `${b.serviceAccount}.${b.namespace}`, metadata: { namespace: b.namespace, serviceAccount: b.serviceAccount, ...(b.workload ? { podName: b.workload.pod, workloadKind: b.workload.kind, workloadName: b.workload.name } : {}) } },
    ads: { address: b.adsAddress, serverName: `ads.${b.trustDomain}`, certificateFile: b.files.certificate, privateKeyFile: b.files.privateKey, caFile: b.files.ca },
    admin: { address: '127.0.0.1', port: b.adminPort },
  };
}

/** An Envoy v3 bootstrap: ADS over mTLS to the controller, admin on loopback. */
export function envoyBootstrap(b: BootstrapInput): JsonValue {
  const { host, port } = splitAddress(b.adsAddress);
  const isIp = /^[0-9.]+$|:/.test(host);
  const tls = create(UpstreamTlsContextSchema, {
    commonTlsContext: {
      tlsCertificates: [{ certificateChain: { specifier: { case: 'filename', value: b.files.certificate } }, privateKey: { specifier: { case: 'filename', value: b.files.privateKey } } }],
      validationContextType: { case: 'validationContext', value: { trustedCa: { specifier: { case: 'filename', value: b.files.ca } } } },
    },
    sni: `ads.${b.trustDomain}`,
  });
  const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} }, resourceApiVersion: ApiVersion.V3 };
  const bootstrap = create(BootstrapSchema, {
    node: { id: b.nodeId, cluster: `${b.serviceAccount}.${b.namespace}` },
    admin: { address: socketAddress('127.0.0.1', b.adminPort) },
    dynamicResources: {
      adsConfig: {
        apiType: ApiConfigSource_ApiType.GRPC,
        transportApiVersion: ApiVersion.V3,
        setNodeOnFirstMessageOnly: true,
        grpcServices: [{ targetSpecifier: { case: 'envoyGrpc', value: { clusterName: CONTROLLER_CLUSTER } } }],
      },
      cdsConfig: ads,
      ldsConfig: ads,
    },
    staticResources: {
      clusters: [
        {
          name: CONTROLLER_CLUSTER,
          clusterDiscoveryType: { case: 'type', value: isIp ? Cluster_DiscoveryType.STATIC : Cluster_DiscoveryType.STRICT_DNS },
          connectTimeout: duration(1000),
          loadAssignment: { clusterName: CONTROLLER_CLUSTER, endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: socketAddress(host, port) } } }] }] },
          typedExtensionProtocolOptions: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': packAny(
              HttpProtocolOptionsSchema,
              create(HttpProtocolOptionsSchema, { upstreamProtocolOptions: { case: 'explicitHttpConfig', value: { protocolConfig: { case: 'http2ProtocolOptions', value: {} } } } }),
            ),
          },
          transportSocket: typedConfig('envoy.transport_sockets.tls', UpstreamTlsContextSchema, tls),
        },
      ],
    },
  });
  return encodeJson(BootstrapSchema, bootstrap);
}

/**
 * grpc-js-xds's bootstrap: plaintext ADS (grpc-js-xds cannot use TLS to the control plane) and a
 * `mesh` file_watcher certificate provider holding the workload certificate for data-plane mTLS.
 */
export function grpcBootstrap(b: BootstrapInput): JsonValue {
  return {
    xds_servers: [{ server_uri: b.adsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: b.nodeId, cluster: `${b.serviceAccount}.${b.namespace}`, locality: {}, metadata: { namespace: b.namespace, serviceAccount: b.serviceAccount, ...(b.workload ? { podName: b.workload.pod, workloadKind: b.workload.kind, workloadName: b.workload.name } : {}) } },
    certificate_providers: {
      [GRPC_CERTIFICATE_INSTANCE]: {
        plugin_name: 'file_watcher',
        config: { certificate_file: b.files.certificate, private_key_file: b.files.privateKey, ca_certificate_file: b.files.ca, refresh_interval: '60s' },
      },
    },
    server_listener_resource_name_template: GRPC_SERVER_LISTENER_TEMPLATE,
  };
}
