/**
 * Writes that never touch someone else's object, and do not write when nothing changed.
 *
 * Server-side apply with `force` would happily take over a foreign object of the same name, and
 * SSA has no "only if absent" precondition. So an object we do not know yet is created with
 * POST under our field manager (409 AlreadyExists if the name is taken). Otherwise we read it:
 * the ownership label decides (foreign → collision, untouched); ours and already as desired →
 * no write; ours and drifted → server-side apply with its UID in the body, which the API server
 * checks as a precondition (409 if the name meanwhile holds another object).
 */
import { ApiError, type KubeClient } from '../kube/rest.js';
import { apiVersionOf, collectionPath, objectPath, type Kind } from '../kube/paths.js';
import { isOwnedBy } from './ownership.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    resourceVersion?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export type ApplyResult<T> = { kind: 'applied'; object: T; created: boolean } | { kind: 'collision'; existing: KubeObject };

const isConflict = (e: unknown): boolean => e instanceof ApiError && e.status === 409;

/** True when every field of `want` has the same value in `have` (the API server only adds defaults). */
export function isSubset(have: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object') return have === want;
  if (have === null || typeof have !== 'object') return false;
  if (Array.isArray(want)) {
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => isSubset(have[i], w));
  }
  return Object.entries(want as Record<string, unknown>).every(([k, v]) => isSubset((have as Record<string, unknown>)[k], v));
}

/**
 * Makes `body` (ours, labelled with `machineUid`) exist as desired unless a foreign object holds
 * the name. `knownToExist`: we created it before (skip straight to the read). `prefetched`: that
 * read, when the caller already made it (it replaces the first GET).
 */
export async function applyOwned<T extends KubeObject>(
  kube: KubeClient,
  k: Kind,
  body: T,
  machineUid: string,
  knownToExist = false,
  prefetched?: { object: KubeObject | undefined },
): Promise<ApplyResult<T>> {
  const ns = body.metadata.namespace!;
  const path = objectPath(k, ns, body.metadata.name);
  const typed = { ...body, apiVersion: apiVersionOf(k), kind: k.kind } as T;
  const create = () => kube.create<T>(collectionPath(k, ns), typed);
  if (!knownToExist) {
    try {
      return { kind: 'applied', object: await create(), created: true };
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }
  const existing = prefetched && knownToExist ? (prefetched.object as T | undefined) : await kube.get<T>(path);
  if (!existing) return { kind: 'applied', object: await create(), created: true };
  if (!isOwnedBy(existing, machineUid)) return { kind: 'collision', existing };
  if (isSubset(existing, typed)) return { kind: 'applied', object: existing, created: false };
  const object = await kube.apply<T>(path, { ...typed, metadata: { ...typed.metadata, uid: existing.metadata.uid } });
  return { kind: 'applied', object, created: false };
}

/** Lists objects by label selector in one namespace. */
export async function listByLabel<T = KubeObject>(kube: KubeClient, k: Kind, namespace: string, labelSelector: string): Promise<T[]> {
  const res = await kube.request<{ items?: T[] }>('GET', collectionPath(k, namespace), { query: { labelSelector } });
  return res.items ?? [];
}
