/**
 * The Envoy v3 message types and schemas osm-ts uses, re-exported from the code that
 * scripts/gen-protos.js generates into src/gen/ at build time. Import them through
 * `xds/proto.ts`, never from src/gen/ directly, so the generated layout can change in one place.
 *
 * Each `XSchema` is a protobuf-es message descriptor: pass it to `create`, `encode`, `decode`,
 * `packAny`. Names follow the protos; where two protos use one name, the exported alias says
 * which (`HttpRbac` is the HTTP filter's RBAC, `RBAC` the shared policy set it wraps).
 * Wrapper fields (google.protobuf.UInt32Value and friends) appear as plain optional numbers,
 * bools and strings; 64-bit integers are bigints; Duration is `{ seconds: bigint, nanos }`.
 */

// Well-known types and their helpers.
export {
  type Any,
  AnySchema,
  type Duration,
  DurationSchema,
  durationFromMs,
  durationMs,
  type Struct,
  StructSchema,
  type Value,
  ValueSchema,
} from '@bufbuild/protobuf/wkt';

// Listeners (LDS).
export {
  type Listener,
  ListenerSchema,
  Listener_DrainType,
} from '../gen/envoy/config/listener/v3/listener_pb.js';
export {
  type Filter,
  FilterSchema,
  type FilterChain,
  FilterChainSchema,
  type FilterChainMatch,
  FilterChainMatchSchema,
  FilterChainMatch_ConnectionSourceType,
  type ListenerFilter,
  ListenerFilterSchema,
} from '../gen/envoy/config/listener/v3/listener_components_pb.js';

// Routes (RDS).
export {
  type RouteConfiguration,
  RouteConfigurationSchema,
} from '../gen/envoy/config/route/v3/route_pb.js';
export {
  type VirtualHost,
  VirtualHostSchema,
  type Route,
  RouteSchema,
  type RouteMatch,
  RouteMatchSchema,
  type RouteAction,
  RouteActionSchema,
  type WeightedCluster,
  WeightedClusterSchema,
  type WeightedCluster_ClusterWeight,
  WeightedCluster_ClusterWeightSchema,
  type HeaderMatcher,
  HeaderMatcherSchema,
  type RetryPolicy,
  RetryPolicySchema,
  type DirectResponseAction,
  DirectResponseActionSchema,
} from '../gen/envoy/config/route/v3/route_components_pb.js';

// Clusters (CDS) and endpoints (EDS).
export {
  type Cluster,
  ClusterSchema,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  type Cluster_EdsClusterConfig,
  Cluster_EdsClusterConfigSchema,
  type Cluster_OriginalDstLbConfig,
  Cluster_OriginalDstLbConfigSchema,
  type LoadBalancingPolicy,
  LoadBalancingPolicySchema,
  type LoadBalancingPolicy_Policy,
  LoadBalancingPolicy_PolicySchema,
} from '../gen/envoy/config/cluster/v3/cluster_pb.js';
export {
  type CircuitBreakers,
  CircuitBreakersSchema,
  type CircuitBreakers_Thresholds,
  CircuitBreakers_ThresholdsSchema,
} from '../gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
export {
  type OutlierDetection,
  OutlierDetectionSchema,
} from '../gen/envoy/config/cluster/v3/outlier_detection_pb.js';
export {
  type ClusterLoadAssignment,
  ClusterLoadAssignmentSchema,
} from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
export {
  type Endpoint,
  EndpointSchema,
  type LbEndpoint,
  LbEndpointSchema,
  type LocalityLbEndpoints,
  LocalityLbEndpointsSchema,
} from '../gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
export {
  type ClusterConfig as AggregateClusterConfig,
  ClusterConfigSchema as AggregateClusterConfigSchema,
} from '../gen/envoy/extensions/clusters/aggregate/v3/cluster_pb.js';
export {
  type RoundRobin,
  RoundRobinSchema,
} from '../gen/envoy/extensions/load_balancing_policies/round_robin/v3/round_robin_pb.js';
export {
  type LeastRequest,
  LeastRequestSchema,
} from '../gen/envoy/extensions/load_balancing_policies/least_request/v3/least_request_pb.js';
export {
  type HttpProtocolOptions,
  HttpProtocolOptionsSchema,
} from '../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';

