/**
 * The gRPC service definition of `envoy.service.discovery.v3.AggregatedDiscoveryService`,
 * written by hand over the protobuf-es schemas (no proto-loader), so the server and test
 * clients share one (de)serialisation: `encode` (deterministic) out, `decode` in.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import {
  AggregatedDiscoveryService,
  decode,
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  encode,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DescMessage,
  type DiscoveryRequest,
  type DiscoveryResponse,
  type MessageShape,
} from '../xds/proto.js';

function serializer<Desc extends DescMessage>(schema: Desc): (message: MessageShape<Desc>) => Buffer {
  // A Buffer view over the encoded bytes: grpc-js wants a Buffer, and copying buys nothing.
  return (message) => {
    const bytes = encode(schema, message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer<Desc extends DescMessage>(schema: Desc): (bytes: Buffer) => MessageShape<Desc> {
  return (bytes) => decode(schema, bytes);
}

const methods = AggregatedDiscoveryService.method;

function pathOf(method: { name: string }): string {
  return `/${AggregatedDiscoveryService.typeName}/${method.name}`;
}

/** The state-of-the-world ADS method: a bidirectional stream of DiscoveryRequest/DiscoveryResponse. */
export const streamAggregatedResourcesMethod: MethodDefinition<DiscoveryRequest, DiscoveryResponse> = {
  path: pathOf(methods.streamAggregatedResources),
  requestStream: true,
  responseStream: true,
  requestSerialize: serializer(DiscoveryRequestSchema),
  requestDeserialize: deserializer(DiscoveryRequestSchema),
  responseSerialize: serializer(DiscoveryResponseSchema),
  responseDeserialize: deserializer(DiscoveryResponseSchema),
  originalName: 'streamAggregatedResources',
};

/** The incremental ADS method: a bidirectional stream of DeltaDiscoveryRequest/DeltaDiscoveryResponse. */
export const deltaAggregatedResourcesMethod: MethodDefinition<DeltaDiscoveryRequest, DeltaDiscoveryResponse> = {
  path: pathOf(methods.deltaAggregatedResources),
  requestStream: true,
  responseStream: true,
  requestSerialize: serializer(DeltaDiscoveryRequestSchema),
  requestDeserialize: deserializer(DeltaDiscoveryRequestSchema),
  responseSerialize: serializer(DeltaDiscoveryResponseSchema),
  responseDeserialize: deserializer(DeltaDiscoveryResponseSchema),
  originalName: 'deltaAggregatedResources',
};

/** Both ADS methods, keyed by their proto names, for `Server.addService` and `makeGenericClientConstructor`. */
export const aggregatedDiscoveryServiceDefinition = {
  StreamAggregatedResources: streamAggregatedResourcesMethod,
  DeltaAggregatedResources: deltaAggregatedResourcesMethod,
} satisfies ServiceDefinition;
