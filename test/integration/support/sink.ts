/**
 * A test event sink: receives follow-up CloudEvents as a Broker ingress would (202), records
 * them, and can be switched to fail (503) or closed to simulate an outage.
 */
import http from 'node:http';
import { HTTP, type CloudEventV1 } from 'cloudevents';

export interface TestSink {
  url: string;
  events: CloudEventV1<any>[];
  /** Raw headers per received event, for mode checks. */
  headers: http.IncomingHttpHeaders[];
  failWith?: number;
  ofType(type: string): CloudEventV1<any>[];
  waitFor(pred: (e: CloudEventV1<any>) => boolean, timeoutMs?: number): Promise<CloudEventV1<any>>;
  close(): Promise<void>;
}

export async function startSink(): Promise<TestSink> {
  const sink: TestSink = {
    url: '',
    events: [],
    headers: [],
    ofType: (t) => sink.events.filter((e) => e.type === t),
    async waitFor(pred, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = sink.events.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline)
          throw new Error(`no matching event at the sink after ${timeoutMs} ms; got ${sink.events.map((e) => e.type).join(', ')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (sink.failWith) {
        res.statusCode = sink.failWith;
        return res.end();
      }
      const ev = HTTP.toEvent({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
      sink.events.push(ev as CloudEventV1<any>);
      sink.headers.push(req.headers);
      res.statusCode = 202;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  sink.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  return sink;
}