// Secrets (SDS) and TLS.
export {
  type Secret,
  SecretSchema,
  type SdsSecretConfig,
  SdsSecretConfigSchema,
} from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
export {
  type UpstreamTlsContext,
  UpstreamTlsContextSchema,
  type DownstreamTlsContext,
  DownstreamTlsContextSchema,
  type CommonTlsContext,
  CommonTlsContextSchema,
  type CommonTlsContext_CombinedCertificateValidationContext,
  CommonTlsContext_CombinedCertificateValidationContextSchema,
} from '../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
export {
  type TlsCertificate,
  TlsCertificateSchema,
  type TlsParameters,
  TlsParametersSchema,
  TlsParameters_TlsProtocol,
  type CertificateValidationContext,
  CertificateValidationContextSchema,
  type SubjectAltNameMatcher,
  SubjectAltNameMatcherSchema,
  SubjectAltNameMatcher_SanType,
} from '../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';

// Network filters.
export {
  type HttpConnectionManager,
  HttpConnectionManagerSchema,
  HttpConnectionManager_CodecType,
  type HttpConnectionManager_Tracing,
  HttpConnectionManager_TracingSchema,
  type HttpConnectionManager_UpgradeConfig,
  HttpConnectionManager_UpgradeConfigSchema,
  type HttpFilter,
  HttpFilterSchema,
  type Rds,
  RdsSchema,
} from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
export {
  type TcpProxy,
  TcpProxySchema,
  type TcpProxy_WeightedCluster,
  TcpProxy_WeightedClusterSchema,
} from '../gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
export {
  type RBAC as NetworkRbac,
  RBACSchema as NetworkRbacSchema,
} from '../gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
export {
  type LocalRateLimit as NetworkLocalRateLimit,
  LocalRateLimitSchema as NetworkLocalRateLimitSchema,
} from '../gen/envoy/extensions/filters/network/local_ratelimit/v3/local_rate_limit_pb.js';

// HTTP filters.
export {
  type Router,
  RouterSchema,
} from '../gen/envoy/extensions/filters/http/router/v3/router_pb.js';
export {
  type RBAC as HttpRbac,
  RBACSchema as HttpRbacSchema,
  type RBACPerRoute as HttpRbacPerRoute,
  RBACPerRouteSchema as HttpRbacPerRouteSchema,
} from '../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
export {
  type LocalRateLimit as HttpLocalRateLimit,
  LocalRateLimitSchema as HttpLocalRateLimitSchema,
} from '../gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
export {
  type HealthCheck as HealthCheckFilter,
  HealthCheckSchema as HealthCheckFilterSchema,
} from '../gen/envoy/extensions/filters/http/health_check/v3/health_check_pb.js';

// The RBAC policy set both RBAC filters carry.
export {
  type RBAC,
  RBACSchema,
  RBAC_Action,
  type Policy,
  PolicySchema,
  type Permission,
  PermissionSchema,
  type Permission_Set,
  Permission_SetSchema,
  type Principal,
  PrincipalSchema,
  type Principal_Set,
  Principal_SetSchema,
  type Principal_Authenticated,
  Principal_AuthenticatedSchema,
} from '../gen/envoy/config/rbac/v3/rbac_pb.js';

// Listener filters.
export {
  type OriginalDst,
  OriginalDstSchema,
} from '../gen/envoy/extensions/filters/listener/original_dst/v3/original_dst_pb.js';
export {
  type TlsInspector,
  TlsInspectorSchema,
} from '../gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
export {
  type HttpInspector,
  HttpInspectorSchema,
} from '../gen/envoy/extensions/filters/listener/http_inspector/v3/http_inspector_pb.js';

// Observability: tracing and access logs.
export {
  type ZipkinConfig,
  ZipkinConfigSchema,
  ZipkinConfig_CollectorEndpointVersion,
} from '../gen/envoy/config/trace/v3/zipkin_pb.js';
export {
  type AccessLog,
  AccessLogSchema,
} from '../gen/envoy/config/accesslog/v3/accesslog_pb.js';
export {
  type FileAccessLog,
  FileAccessLogSchema,
} from '../gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
export {
  type StdoutAccessLog,
  StdoutAccessLogSchema,
} from '../gen/envoy/extensions/access_loggers/stream/v3/stream_pb.js';

