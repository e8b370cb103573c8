/**
 * A raw request with a KubeConfig's credentials and the body sent byte for byte.
 *
 * Why not client-node's KubernetesObjectApi: it re-serialises bodies through its typed
 * models, which know `x-kubernetes-int-or-string` only as `xKubernetesIntOrString`, so a
 * CRD read from YAML loses every `x-kubernetes-*` key on the way out (the apiserver then
 * rejects KubeVirt's int-or-string quantities, and preserve-unknown-fields silently
 * disappears). Also used for what the typed clients cannot ask for, e.g. Table output.
 */
import https from 'node:https';

export interface KubeResponse {
  status: number;
  body: string;
}

/**
 * What kubeRequest needs from a kubeconfig. client-node's KubeConfig satisfies it; the
 * control plane passes a tiny object instead, sparing its start-up the client-node import.
 */
export interface Credentials {
  getCurrentCluster(): { server: string } | null;
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

export async function kubeRequest(
  kc: Credentials,
  method: string,
  path: string,
  { body, headers = {} }: { body?: string; headers?: Record<string, string> } = {},
): Promise<KubeResponse> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('kubeconfig has no current cluster');
  const opts: https.RequestOptions = { agent: false };
  await kc.applyToHTTPSOptions(opts); // CA, client cert/key or bearer token header
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, server), { ...opts, method, headers: { ...opts.headers, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Watches `path` (add `?watch=true&resourceVersion=…` yourself) until `onEvent` returns
 * true; rejects when the stream fails or ends first, or after `timeoutMs`.
 */
export async function kubeWatch(
  kc: Credentials,
  path: string,
  onEvent: (type: string, object: unknown) => boolean,
  timeoutMs: number,
): Promise<void> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('kubeconfig has no current cluster');
  const opts: https.RequestOptions = { agent: false };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`watch ${path}: timeout after ${timeoutMs} ms`)), timeoutMs);
    const req = https.request(new URL(path, server), { ...opts, method: 'GET', headers: { ...opts.headers, accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        finish(new Error(`watch ${path}: HTTP ${res.statusCode}`));
        return;
      }
      // One JSON event per line; a line may arrive in several chunks.
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line.trim() === '') continue;
          const event = JSON.parse(line) as { type: string; object: unknown };
          if (event.type === 'ERROR') return finish(new Error(`watch ${path}: ${JSON.stringify(event.object)}`));
          if (onEvent(event.type, event.object)) return finish();
        }
      });
      res.on('end', () => finish(new Error(`watch ${path}: stream ended early`)));
      res.on('error', finish);
    });
    req.on('error', finish);
    req.end();
  });
}
