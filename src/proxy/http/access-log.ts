/**
 * OSM's JSON access-log line for one request (`xds/access-log.ts` names the Envoy command
 * operators). As Envoy's JSON formatter does for a format string that is a single operator,
 * numbers stay numbers and a value Envoy cannot produce is `null`; `%RESPONSE_FLAGS%` prints
 * `-` when no flag is set.
 */
import type { AccessLogEntry } from '../listeners/types.js';
import { responseFlagsText } from './local-reply.js';

/** The facts of a finished request the log line is made from; times in ms. */
export interface AccessLogFacts {
  readonly startWallMs: number;
  readonly method: string;
  /** `x-envoy-original-path` when the request carried one, else the path as received. */
  readonly path: string;
  readonly protocol: string;
  /** 0 when no response was sent (the client went away first). */
  readonly responseCode: number;
  readonly responseCodeDetails: string;
  /** From the start to the first byte of the upstream response; undefined for local replies. */
  readonly timeToFirstByteMs: number | undefined;
  readonly upstreamCluster: string | undefined;
  readonly responseFlags: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly durationMs: number;
  readonly upstreamServiceTime: string | undefined;
  readonly forwardedFor: string | undefined;
  readonly userAgent: string | undefined;
  readonly requestId: string | undefined;
  readonly requestedServerName: string | undefined;
  readonly authority: string;
  readonly upstreamHost: string | undefined;
}

/** The access-log entry with OSM's field names. */
export function accessLogEntry(f: AccessLogFacts): AccessLogEntry {
  return {
    start_time: new Date(f.startWallMs).toISOString(),
    method: f.method === '' ? null : f.method,
    path: f.path === '' ? null : f.path,
    protocol: f.protocol,
    response_code: f.responseCode,
    response_code_details: f.responseCodeDetails === '' ? null : f.responseCodeDetails,
    time_to_first_byte: f.timeToFirstByteMs === undefined ? null : Math.floor(f.timeToFirstByteMs),
    upstream_cluster: f.upstreamCluster ?? null,
    response_flags: responseFlagsText(f.responseFlags),
    bytes_received: f.bytesReceived,
    bytes_sent: f.bytesSent,
    duration: Math.floor(f.durationMs),
    upstream_service_time: f.upstreamServiceTime ?? null,
    x_forwarded_for: f.forwardedFor ?? null,
    user_agent: f.userAgent ?? null,
    request_id: f.requestId ?? null,
    requested_server_name: f.requestedServerName || null,
    authority: f.authority === '' ? null : f.authority,
    upstream_host: f.upstreamHost ?? null,
  };
}
