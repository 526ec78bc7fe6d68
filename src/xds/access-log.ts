/**
 * Access logs: one JSON line per request or connection on the proxy's stdout, with OSM's
 * fields (reference/osm.md 5.15) so existing log pipelines keep working.
 */
import { typedConfig } from './common.js';
import { AccessLogSchema, create, StdoutAccessLogSchema, type AccessLog } from './proto.js';

/** OSM's access-log fields and the Envoy command operators that fill them. */
export const ACCESS_LOG_FIELDS: Readonly<Record<string, string>> = {
  authority: '%REQ(:AUTHORITY)%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  request_id: '%REQ(X-REQUEST-ID)%',
  requested_server_name: '%REQUESTED_SERVER_NAME%',
  response_code: '%RESPONSE_CODE%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  response_flags: '%RESPONSE_FLAGS%',
  start_time: '%START_TIME%',
  time_to_first_byte: '%RESPONSE_DURATION%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  user_agent: '%REQ(USER-AGENT)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
};

/** The access-log list every HTTP connection manager and TCP proxy carries. */
export function accessLogs(): AccessLog[] {
  const stdout = create(StdoutAccessLogSchema, {
    accessLogFormat: { case: 'logFormat', value: { format: { case: 'jsonFormat', value: { ...ACCESS_LOG_FIELDS } } } },
  });
  return [create(AccessLogSchema, typedConfig('envoy.access_loggers.stdout', StdoutAccessLogSchema, stdout))];
}
