/**
 * Child process of grpc-xds.test.ts: an xDS-enabled gRPC server (grpc-js-xds `XdsServer`) whose
 * Listener, TLS and RBAC come only from the control plane named in GRPC_XDS_BOOTSTRAP (RBAC
 * needs GRPC_XDS_EXPERIMENTAL_RBAC=true, which the test sets).
 *
 * argv[2] is `{address: 'IP:PORT', id}`. Prints `{event: 'serving'}` once grpc-js-xds serves
 * (which it does only after its Listener arrived and was accepted) and `{event: 'state', ...}`
 * on serving-state changes; stops when stdin closes.
 */
import { ServerCredentials } from '@grpc/grpc-js';
import { register, XdsServer, XdsServerCredentials } from '@grpc/grpc-js-xds';
import { echoHandlers, echoService } from './echo.js';

const { address, id } = JSON.parse(process.argv[2] ?? '{}') as { address: string; id: string };
const emit = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);

register();
const server = new XdsServer();
server.addService(echoService, echoHandlers(id));
server.addServingStateListener(address, (s) => emit({ event: 'state', code: s.code, details: s.details }));
server.bindAsync(address, new XdsServerCredentials(ServerCredentials.createInsecure()), (error, port) => {
  if (error) {
    emit({ event: 'error', message: error.message });
    process.exit(1);
  }
  emit({ event: 'serving', port });
});
process.stdin.resume();
process.stdin.on('end', () => {
  server.forceShutdown();
  process.exit(0);
});
