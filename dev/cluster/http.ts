/**
 * Minimal HTTP(S) requests for start-up probes. Plain node:http(s) keeps readiness polling
 * free of client-node's ~0.5 s import cost and of keep-alive agents that would hold the
 * event loop open after the control plane stops.
 */
import http from 'node:http';
import https from 'node:https';

export interface TlsIdentity {
  ca: string;
  cert?: string;
  key?: string;
}

export interface HttpResponse {
  status: number;
  body: string;
}

export interface RequestOptions {
  method?: string;
  tls?: TlsIdentity;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

export function request(url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: false,
        timeout: opts.timeoutMs ?? 5000,
        ...(opts.tls ? { ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 5000} ms: ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Polls `probe` every `intervalMs` until it returns true; throws with the last error or
 * `what` after `timeoutMs`. `abort` lets a dead component end the wait at once.
 */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  { timeoutMs, intervalMs = 100, abort }: { timeoutMs: number; intervalMs?: number; abort?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const reason = abort?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    try {
      if (await probe()) return;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms${last ? ` (last error: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
