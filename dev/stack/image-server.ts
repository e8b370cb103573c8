/**
 * A loopback HTTP server for disk images: what the preflight probes and CDI's importer (run by
 * the simulator) downloads (`npm start` serves a generated raw disk so it works offline; tests
 * add other formats). Range requests are honoured; any file can be withdrawn (404 from then on).
 */
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';

export interface ImageServer {
  url(name: string): string;
  files: Map<string, Buffer>;
  /** Stop serving `name` (404 from now on). */
  withdraw(name: string): void;
  /** Every request; a full body was served for the GETs without `range` that found the file. */
  requests: { method: string; path: string; range?: string }[];
  close(): Promise<void>;
}

/** A small raw "disk": an MBR boot signature and some payload, enough for every sniff. */
export function rawDisk(size = 256 * 1024): Buffer {
  const b = Buffer.alloc(size);
  randomBytes(4096).copy(b, 512);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

/**
 * A strong ETag from the content, as static file servers send one: a file replaced under the
 * same name (re-published) gets a new one, which is what keys the golden image cache.
 */
const etags = new WeakMap<Buffer, string>();
function etagOf(body: Buffer): string {
  let tag = etags.get(body);
  if (!tag) etags.set(body, (tag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`));
  return tag;
}

export async function startImageServer(files: Map<string, Buffer> = new Map([['ubuntu.img', rawDisk()]]), port = 0): Promise<ImageServer> {
  const requests: ImageServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split('?')[0].replace(/^\//, ''));
    requests.push({ method: req.method ?? '', path: name, range: req.headers.range });
    const body = files.get(name);
    if (!body) {
      res.statusCode = 404;
      res.statusMessage = 'Not Found';
      return res.end('404 page not found\n');
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      const end = Math.min(body.length - 1, m[2] ? Number(m[2]) : body.length - 1);
      res.writeHead(206, {
        'content-range': `bytes ${start}-${end}/${body.length}`,
        'content-length': end - start + 1,
        'accept-ranges': 'bytes',
        etag: etagOf(body),
      });
      return res.end(body.subarray(start, end + 1));
    }
    res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes', etag: etagOf(body) });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    url: (name) => `http://127.0.0.1:${bound}/${name}`,
    files,
    withdraw: (name) => void files.delete(name),
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
