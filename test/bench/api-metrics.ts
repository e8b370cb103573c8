/**
 * Server-side request counts from kube-apiserver's own `apiserver_request_total` metric: what
 * a client really sent, counted at the API server's HTTP layer, per verb and resource.
 */
import type { KubeClient } from '../../shared/kube/rest.js';

export type Counts = Map<string, number>;

export async function requestCounts(admin: KubeClient, resources: string[]): Promise<Counts> {
  const text = await admin.request<string>('GET', '/metrics', { raw: true });
  return parse(text, resources);
}

/** Sums `apiserver_request_total` by `verb resource` for the given resources. */
export function parse(text: string, resources: string[]): Counts {
  const out: Counts = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!resources.includes(labels.resource)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? '/' + labels.subresource : ''}`;
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

export function diff(after: Counts, before: Counts): Counts {
  const out: Counts = new Map();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

export const total = (c: Counts): number => [...c.values()].reduce((a, b) => a + b, 0);
