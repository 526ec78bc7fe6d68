/**
 * The echo service the gRPC integration tests call, defined by hand (no .proto): raw bytes in,
 * the serving workload's id out. `Other` exists so RBAC can allow one method and refuse another.
 */
import type { MethodDefinition, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';

export const ECHO_METHOD = '/test.Echo/Echo';
export const OTHER_METHOD = '/test.Echo/Other';

const bytes = (b: Buffer): Buffer => b;

function method(path: string): MethodDefinition<Buffer, Buffer> {
  return { path, requestStream: false, responseStream: false, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes };
}

export const echoService: ServiceDefinition = { Echo: method(ECHO_METHOD), Other: method(OTHER_METHOD) };

/** Handlers that answer every call with `id`. */
export function echoHandlers(id: string): UntypedServiceImplementation {
  const reply = (_call: unknown, callback: (error: null, value: Buffer) => void) => callback(null, Buffer.from(id));
  return { Echo: reply, Other: reply };
}
