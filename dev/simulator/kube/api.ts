/**
 * The simulator's access to the API server: the project's REST client for requests, and for
 * streaming watches (dev/kube/watch.ts) when we hold the connection (kubeconfig text). Given
 * only a KubeClient-like object we cannot stream, so the reflectors fall back to list polling.
 */
import { connectionFromKubeconfig, type Connection } from '../../../shared/kube/kubeconfig.js';
import { ApiError, KubeClient, NetworkError } from '../../../shared/kube/rest.js';
import type { KubeClientLike } from '../options.js';

export interface KubeApi {
  request<T = any>(
    method: string,
    path: string,
    opts?: { query?: Record<string, string | number | boolean | undefined>; body?: unknown; contentType?: string },
  ): Promise<T>;
  /** The client watches go through; undefined when only polling is possible. */
  kube?: KubeClient;
  /** Releases sockets we opened (never a caller-owned client's). */
  close(): void;
}

/** `impersonate`: whom to act as (only with kubeconfig text; a caller's client is used as is). */
export function kubeApiFrom(kubeconfig: string | KubeClientLike, impersonate?: Connection['impersonate']): KubeApi {
  if (typeof kubeconfig !== 'string') {
    return { request: (m, p, o) => kubeconfig.request(m, p, o), close: () => {} };
  }
  const client = new KubeClient({ ...connectionFromKubeconfig(kubeconfig), ...(impersonate ? { impersonate } : {}) });
  return {
    request: (m, p, o) => client.request(m, p, o),
    kube: client,
    close: () => client.close(),
  };
}

/** HTTP status of a failed request, or undefined (network errors and anything else). */
export function statusOf(e: unknown): number | undefined {
  if (e instanceof ApiError) return e.status;
  const s = (e as { status?: unknown; code?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

export const isNotFound = (e: unknown): boolean => statusOf(e) === 404;
export const isConflict = (e: unknown): boolean => statusOf(e) === 409;

/** Worth retrying later: network trouble, conflicts, throttling, server errors. */
export function isTransient(e: unknown): boolean {
  if (e instanceof NetworkError) return true;
  const s = statusOf(e);
  return s === undefined || s === 408 || s === 409 || s === 429 || s >= 500;
}
