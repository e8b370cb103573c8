/**
 * Helpers for the bridge tests: recording subscribers (local HTTP servers with scripted
 * answers), the admin kubeconfig text, and test-local Knative YAML.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { testKubeconfig } from '../support/kube.js';

export interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Header names and values as they arrived, in order (Node's req.rawHeaders, paired). */
  rawHeaders: [string, string][];
  body: Buffer;
  json(): any;
  /** Milliseconds since the recorder started. */
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer this late (a slow function). */
  delayMs?: number;
}

export interface Recorder {
  url: string;
  requests: Recorded[];
  /** Decides each answer; default 200 with an empty body (what our functions answer). */
  answer: (req: Recorded, nth: number) => Answer;
  /** Requests whose ce-name is `name`. */
  forName(name: string): Recorded[];
  waitFor(what: string, pred: (r: Recorded) => boolean, timeoutMs?: number): Promise<Recorded>;
  close(): Promise<void>;
}

export async function startRecorder(): Promise<Recorder> {
  const started = Date.now();
  const rec: Recorder = {
    url: '',
    requests: [],
    answer: () => ({ status: 200 }),
    forName: (name) => rec.requests.filter((r) => r.headers['ce-name'] === name),
    async waitFor(what, pred, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = rec.requests.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) {
          const seen = rec.requests.map((r) => `${r.headers['ce-type']} ${r.headers['ce-name'] ?? r.headers['ce-source']}`).join('; ');
          throw new Error(`${what}: not received within ${timeoutMs} ms (received: ${seen || 'nothing'})`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const r: Recorded = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders.flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1]!] as [string, string]] : [])),
        body,
        json: () => JSON.parse(body.toString('utf8')),
        at: Date.now() - started,
      };
      rec.requests.push(r);
      const a = rec.answer(r, rec.requests.length);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(a.status, a.headers);
        res.end(a.body);
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  rec.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return rec;
}

/** The admin kubeconfig text (refuses anything but the test control plane). */
export function adminKubeconfigText(): string {
  return testKubeconfig();
}

/** The API server URL the ApiServerSource events carry as `source`. */
export function apiServerUrl(): string {
  return process.env.KMF_TEST_SERVER!.replace(/\/+$/, '');
}

/** YAML for several documents. */
export function yamlDocs(...docs: object[]): string {
  return docs.map((d) => stringify(d)).join('---\n');
}

export function broker(namespace: string, name = 'default'): object {
  return { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', metadata: { name, namespace } };
}

export function trigger(namespace: string, name: string, spec: Record<string, unknown>): object {
  return { apiVersion: 'eventing.knative.dev/v1', kind: 'Trigger', metadata: { name, namespace }, spec: { broker: 'default', ...spec } };
}

export function serviceRef(name: string): object {
  return { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name } };
}

export function apiServerSource(namespace: string, name: string, resources: object[], extra: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'sources.knative.dev/v1',
    kind: 'ApiServerSource',
    metadata: { name, namespace },
    spec: {
      mode: 'Resource',
      resources,
      sink: { ref: { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: 'default' } },
      ...extra,
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
