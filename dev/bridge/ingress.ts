/**
 * The local Broker ingress: what functions POST follow-up events to (their K_SINK).
 * Paths are the MT broker's `/<namespace>/<broker>`; `/` means the default Broker.
 * 202 on acceptance, 400 for anything that is not a CloudEvent, 404 for an unknown Broker,
 * 405 for other methods, 413 past 10 MiB, 503 while stopping.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventFromHttp, InvalidEventError } from './cloudevent.js';
import type { LocalBroker } from './broker.js';

const MAX_BODY = 10 * 1024 * 1024;

export interface Ingress {
  /** Base URL, e.g. `http://127.0.0.1:8090`. */
  origin: string;
  close(): Promise<void>;
}

export async function startIngress(
  broker: LocalBroker,
  defaultBroker: string,
  port: number,
  log: (line: string) => void,
): Promise<Ingress> {
  const server = http.createServer((req, res) => {
    const answer = (status: number, message?: string) => {
      res.statusCode = status;
      if (message) res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(message ? `${message}\n` : undefined);
    };
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return answer(405, 'POST CloudEvents here');
    }
    const path = new URL(req.url ?? '/', 'http://ingress').pathname.replace(/\/+$/, '');
    const target = path === '' ? defaultBroker : path.slice(1);
    if (!broker.has(target)) return answer(404, `no Broker ${target}`);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        answer(413, 'event too large');
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (res.writableEnded) return;
      try {
        const ev = eventFromHttp(req.headers, Buffer.concat(chunks));
        if (broker.accept(target, ev)) answer(202);
        else answer(503, 'the bridge is stopping');
      } catch (e) {
        if (!(e instanceof InvalidEventError)) throw e;
        log(`ingress: refused a request to ${target}: ${e.message}`);
        answer(400, e.message);
      }
    });
  });
  // Functions keep connections alive; closing must not wait for them.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
