/**
 * A Broker ingress stand-in between the functions (their K_SINK) and the stack's real bridge
 * ingress: forwards every follow-up and re-announcement while up, records the follow-ups, and
 * answers 503 (as an unavailable Broker ingress does) while `down`, counting what it refused.
 * Only the functions' outgoing events pass through it: ApiServerSource and PingSource deliveries
 * go from the bridge to the functions directly, so an outage here is exactly a Broker (sink)
 * outage as the functions see it.
 */
import http from 'node:http';
import { HTTP, type CloudEventV1 } from 'cloudevents';

export interface ForwardingSink {
  url: string;
  /** Where events go while up (the bridge's ingress); set once the stack runs. */
  target?: string;
  down: boolean;
  /** Events forwarded and accepted by the target, in arrival order. */
  delivered: CloudEventV1<any>[];
  /** Events answered 503 because the sink was down. */
  refused: number;
  close(): Promise<void>;
}

export async function startForwardingSink(): Promise<ForwardingSink> {
  const sink: ForwardingSink = {
    url: '',
    down: false,
    delivered: [],
    refused: 0,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (sink.down || !sink.target) {
        sink.refused++;
        res.statusCode = 503;
        return res.end();
      }
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      try {
        const out = await fetch(sink.target, { method: 'POST', headers, body });
        await out.arrayBuffer();
        if (out.ok) sink.delivered.push(HTTP.toEvent({ headers, body: body.toString('utf8') }) as CloudEventV1<any>);
        res.statusCode = out.status;
      } catch {
        res.statusCode = 502;
      }
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  sink.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  return sink;
}
