/**
 * Writes that never touch someone else's object.
 *
 * Server-side apply with `force` would happily take over a foreign object of the same name, and
 * SSA has no "only if absent" precondition. So: an object we do not know yet is created with
 * POST (409 AlreadyExists if the name is taken); an object we know is applied with its UID in
 * the body, which the API server checks as a precondition (409 "uid mismatch" if the name now
 * holds a different object, or none). Either refusal leads to a read, and the ownership label
 * decides: ours → apply with its UID; foreign → collision, untouched.
 */
import { ApiError, type KubeClient } from '../kube/rest.js';
import { apiVersionOf, collectionPath, objectPath, type Kind } from '../kube/paths.js';
import { isOwnedBy } from './ownership.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export type ApplyResult<T> = { kind: 'applied'; object: T; created: boolean } | { kind: 'collision'; existing: KubeObject };

const isConflict = (e: unknown): boolean => e instanceof ApiError && e.status === 409;

/** Creates or applies `body` (ours, labelled with `machineUid`) unless a foreign object holds the name. */
export async function applyOwned<T extends KubeObject>(
  kube: KubeClient,
  k: Kind,
  body: T,
  machineUid: string,
  knownUid?: string,
): Promise<ApplyResult<T>> {
  const ns = body.metadata.namespace!;
  const path = objectPath(k, ns, body.metadata.name);
  const typed = { ...body, apiVersion: apiVersionOf(k), kind: k.kind };
  const applyTo = (uid: string) => kube.apply<T>(path, { ...typed, metadata: { ...typed.metadata, uid } });
  try {
    if (knownUid) return { kind: 'applied', object: await applyTo(knownUid), created: false };
    return { kind: 'applied', object: await kube.create<T>(collectionPath(k, ns), typed), created: true };
  } catch (e) {
    if (!isConflict(e)) throw e;
  }
  const existing = await kube.get<KubeObject>(path);
  if (!existing) return { kind: 'applied', object: await kube.create<T>(collectionPath(k, ns), typed), created: true };
  if (!isOwnedBy(existing, machineUid)) return { kind: 'collision', existing };
  return { kind: 'applied', object: await applyTo(existing.metadata.uid!), created: false };
}

/** Lists objects by label selector in one namespace. */
export async function listByLabel<T = KubeObject>(kube: KubeClient, k: Kind, namespace: string, labelSelector: string): Promise<T[]> {
  const res = await kube.request<{ items?: T[] }>('GET', collectionPath(k, namespace), { query: { labelSelector } });
  return res.items ?? [];
}
