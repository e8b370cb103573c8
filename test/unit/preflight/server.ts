/**
 * A real local HTTP server for the probe tests: routes by path, records every request's
 * headers, and can serve files with or without Range support.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface TestServer {
  port: number;
  /** `http://127.0.0.1:<port><path>` (or another host name that the test resolves itself). */
  url(path: string, host?: string): string;
  /** Headers of every request, by path, in arrival order. */
  seen: { path: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 with an ephemeral port. Unknown paths answer 404. */
export async function startServer(routes: Record<string, Route>): Promise<TestServer> {
  const seen: TestServer['seen'] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.push({ path, headers: req.headers });
    const route = routes[path];
    if (route) route(req, res);
    else res.writeHead(404).end('not here');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    seen,
    url: (path, host = '127.0.0.1') => `http://${host}:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging routes (slow, endless) keep sockets open; end them so close() returns.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves bytes; with `range` (default) a `Range: bytes=a-b` gets a 206, as nginx/Apache do. */
export function file(data: Uint8Array, opts: { range?: boolean } = {}): Route {
  return (req, res) => {
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (opts.range !== false && m) {
      const start = Number(m[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
        return;
      }
      const end = Math.min(m[2] ? Number(m[2]) : data.length - 1, data.length - 1);
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${data.length}`, 'content-length': end - start + 1 });
      res.end(data.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { 'content-length': data.length }).end(data);
  };
}

/** Answers a bare status. */
export const status =
  (code: number, headers: http.OutgoingHttpHeaders = {}): Route =>
  (_req, res) =>
    void res.writeHead(code, headers).end();

/** Redirects (302 unless told) to `location`. */
export const redirect =
  (location: string, code = 302): Route =>
  (_req, res) =>
    void res.writeHead(code, { location }).end();

/** Never answers: the request hangs until the client gives up. */
export const hang: Route = () => {};

/** A 200 whose body never ends: only a client that stops reading gets out. */
export const endless: Route = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const chunk = Buffer.alloc(16 * 1024, 0x41);
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
};

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
