/**
 * The admin HTTP server on loopback (127.0.0.1:15000 in a pod): Envoy's admin paths for
 * readiness, stats, config dump, clusters, listeners, certificates and log levels. It is not
 * the data path, so it uses node:http. Admin reads config and can stop the sidecar, so it
 * binds only to a loopback address; endpoints that change the server accept only POST.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { endpoints, helpText, type AdminResponse, type AdminSource, type Endpoint } from './endpoints.js';

export interface AdminServerOptions {
  /** A loopback address: 127.0.0.0/8, ::1 or localhost. */
  readonly address: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly source: AdminSource;
  /** What `/server_info` reports as the version. */
  readonly version?: string;
  /** Wall clock in ms, for uptime and certificate expiry; injected by tests. */
  readonly nowMs?: () => number;
}

export interface AdminServer {
  readonly address: string;
  /** The bound port (the chosen one when asked for 0). */
  readonly port: number;
  /** Stops listening and closes open connections; idempotent. */
  close(): Promise<void>;
}

export type AdminErrorCode = 'not-loopback' | 'listen-failed';

/** A failure to start the admin server; `code` is stable, the message names the address. */
export class AdminError extends Error {
  readonly code: AdminErrorCode;
  constructor(code: AdminErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AdminError';
    this.code = code;
  }
}

/** Whether `address` is loopback-only: the admin interface must not be reachable from the pod network. */
export function isLoopbackAddress(address: string): boolean {
  const host = address.toLowerCase();
  if (host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return /^::ffff:127\.\d+\.\d+\.\d+$/.test(host);
}

const CONTENT_TYPES: Record<AdminResponse['contentType'], string> = {
  text: 'text/plain; charset=UTF-8',
  json: 'application/json',
  prometheus: 'text/plain; version=0.0.4; charset=UTF-8',
};

function send(res: ServerResponse, response: AdminResponse, head: boolean): void {
  res.writeHead(response.status, {
    'content-type': CONTENT_TYPES[response.contentType],
    'content-length': Buffer.byteLength(response.body),
    // As Envoy's admin: never cached, never sniffed as HTML.
    'cache-control': 'no-cache, max-age=0',
    'x-content-type-options': 'nosniff',
  });
  res.end(head ? undefined : response.body, response.after);
}

function route(table: ReadonlyMap<string, Endpoint>, all: readonly Endpoint[], req: IncomingMessage): AdminResponse {
  const url = new URL(req.url ?? '/', 'http://admin');
  const endpoint = table.get(url.pathname);
  if (!endpoint) return { status: 404, contentType: 'text', body: `invalid path. ${helpText(all)}` };
  const method = req.method ?? 'GET';
  const changes = endpoint.mutates === 'always' || (endpoint.mutates === 'withParams' && [...url.searchParams.keys()].length > 0);
  if (changes && method !== 'POST') return { status: 405, contentType: 'text', body: `Method ${method} not allowed, POST required.\n` };
  return endpoint.handle({ method, params: url.searchParams });
}

/** Starts the admin server; rejects with an AdminError for a non-loopback address or a failed bind. */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  if (!isLoopbackAddress(options.address)) {
    throw new AdminError('not-loopback', `admin address ${options.address}: must be a loopback address (127.0.0.0/8, ::1 or localhost); the admin interface is localhost-only`);
  }
  const nowMs = options.nowMs ?? Date.now;
  const all = endpoints({ source: options.source, version: options.version ?? 'osm-ts', nowMs, startedAtMs: nowMs() });
  const table = new Map(all.map((e) => [e.path, e]));
  const log = options.source.logger.child({ component: 'admin' });
  const server = createServer((req, res) => {
    // Admin requests carry no body worth reading; drain it so the connection can be reused.
    req.resume();
    let response: AdminResponse;
    try {
      response = route(table, all, req);
    } catch (error) {
      log.error({ event: 'admin.handler_failed', path: req.url, error }, 'admin handler failed');
      response = { status: 500, contentType: 'text', body: `${error instanceof Error ? error.message : String(error)}\n` };
    }
    send(res, response, req.method === 'HEAD');
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(new AdminError('listen-failed', `admin address ${options.address}:${options.port}: ${error.message}`, { cause: error }));
    server.once('error', onError);
    server.listen(options.port, options.address, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : options.port;
  let closing: Promise<void> | undefined;
  return {
    address: options.address,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
