/**
 * The apps behind the sidecars in the loopback mesh tests: an HTTP server that says which pod
 * answered (and answers /status/N with N, /slow after a delay), a server-first TCP service
 * that greets then echoes, and a client that talks to an explicit outbound listener with the
 * Host header a mesh app would send.
 */
import { once } from 'node:events';
import { Agent, createServer as createHttpServer, request, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer } from 'node:net';

export interface AppServer {
  readonly requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

export async function startHttpApp(host: string, port: number, pod: string): Promise<AppServer> {
  const requests: AppServer['requests'] = [];
  const server: HttpServer = createHttpServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = /^\/status\/(\d{3})/.exec(req.url ?? '');
      const send = () => {
        res.writeHead(status ? Number(status[1]) : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ pod, path: req.url, body: Buffer.concat(chunks).toString() }));
      };
      if (req.url?.startsWith('/slow')) setTimeout(send, 300);
      else send();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, host);
  await once(server, 'listening');
  return {
    requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A server-first TCP service: greets with `hello from <pod>\n`, then echoes. */
export async function startTcpApp(host: string, port: number, pod: string): Promise<{ close(): Promise<void> }> {
  const server: TcpServer = createTcpServer((s) => {
    s.write(`hello from ${pod}\n`);
    s.pipe(s);
    s.on('error', () => undefined);
  });
  server.listen(port, host);
  await once(server, 'listening');
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One request to an explicit outbound listener, as the app would send it to `authority`. */
export function httpVia(entry: { host: string; port: number }, authority: string, path: string, options: { method?: string; body?: string; headers?: Record<string, string>; agent?: Agent | false } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: entry.host, port: entry.port, path, method: options.method ?? 'GET', headers: { host: authority, ...options.headers }, agent: options.agent ?? agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Connects, sends `send`, and collects what arrives until the peer closes or, with `expect`,
 * until exactly that has arrived; a deadline turns a hang into a clear failure.
 */
export function tcpExchange(host: string, port: number, send: string, expect?: string, deadlineMs = 5000): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`tcp ${host}:${port}: after ${deadlineMs} ms still open, received ${JSON.stringify(received)}`));
    }, deadlineMs);
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received, closed });
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(send));
    socket.on('data', (d: string) => {
      received += d;
      if (expect !== undefined && received === expect) done(false);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => done(true));
  });
}
