/**
 * The controller's HTTP servers, as OSM's: 9091 for health, metrics and versions, 9092 for
 * debugging. Each route is a function returning a body, so the servers hold no logic.
 */
import { createServer, type Server } from 'node:http';

export interface HttpRoute {
  /** JSON (an object) or Prometheus text (a string). */
  handle(url: URL): { status: number; body: unknown } | Promise<{ status: number; body: unknown }>;
}

/** Starts an HTTP server on `host:port` (port 0 picks one); resolves with the bound port. */
export async function startHttpServer(host: string, port: number, routes: Readonly<Record<string, HttpRoute>>): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://controller');
    const route = routes[url.pathname];
    const reply = (status: number, body: unknown) => {
      const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json' });
      res.end(text);
    };
    if (req.method !== 'GET' || !route) {
      reply(404, { error: `no ${req.method} ${url.pathname}; try ${Object.keys(routes).sort().join(', ')}` });
      return;
    }
    Promise.resolve(route.handle(url)).then(
      (r) => reply(r.status, r.body),
      (err: unknown) => reply(500, { error: err instanceof Error ? err.message : String(err) }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  let closed: Promise<void> | undefined;
  return {
    server,
    port: bound,
    close: () => (closed ??= new Promise<void>((resolve) => server.close(() => resolve()))),
  };
}