// Core building blocks.
export {
  type Address,
  AddressSchema,
  type SocketAddress,
  SocketAddressSchema,
  SocketAddress_Protocol,
  type CidrRange,
  CidrRangeSchema,
} from '../gen/envoy/config/core/v3/address_pb.js';
export {
  type Node,
  NodeSchema,
  type Locality,
  LocalitySchema,
  type Metadata,
  MetadataSchema,
  type HeaderValue,
  HeaderValueSchema,
  type HeaderValueOption,
  HeaderValueOptionSchema,
  type TransportSocket,
  TransportSocketSchema,
  type DataSource,
  DataSourceSchema,
  type RuntimeFractionalPercent,
  RuntimeFractionalPercentSchema,
  TrafficDirection,
} from '../gen/envoy/config/core/v3/base_pb.js';
export {
  type ConfigSource,
  ConfigSourceSchema,
  type AggregatedConfigSource,
  AggregatedConfigSourceSchema,
  type ApiConfigSource,
  ApiConfigSourceSchema,
  ApiConfigSource_ApiType,
  ApiVersion,
} from '../gen/envoy/config/core/v3/config_source_pb.js';
export {
  type HealthCheck,
  HealthCheckSchema,
  HealthStatus,
} from '../gen/envoy/config/core/v3/health_check_pb.js';
export {
  type HttpProtocolOptions as CommonHttpProtocolOptions,
  HttpProtocolOptionsSchema as CommonHttpProtocolOptionsSchema,
  type Http2ProtocolOptions,
  Http2ProtocolOptionsSchema,
} from '../gen/envoy/config/core/v3/protocol_pb.js';
export {
  type TypedExtensionConfig,
  TypedExtensionConfigSchema,
} from '../gen/envoy/config/core/v3/extension_pb.js';
export {
  type GrpcService,
  GrpcServiceSchema,
} from '../gen/envoy/config/core/v3/grpc_service_pb.js';
export {
  type StringMatcher,
  StringMatcherSchema,
} from '../gen/envoy/type/matcher/v3/string_pb.js';
export {
  type TokenBucket,
  TokenBucketSchema,
} from '../gen/envoy/type/v3/token_bucket_pb.js';
export {
  type Percent,
  PercentSchema,
  type FractionalPercent,
  FractionalPercentSchema,
  FractionalPercent_DenominatorType,
} from '../gen/envoy/type/v3/percent_pb.js';

// Discovery transport (ADS, state of the world and delta), bootstrap and status.
export {
  AggregatedDiscoveryService,
} from '../gen/envoy/service/discovery/v3/ads_pb.js';
export {
  type DiscoveryRequest,
  DiscoveryRequestSchema,
  type DiscoveryResponse,
  DiscoveryResponseSchema,
  type DeltaDiscoveryRequest,
  DeltaDiscoveryRequestSchema,
  type DeltaDiscoveryResponse,
  DeltaDiscoveryResponseSchema,
  type Resource,
  ResourceSchema,
} from '../gen/envoy/service/discovery/v3/discovery_pb.js';
export {
  type Bootstrap,
  BootstrapSchema,
  type Bootstrap_StaticResources,
  Bootstrap_StaticResourcesSchema,
  type Bootstrap_DynamicResources,
  Bootstrap_DynamicResourcesSchema,
  type Admin,
  AdminSchema,
} from '../gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
export {
  ClientStatusDiscoveryService,
  type ClientStatusRequest,
  ClientStatusRequestSchema,
  type ClientStatusResponse,
  ClientStatusResponseSchema,
  type ClientConfig,
  ClientConfigSchema,
  type ClientConfig_GenericXdsConfig,
  ClientConfig_GenericXdsConfigSchema,
  ClientConfigStatus,
  ConfigStatus,
} from '../gen/envoy/service/status/v3/csds_pb.js';
export { type Status as GrpcStatus, StatusSchema as GrpcStatusSchema } from '../gen/google/rpc/status_pb.js';
